"""``diagnostics.jsonl`` lines as standard JSON (RFC 8259 has no NaN or Infinity).

A record's non-finite numbers are evidence (a NaN gradient is not a missing one), but bare
``NaN``/``Infinity`` tokens are refused by strict parsers (JavaScript's ``JSON.parse``, Go,
serde_json, jq before 1.7). So a top-level non-finite float is written as ``null`` and named in
``"nonfinite_values": {"grad_norm": "nan", "act_std": "inf"}``; :func:`decode_record` puts the
floats back. A ``null`` not named there is a value that was not recorded.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["NONFINITE_KEY", "encode_record", "decode_record"]

NONFINITE_KEY = "nonfinite_values"
_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with each top-level NaN/±Inf float as None, named in
    ``NONFINITE_KEY`` (absent when every number is finite)."""
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for key, value in record.items():
        if hasattr(value, "item") and not isinstance(value, str):  # a numpy or torch scalar
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            names[key] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
            value = None
        out[key] = value
    if names:
        out[NONFINITE_KEY] = names
    return out


def decode_record(row: dict[str, Any]) -> dict[str, Any]:
    """The record :func:`encode_record` wrote: the named fields are NaN/±Inf again (a line
    written before this encoding, with bare ``NaN`` tokens, is returned as it is)."""
    names = row.get(NONFINITE_KEY)
    if not isinstance(names, dict):
        return row
    out = {k: v for k, v in row.items() if k != NONFINITE_KEY}
    for key, name in names.items():
        if key in out and out[key] is None and name in _NAMES:
            out[key] = _NAMES[name]
    return out
