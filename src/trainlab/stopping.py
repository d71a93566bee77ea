"""Early stopping's rule, one epoch at a time: the trainer applies it, and the report of a killed
run replays it over ``metrics.jsonl`` (no torch here).

A model stops after ``patience`` epochs in a row without a better value of its metric (lower
``val_loss``; for an accuracy, the negated value), no ``min_delta``: a NaN is never better."""

from __future__ import annotations

__all__ = ["early_stopping_update"]


def early_stopping_update(
    best: float, bad_epochs: int, value: float, patience: int
) -> tuple[float, int, bool]:
    """``(best, bad_epochs, stop)`` after an epoch whose (lower-is-better) metric is ``value``:
    a better value resets the count, any other adds one, and ``patience`` of them stop."""
    if value < best:
        return value, 0, False
    return best, bad_epochs + 1, bad_epochs + 1 >= patience
