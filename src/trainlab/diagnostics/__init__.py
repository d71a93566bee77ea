"""Training diagnostics for any ``nn.Module`` or population: per-layer statistics and a verdict.

- :func:`watch` — ``with watch(model, every=50) as w: ...``; ``w.records()`` gives one dict per
  (model, layer, sampled step): activation mean/std/histogram, dead and saturated fractions,
  gradient norm, weight norm, update/weight ratio, non-finite flag.
- :func:`verdict` — health findings with stated thresholds (vanishing/exploding gradients,
  collapsing/exploding activations, saturation, dying ReLU, update ratio, NaN/Inf origin);
  :func:`verdict_table` renders them as a rich table.
- :func:`histogram_grid`, :func:`layer_profile` — figures of the records (matplotlib ``Figure``):
  per-layer activation histograms at sampled steps, and per-layer std / gradient / update
  profiles at the first and last sampled step.
- :mod:`.stats` — the statistics themselves, on tensors with a leading model axis.
"""

from __future__ import annotations

from . import stats
from .figures import histogram_grid, layer_profile
from .verdict import Finding, Thresholds, verdict, verdict_table
from .watch import RECORD_FIELDS, Watch, watch, write_jsonl

__all__ = [
    "watch",
    "Watch",
    "RECORD_FIELDS",
    "write_jsonl",
    "verdict",
    "verdict_table",
    "Finding",
    "Thresholds",
    "histogram_grid",
    "layer_profile",
    "stats",
]
