"""trainlab: study and master how neural networks train.

The public surface, imported lazily (``import trainlab`` stays fast)::

    trainlab.train(config, out=...)      # train a population, write a run directory
                                         # (the module trainlab.train is callable)
    trainlab.resume(run_dir)             # continue a killed run
    trainlab.load_run(run_dir).model(i)  # model i of a run's last checkpoint, a plain module
    trainlab.load_config(path, sets)     # YAML config with --set overrides
    trainlab.Population(template, k)     # K models stacked into one module
    trainlab.data, trainlab.models, trainlab.init, trainlab.optim, trainlab.diagnostics,
    trainlab.pretrain, trainlab.report, trainlab.studies
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_ATTRS = {
    "resume": ("trainlab.train", "resume"),
    "load_run": ("trainlab.train", "load_run"),
    "Trainer": ("trainlab.train", "Trainer"),
    "RunResult": ("trainlab.train", "RunResult"),
    "Population": ("trainlab.population", "Population"),
    "Config": ("trainlab.config", "Config"),
    "load_config": ("trainlab.config", "load_config"),
    "parse_config": ("trainlab.config", "parse_config"),
    "build_report": ("trainlab.report", "build_report"),
    "run_study": ("trainlab.studies", "run_study"),
    "UserError": ("trainlab.errors", "UserError"),
    "ConfigError": ("trainlab.errors", "ConfigError"),
    "DataError": ("trainlab.errors", "DataError"),
}
_MODULES = (
    "train", "data", "models", "init", "optim", "diagnostics", "pretrain", "report", "studies",
    "rng", "config", "population", "runs", "errors",
)  # fmt: skip

__all__ = ["__version__", *_ATTRS, *_MODULES]


def _import_rich_quietly() -> None:
    """Import ``rich.style`` with Python's global ``random`` state put back: its import draws
    24 bits from it (``count(getrandbits(24))``), and every trainlab command imports rich
    lazily, so a notebook's seeded ``random`` stream moved on the first ``trainlab.train()``
    of a kernel only (~12 ms, here, once)."""
    import random
    import sys

    if "rich.style" in sys.modules:
        return
    state = random.getstate()
    try:
        import rich.style  # noqa: F401
    finally:
        random.setstate(state)


_import_rich_quietly()


def __getattr__(name: str) -> Any:
    if name in _ATTRS:
        module, attr = _ATTRS[name]
        return getattr(importlib.import_module(module), attr)
    if name in _MODULES:
        return importlib.import_module(f"trainlab.{name}")
    raise AttributeError(f"module 'trainlab' has no attribute '{name}'")


def __dir__() -> list[str]:
    """The public names too (they load lazily): tab completion and ``dir()`` list them."""
    return sorted({*globals(), *__all__})
