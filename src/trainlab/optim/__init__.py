"""Population optimizers, learning-rate schedules, gradient clipping and the LR finder.

Every optimizer steps a stacked population (parameters ``(K, ...)``) with hyperparameters that are
plain numbers or ``(K,)`` tensors of per-model values, and matches ``torch.optim`` step for step.

- :func:`create_optimizer` / :func:`list_optimizers`: ``sgd``, ``adam``, ``adamw``, …
- :func:`create_schedule` / :func:`list_schedules`: ``none``, ``step``, ``cosine``, ``sgdr``, …
- :func:`clip_grad_norm_`, :func:`clip_grad_value_`: per-model clipping.
- :class:`LBFGS`, :class:`Newton`: full-batch second-order methods, per model.
- :func:`lr_find` (LR range test, Smith 2017) and :func:`lr_sweep` (K models at K fixed LRs).
"""

from __future__ import annotations

from . import adagrad, adam, rmsprop, second_order, sgd  # noqa: F401  (register them)
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import (
    OPTIMIZERS,
    PopulationOptimizer,
    create_optimizer,
    list_optimizers,
    optimizer_options,
)
from .clip import clip_grad_norm_, clip_grad_value_, grad_norms
from .lr_find import LRFindResult, LRSweepResult, lr_find, lr_sweep
from .rmsprop import RMSprop
from .schedules import SCHEDULES, Schedule, create_schedule, list_schedules
from .second_order import LBFGS, Newton, flat_hessian
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Adagrad",
    "RMSprop",
    "LBFGS",
    "Newton",
    "flat_hessian",
    "PopulationOptimizer",
    "OPTIMIZERS",
    "create_optimizer",
    "list_optimizers",
    "optimizer_options",
    "SCHEDULES",
    "Schedule",
    "create_schedule",
    "list_schedules",
    "clip_grad_norm_",
    "clip_grad_value_",
    "grad_norms",
    "lr_find",
    "lr_sweep",
    "LRFindResult",
    "LRSweepResult",
]
