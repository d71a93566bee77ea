"""Progress of a pre-training run: every pass over the data (an RBM's, a population's, a DBN
or stacked autoencoder layer's) calls :func:`pass_done`; ``run_pretrain(progress=True)`` (the
CLI) counts them on a bar with ETA. Without a bar it does nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["pass_done", "passes_shown"]

_ON_PASS: ContextVar[Callable[[], None] | None] = ContextVar("_ON_PASS", default=None)


def pass_done() -> None:
    """One pass over the training data is done (queued, on a GPU)."""
    on_pass = _ON_PASS.get()
    if on_pass is not None:
        on_pass()


@contextmanager
def passes_shown(name: str, total: int, enabled: bool) -> Iterator[None]:
    """Show ``total`` passes of the run ``name`` on a progress bar while the body runs (in a
    terminal or a notebook; written to a log, one line per pass instead, as ``train`` writes
    one per epoch)."""
    from rich.markup import escape

    from ..train import _progress, _redraws

    bar = _progress(enabled, unit="passes")
    if bar is None:
        yield
        return
    with bar:
        task = bar.add_task(name, total=total)
        done, last = 0, time.perf_counter()

        def advance() -> None:
            nonlocal done, last
            bar.advance(task)
            done += 1
            if not _redraws(bar.console):
                now = time.perf_counter()
                line = f"{escape(name)} pass {done}/{total} ({now - last:.1f} s)"
                bar.console.print(line, soft_wrap=True)  # one whole line, however long
                last = now

        token = _ON_PASS.set(advance)
        try:
            yield
        finally:
            _ON_PASS.reset(token)
