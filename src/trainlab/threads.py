"""Temporarily set torch's intra-op thread count (tiny CPU ops run faster on one thread)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

__all__ = ["torch_threads"]

# torch.set_num_threads sets the calling thread's count and the process's default, which a
# thread takes at its first torch call: blocks open on several threads (joblib's threading
# backend) could restore each other's setting, leaving 1 as every later thread's default. The
# first block to open records the default; the last to close restores it.
_LOCK = threading.Lock()
_OPEN = 0
_DEFAULT = 0
_SET: dict[int, int] = {}  # the counts open blocks set -> how many set each
_EVER: set[int] = set()  # every count a block has set
_MINE = threading.local()  # .depth: the blocks open on this thread


def _new_thread_count() -> int:
    """The torch thread count a new thread takes: the process's default (a thread that made
    its first torch call while a block on another thread was open holds that block's count)."""
    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(torch.get_num_threads()))
    t.start()
    t.join()
    return out[0]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (``None``: leave them as they are);
    the previous count is restored afterwards, also after an exception (the process's default
    as it was before the first of several blocks open at once on different threads)."""
    global _OPEN, _DEFAULT
    if n is None:
        yield
        return
    with _LOCK:
        before = torch.get_num_threads()
        if _OPEN == 0:  # (a count an earlier block set may be one this thread inherited)
            _DEFAULT = _new_thread_count() if before in _EVER else before
        # the first block on a thread, which starts from a count a block open on another
        # thread set (a new thread takes it, not the default): it puts back the default, or a
        # pool worker keeps 1 thread after its second fit (a block nested on one thread puts
        # back its outer block's count)
        depth = getattr(_MINE, "depth", 0)
        inherited = _OPEN > 0 and depth == 0 and _SET.get(before, 0) > 0
        _OPEN += 1
        _SET[n] = _SET.get(n, 0) + 1
        _EVER.add(n)
        _MINE.depth = depth + 1
    try:
        torch.set_num_threads(n)  # (a count torch refuses closes the block again: finally)
        yield
    finally:
        with _LOCK:
            _OPEN -= 1
            _SET[n] -= 1
            _MINE.depth = depth
            torch.set_num_threads(_DEFAULT if _OPEN == 0 or inherited else before)
