"""The ``trainlab`` command line: a thin typer app over the public library functions.

Each command lives in the module of its area (``core``, ``optim``, ``pretrain``, ``diagnose``)
and registers itself on :data:`app`. User errors print one line and exit 2, no traceback.
"""

from __future__ import annotations

import importlib

from .app import app, main

__all__ = ["app", "main"]

for _name in ("core", "optim", "pretrain", "diagnose"):
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _err:  # an area not built yet
        if _err.name != f"{__name__}.{_name}":
            raise
