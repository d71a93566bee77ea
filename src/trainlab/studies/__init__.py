"""Studies: each experiment of the notes as one command that writes a run directory with tables,
figures and ``report.html``, stating the expected result from the literature next to what it
measured.

Each study is a module ``trainlab.studies.<module>`` with ``DESCRIPTION: str`` and
``run(out: Path, *, quick: bool = False, seeds: int | None = None, device: str = "auto",
renumber: bool = False) -> Path``; ``run`` claims ``out`` with :func:`claim_study_dir`.
"""

from __future__ import annotations

import importlib
import importlib.util
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from ..devices import autocast_off
from ..errors import in_chain, note_interrupt, out_of_memory, shell_path, unknown_name
from .cells import SHOW_PROGRESS

if TYPE_CHECKING:
    from ..runs import RunDir

__all__ = [
    "band_text",
    "claim_study_dir",
    "claims_summary",
    "list_studies",
    "run_study",
    "seeds_text",
    "spread_text",
]

#: study name -> module name in this package
_STUDIES = {
    "activations": "activations",
    "init": "init_study",
    "optimizers-2d": "optimizers_2d",
    "optimizers": "optimizers",
    "preprocessing": "preprocessing",
    "clipping": "clipping",
    "pretraining": "pretraining",
}


def seeds_text(n: int) -> str:
    """``"1 seed"``, ``"5 seeds"``: a count of seeds as the studies' texts print it."""
    return f"{n} seed" if n == 1 else f"{n} seeds"


def spread_text(n: int, what: str = "mean ± std", over: str = "seeds") -> str:
    """``"mean ± std over seeds"``; ``"one seed"`` for ``n = 1`` (no spread was measured)."""
    return f"{what} over {over}" if n > 1 else "one seed"


def band_text(n: int, over: str = "seeds") -> str:
    """A curve figure's band caption: ``"band: ±1 std over seeds, within their range"``
    (:func:`trainlab.studies.cells.curve_band`); with one seed there is no band, and the caption
    says so."""
    return f"band: ±1 std over {over}, within their range" if n > 1 else "one seed: no band"


def claims_summary(study_dir: str | Path) -> str | None:
    """One line counting a finished study's claims by verdict, read from its report's claims
    table (``report_sections.json``: the first table titled "Expected …" or "Claims …", whose
    last column is the verdict): ``"claims, by verdict: confirmed 2, inconclusive 4, not tested
    in quick mode 7"``, or ``"claims, by holds: yes 3"``. A verdict's words before its
    parenthesis count (``"inconclusive (within seed noise)"`` is ``inconclusive``). None where
    the study lays out no such table (``pretraining`` lists its claims as text) or its report
    cannot be read."""
    import json
    from collections import Counter

    try:
        sections = json.loads((Path(study_dir) / "report_sections.json").read_text("utf-8"))
        table = next(
            s
            for s in sections["sections"]
            if s.get("kind") == "table" and str(s.get("title")).startswith(("Expected", "Claims"))
        )
        column, rows = table["columns"][-1], table["rows"]
        verdicts = [str(r[-1] if isinstance(r, list) else r[column]).split(" (")[0] for r in rows]
    except (OSError, ValueError, KeyError, IndexError, TypeError, StopIteration):
        return None
    if not verdicts:
        return None
    counts = ", ".join(f"{v} {n}" for v, n in Counter(verdicts).items())  # (first-seen order)
    return f"claims, by {column}: {counts}"


def claim_study_dir(out: str | Path, *, renumber: bool = False) -> RunDir:
    """Make and claim a study's new folder ``out`` (:meth:`trainlab.runs.RunDir.create`: atomic,
    never an existing non-empty folder; with ``renumber``, for a name trainlab chose, the next
    free ``<name>-N`` when another process took it first). A study checkpoints no run at its
    root, so the claim's ``checkpoints/`` is removed (``.lock`` stays)."""
    from ..runs import RunDir

    run_dir = RunDir(out).create(renumber=renumber)
    (run_dir.path / "checkpoints").rmdir()
    _CLAIMED.set(run_dir.path)
    return run_dir


#: the folder the running study claimed, for the Ctrl-C note of :func:`run_study`
_CLAIMED: ContextVar[Path | None] = ContextVar("trainlab_study_dir", default=None)


def _available() -> dict[str, str]:
    return {n: m for n, m in _STUDIES.items() if importlib.util.find_spec(f"{__name__}.{m}")}


def list_studies() -> list[tuple[str, str]]:
    """``(name, description)`` of every study that is installed."""
    out = []
    for name, mod in _available().items():
        out.append((name, importlib.import_module(f"{__name__}.{mod}").DESCRIPTION))
    return out


@autocast_off()  # (in a caller's torch.autocast: float32, as outside it)
def run_study(
    name: str,
    out: str | Path | None = None,
    *,
    quick: bool = False,
    seeds: int | None = None,
    device: str = "auto",
    progress: bool = False,
) -> Path:
    """Run study ``name``; writes ``out`` (default ``runs/study-<name>``, ``-quick`` added in
    quick mode, then ``-2``, ``-3``, ... if taken) and returns it. ``progress``: each training
    shows trainlab's progress bar (one line per epoch in a log file), as ``trainlab study``."""
    studies = _available()
    if name not in studies:
        raise unknown_name("study", name, studies)
    from ..devices import resolve_device
    from ..malloc import _env_on

    resolve_device(device)  # a bad --device is refused before any folder is made, and so is
    _env_on("TRAINLAB_KEEP_FREED_MEMORY")  # a bad value of this (read by the first trainer)
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        from ..errors import UserError

        raise UserError(f"--seeds must be at least 1 (whole models per cell), got {seeds!r}")
    module = importlib.import_module(f"{__name__}.{studies[name]}")
    if out is None:  # runs/study-<name>[-quick], or -2, -3, ... if taken (as train does)
        from ..train import default_run_dir

        out, renumber = default_run_dir(f"study-{name}{'-quick' if quick else ''}"), True
    else:
        renumber = False  # the user's --out: refused when taken, never renamed
    token, shown = _CLAIMED.set(None), SHOW_PROGRESS.set(bool(progress))
    try:
        return module.run(out, quick=quick, seeds=seeds, device=device, renumber=renumber)
    except BaseException as err:  # a Ctrl-C, a full disk, out of memory: not a cell's resume
        claimed = _CLAIMED.get()
        interrupted = in_chain(err, KeyboardInterrupt) is not None  # (or an error raised over
        oom = not interrupted and isinstance(err, MemoryError | RuntimeError)  # a Ctrl-C)
        if not (interrupted or oom or isinstance(err, OSError)):
            raise  # (a cell's own error: its message says what to fix)
        if oom and not out_of_memory(err):
            raise
        complete = f"the run {shell_path(claimed)} is complete" if claimed is not None else None
        if complete and any(n.startswith(complete) for n in getattr(err, "__notes__", None) or []):
            raise  # (stopped while report.html rendered: the study is complete, its note says)
        if claimed is not None:  # a study does not resume: its folder is kept, as it is
            note = (
                f"the study in {shell_path(claimed)} is incomplete (studies do not resume); "
                "run it again with another --out, or delete that folder first"
            )
            if interrupted:
                note_interrupt(err, note)
            elif oom:  # instead of the cell's own note (resume the cell, reuse its --out)
                err.__notes__ = [note]
            else:
                err.add_note(f"run the study again (its folder {shell_path(claimed)} is "
                             "incomplete: use another --out, or delete it first)")  # fmt: skip
        raise
    finally:
        _CLAIMED.reset(token)
        SHOW_PROGRESS.reset(shown)
