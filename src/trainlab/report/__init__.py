"""Reports of a run directory: figures (``figures/*.png``) and a self-contained ``report.html``.

- :func:`aggregate` — mean, std (ddof=1) and Student-t 95% CI of a metric over seeds.
- :func:`build_report` — the standard report of a run (curves, tables, NaN flags, diagnostics)
  plus any sections a study added.
- :class:`Report` — what studies use to add their own figures, tables and text.
"""

from __future__ import annotations

from .stats import aggregate

__all__ = ["aggregate", "build_report", "Report"]


def __getattr__(name: str):  # lazy: the trainer imports aggregate without paying for matplotlib
    if name in ("build_report", "Report"):
        from . import html

        return getattr(html, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
