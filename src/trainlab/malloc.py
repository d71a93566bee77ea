"""Keep freed memory in the process while training on the CPU (Linux, glibc only).

glibc's ``malloc`` serves a block above ``M_MMAP_THRESHOLD`` with a fresh ``mmap`` and gives
freed memory at the top of the heap back to the OS once it exceeds ``M_TRIM_THRESHOLD``. A
population's activations, gradients and optimizer temporaries are megabytes each and are freed
and allocated again every step, so with the defaults every step touches fresh pages, one page
fault per 4 KiB. Measured on this project's 2-core VM (digits MLP 64-256-256-10, K=16, Adam,
``Trainer.step_on``, CPU time, three alternating runs): 290-720 page faults and 20.3-23.5 ms
per step with glibc's defaults, 0 and 17.2-20.5 ms with the settings below (in the population
benchmark's wall-clock rates, +2-3%).

:func:`keep_freed_memory` raises both thresholds (``M_MMAP_THRESHOLD`` = 32 MiB, glibc's
maximum; ``M_TRIM_THRESHOLD`` = 1 GiB; ``M_TOP_PAD`` = 64 MiB), once per process. The cost: the
process keeps up to its peak heap after the peak has passed (as PyTorch's CUDA caching
allocator does on the GPU). The settings stay for the rest of the process (glibc has no way
to go back to its adaptive defaults). Set ``TRAINLAB_KEEP_FREED_MEMORY=0`` to leave malloc
alone (``false``, ``off``, ``no`` too; ``1``, ``true``, ``on``, ``yes`` or unset: raise them; any
other value is an error); other C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

from .errors import UserError

__all__ = ["keep_freed_memory"]

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc <malloc.h>
MMAP_THRESHOLD = 32 << 20  # glibc's maximum (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 1 << 30
TOP_PAD = 64 << 20

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if they are raised.

    False (and nothing changed) off Linux/glibc or with ``TRAINLAB_KEEP_FREED_MEMORY=0``.
    """
    global _done
    if _done is not None:
        return _done
    if not _env_on("TRAINLAB_KEEP_FREED_MEMORY"):
        _done = False
        return False
    _done = False
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                (M_TOP_PAD, TOP_PAD))  # fmt: skip
    _done = all([mallopt(option, value) == 1 for option, value in settings])  # all three, always
    return _done


_OFF, _ON = ("0", "false", "off", "no"), ("", "1", "true", "on", "yes")


def _env_on(name: str) -> bool:
    """A yes/no environment variable, on when unset; a value that is neither is a UserError."""
    value = os.environ.get(name, "1").strip().lower()
    if value in _OFF or value in _ON:
        return value not in _OFF
    raise UserError(f"{name}={os.environ[name]!r} is not a yes/no value; set it to 0 or 1")
