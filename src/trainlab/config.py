"""Run configuration: pydantic models loaded from YAML, with ``--set a.b=value`` overrides.

Unknown keys are rejected with a "did you mean" hint. Sections that pass keyword arguments on
to a factory (``model``, ``init``, ``optim``, ``schedule``, ``data.options``) accept extra keys
and are checked against that factory's signature when a run is built.

A population is ``seeds × variants × grid``: every combination of one seed, one entry of
``population.variants`` (a dict of overrides) and one point of ``population.grid`` (a dict of
lists, expanded as a product). Override keys name a config field: ``optim.lr``,
``optim.weight_decay``, ``optim.momentum``, ``optim.betas``, any other ``optim.*`` number,
``init.scheme`` and ``init.*``, ``model.dropout``.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import itertools
import math
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import ConfigError, UserError, did_you_mean, short_repr

__all__ = [
    "Config",
    "DataConfig",
    "ModelConfig",
    "InitConfig",
    "OptimConfig",
    "ScheduleConfig",
    "TrainConfig",
    "PopulationConfig",
    "Member",
    "load_config",
    "parse_config",
    "dump_config",
    "dump_yaml",
    "apply_sets",
    "set_key",
    "keys_given",
    "members",
    "schedule_epochs",
    "schedule_kwargs",
    "OVERRIDABLE",
]

#: the keys that may vary per model inside one population: a trailing "." is a prefix (any
#: option of that section), anything else is the key itself
OVERRIDABLE = ("optim.", "init.", "schedule.", "model.dropout")


def _overridable(key: str) -> bool:
    return any(
        key.startswith(o) and len(key) > len(o) if o.endswith(".") else key == o
        for o in OVERRIDABLE
    )


_NUMBERS = (int, float, int | None, float | None)


_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+(_\d+)*\s*")


def takes_type(annotation: Any, *kinds: type) -> bool:
    """Whether a field's type takes one of ``kinds`` (``int | None``, ``list[int]``, ...)."""
    return annotation in kinds or any(takes_type(a, *kinds) for a in get_args(annotation))


def refuse_integer_text(annotation: Any, value: Any, hint: str = "") -> None:
    """A ValueError for text given to an integer field (one, or a list) that is not an integer:
    pydantic reads the text ``"0-9"`` as the integer -9 (``seeds: [0-9]``, the CLI's range
    written in a file, trained one model with seed -9); ``hint`` ends the message."""
    if not takes_type(annotation, int) or takes_type(annotation, str):
        return
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, str) and not _INTEGER_TEXT.fullmatch(v):
            raise ValueError(f"expected an integer, got the text {v!r}{hint}")


#: the hint for a range given as a seed in a file (``trainlab train``'s --seeds takes ranges)
SEEDS_HINT = " (a range is the CLI's --seeds 0-9; in a file, list the seeds: [0, 1, 2])"


class _NoBoolNumbers(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        annotation = cls.model_fields[info.field_name].annotation
        # pydantic reads true as 1: `--set train.epochs=true` would train one epoch
        if isinstance(value, bool) and annotation in _NUMBERS:
            raise ValueError(f"expected a number, got {str(value).lower()}")
        hint = SEEDS_HINT if info.field_name == "seeds" else ""
        refuse_integer_text(annotation, value, hint)  # ("0-9" is not -9)
        return value


class _Strict(_NoBoolNumbers):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


#: keyword arguments the trainer passes a section's factory itself (from the data, the run)
RESERVED = {
    "model": ("input_shape", "num_classes"),
    "init": ("generator", "data", "model"),
    "optim": ("params",),
    "schedule": ("base_lr", "total_steps", "steps_per_epoch"),
}


class _Open(_NoBoolNumbers):
    """A section whose extra keys are keyword arguments of a registered factory."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, allow_inf_nan=False)
    _section: ClassVar[str] = ""

    @model_validator(mode="after")
    def _no_reserved_keys(self) -> _Open:
        for key in RESERVED.get(self._section, ()):
            if key in (self.model_extra or {}):
                raise ValueError(
                    f"{self._section}.{key} is set by the trainer (from the data and the run); "
                    "remove it"
                )
        return self

    def kwargs(self, *exclude: str) -> dict[str, Any]:
        """Every field and extra key, minus ``exclude`` (e.g. the factory's name)."""
        return {k: v for k, v in self.model_dump().items() if k not in exclude}


class DataConfig(_Strict):
    """Which data set, how it is split and preprocessed (see ``trainlab datasets``)."""

    name: str = "digits"
    seed: int = Field(0, ge=0)
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    preprocess: str = "none"
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _own_keys_not_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """``data.options`` holds the data set's own options; a ``data`` key there is a mistake
        (``load`` would get it twice)."""
        for key in options:
            if key in cls.model_fields:
                if key == "seed":  # (mnist1d, spirals, blobs, teacher: their generator's)
                    raise ValueError(
                        "'seed' is a key of data itself (the train/val/test split's seed), not "
                        "a data set option: write data.seed for the split, or "
                        "data.options.data_seed for a generated data set's own seed"
                    )
                raise ValueError(
                    f"'{key}' is a key of data itself, not a data set option; "
                    f"write data.{key} instead of data.options.{key}"
                )
        return options


class ModelConfig(_Open):
    """``name`` from ``trainlab.models``; other keys are that model's keyword arguments."""

    _section: ClassVar[str] = "model"
    name: str = "mlp"


class InitConfig(_Open):
    """``scheme`` from ``trainlab.init``; ``bias`` fills biases; other keys go to the scheme."""

    _section: ClassVar[str] = "init"
    scheme: str = "default"
    bias: float = 0.0


class OptimConfig(_Open):
    """``name`` from ``trainlab.optim``; ``lr`` (per step), ``weight_decay``; other keys go on."""

    _section: ClassVar[str] = "optim"
    name: str = "adam"
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)

    @model_validator(mode="after")
    def _optimizers_weight_decay(self) -> OptimConfig:
        """Left out, ``weight_decay`` is the optimizer's own default (``adamw``: 1e-2, as
        ``torch.optim.AdamW``; the others 0)."""
        if "weight_decay" not in self.model_fields_set:
            from .errors import UserError
            from .optim import optimizer_options

            try:
                default = optimizer_options(self.name).get("weight_decay", 0.0)
            except UserError:  # an unknown name is reported where the optimizer is made
                return self
            if isinstance(default, int | float) and not isinstance(default, bool):
                self.__dict__["weight_decay"] = float(default)  # (no re-validation loop)
        return self


class ScheduleConfig(_Open):
    """``name`` from ``trainlab.optim`` schedules; other keys are its parameters."""

    _section: ClassVar[str] = "schedule"
    name: str = "none"


#: the most epochs a run (or its schedule) may have
MAX_EPOCHS = 1_000_000


class TrainConfig(_Strict):
    """The training loop."""

    #: at most :data:`MAX_EPOCHS` (more is a typo)
    epochs: int = Field(15, ge=1)
    #: the epochs the learning-rate schedule spans (None: ``epochs``); more than ``epochs``
    #: trains the first epochs of a longer run's schedule (``trainlab diagnose`` sets it when
    #: its short training cuts a config's epochs)
    schedule_epochs: int | None = Field(None, ge=1)
    batch_size: int = Field(100, ge=1)
    early_stopping_patience: int | None = Field(None, ge=1)
    early_stopping_metric: Literal["val_loss", "val_acc"] = "val_loss"
    clip_norm: float | None = Field(None, gt=0.0)
    clip_value: float | None = Field(None, gt=0.0)
    checkpoint_every: int = Field(1, ge=1)
    diagnose_every: int | None = Field(None, ge=1)
    eval_batch_size: int = Field(4096, ge=1)
    #: on CUDA, replay each step from a CUDA graph where the step can be captured (one launch
    #: instead of ~100; trainlab.cuda_graphs); false: every step eager. Ignored on the CPU.
    cuda_graph: bool = True
    #: float32 matrix products on CUDA in TF32 (tensor cores, 10-bit mantissa products: several
    #: times faster, less exact); ignored on the CPU
    tf32: bool = False

    @field_validator("epochs", "schedule_epochs")
    @classmethod
    def _at_most_max_epochs(cls, v: int | None) -> int | None:
        if v is not None and v > MAX_EPOCHS:
            raise ValueError(
                f"at most {MAX_EPOCHS:,} epochs (a run that trains until early stopping "
                f"stops as well within {MAX_EPOCHS:,}: set that)"
            )
        return v


#: the most models one population holds (``--seeds`` and ``seeds × variants × grid``): a typo
#: like ``--seeds 0-1000000000`` or four 50-value grid axes (6.25 M models) would not fit
MAX_MODELS = 100_000


class PopulationConfig(_Strict):
    """``seeds × variants × grid`` models trained as one population."""

    seeds: list[int] = Field(default_factory=lambda: [0])
    variants: list[dict[str, Any]] = Field(default_factory=lambda: [{}])
    grid: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("seeds", mode="before")
    @classmethod
    def _no_bool_seeds(cls, v: Any) -> Any:
        if isinstance(v, list) and any(isinstance(s, bool) for s in v):
            raise ValueError(f"seeds must be integers, got {v!r}")
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("needs at least one seed")
        if len(set(v)) != len(v):
            dup = next(s for s in v if v.count(s) > 1)
            raise ValueError(f"seeds must be distinct; seed {dup} appears {v.count(dup)} times")
        big = [s for s in v if not abs(s) < 2**63]  # (as Population: -2**63 is refused too)
        if big:
            raise ValueError(f"seeds must fit in 64 bits (|seed| < 2**63), got {big[0]}")
        return v

    @field_validator("variants")
    @classmethod
    def _variants(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        v = declared_variants(v)
        for i, d in enumerate(v):
            _check_override_keys(d)
            if d in v[:i]:  # the same models twice: their seeds would count twice in the stats
                raise ValueError(
                    f"variant {i} repeats variant {v.index(d)} ({d}); list each variant once"
                )
        return v or [{}]

    @field_validator("grid", mode="before")
    @classmethod
    def _grid_is_flat(cls, v: Any) -> Any:
        if isinstance(v, dict):  # before the type check, which would only say "not a list"
            for key, values in v.items():
                _check_flat(key, values)
        return v

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: dict[str, list[Any]], info: ValidationInfo) -> dict[str, list[Any]]:
        _check_override_keys(v)
        v = declared_grid(v)
        for key, values in v.items():
            if not values:
                raise ValueError(f"grid axis '{key}' has no values")
            _check_distinct(key, values)
        for variant in info.data.get("variants") or []:
            both = next((key for key in v if key in variant), None)
            if both is not None:  # the grid's value would win: each variant's models repeated
                raise ValueError(
                    f"'{both}' is set by both population.variants and population.grid (the "
                    "grid would override the variants' value and repeat their models); "
                    "set it in one of them"
                )
        return v

    @model_validator(mode="after")
    def _not_too_many(self) -> PopulationConfig:
        n = len(self.seeds) * len(self.variants) * math.prod(len(a) for a in self.grid.values())
        if n > MAX_MODELS:
            axes = " × ".join(f"{len(a)} ({k})" for k, a in self.grid.items()) or "1"
            fewer = [  # what made the count
                what
                for what, size in (
                    ("seeds", len(self.seeds)),
                    ("population.variants", len(self.variants)),
                    ("values in population.grid", n // len(self.seeds) // len(self.variants)),
                )
                if size > 1
            ]
            raise ValueError(
                f"{len(self.seeds)} seeds × {len(self.variants)} variants × grid {axes} make "
                f"{n} models, more than {MAX_MODELS}; list fewer {' or '.join(fewer)}"
            )
        return self


class Config(_Strict):
    """A whole run. Every default is written out to the run directory's ``config.yaml``."""

    name: str = "run"
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    init: InitConfig = Field(default_factory=InitConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, v: str) -> str:
        return check_run_name(v)


def check_run_name(name: str) -> str:
    """``name`` names the run's folder under ``runs/``: one non-empty path component."""
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(
            "must be a plain folder name (not empty, no '/', not '..'): it names the run "
            "directory under runs/"
        )
    return name


def _as_declared(key: str, value: Any) -> Any:
    """A per-model value given as text for a number (``optim.lr: "1e-3"``, as a YAML 1.1 reader
    such as ``yaml.safe_load`` gives it) as that number, so that duplicates, group labels and
    the overrides ``population.json`` and ``summary.json`` record are the values the models
    train with: for a declared number field, as pydantic reads it; for an open section's extra
    (``init.std``, ``optim.eps``), text that trainlab's YAML loader reads as a number. Other
    values are kept as given (a number stays as written; text that is no number is named by
    :func:`resolve`). A list's elements are read the same way (``optim.betas: [0.9, "0.99"]``)."""
    if isinstance(value, list):
        return [_as_declared(key, v) for v in value]
    if not isinstance(value, str):
        return value
    section, info = _field_at(key.split("."))
    if section is None:
        return value
    if info is None:  # an open section's extra (init.std, optim.eps): a number as YAML 1.2
        if not issubclass(section, _Open):  # reads it (trainlab's loader) is that number
            return value
        try:
            number = load_yaml(value)
        except yaml.YAMLError:
            return value
        return number if isinstance(number, int | float) and not isinstance(number, bool) else value
    if info.annotation not in (float, int):
        return value
    try:
        return TypeAdapter(info.annotation).validate_python(value)
    except ValidationError:
        return value


def declared_grid(grid: dict[str, Any]) -> dict[str, Any]:
    """``population.grid`` with each axis's values as :func:`_as_declared` reads them."""
    return {
        key: [_as_declared(key, v) for v in values] if isinstance(values, list) else values
        for key, values in grid.items()
    }


def declared_variants(variants: list[Any]) -> list[Any]:
    """``population.variants`` with each override as :func:`_as_declared` reads it."""
    return [
        {key: _as_declared(key, v) for key, v in d.items()} if isinstance(d, dict) else d
        for d in variants
    ]


def _check_distinct(key: str, values: list[Any]) -> None:
    """A grid axis lists each value once (``[1e-3, 0.001]`` would train the same models twice,
    and their seeds would count twice in the group's mean and confidence interval)."""
    seen: set[Any] = set()
    for i, value in enumerate(values):
        try:  # a set for numbers and strings: a 1000-value axis is checked in linear time
            twice = value in seen
            seen.add(value)
        except TypeError:  # an unhashable value (a list: betas)
            twice = value in values[:i]
        if twice:
            raise ValueError(f"grid axis '{key}' lists {value!r} twice; list each value once")


def _check_flat(key: str, value: Any) -> None:
    """Per-model keys are dotted (``optim.lr``), not nested sections (``optim: {lr: …}``)."""
    if isinstance(value, dict) and value:
        inner = next(iter(value))
        raise ValueError(
            f"write per-model keys dotted, e.g. '{key}.{inner}', not as a nested '{key}:' section"
        )


def _check_override_keys(d: dict[str, Any]) -> None:
    for key, value in d.items():
        _check_flat(key, value)
        if key in ("optim.name", "schedule.name"):
            what = "optimizer" if key == "optim.name" else "schedule"
            raise ValueError(
                f"'{key}' cannot vary per model (one {what} per population); "
                f"train one run per {what} (its parameters may vary per model)"
            )
        section, _, name = key.partition(".")
        if not _overridable(key):
            raise ValueError(
                f"'{key}' cannot vary per model; "
                "overridable keys are optim.*, init.*, schedule.*, model.dropout"
            )
        if name in RESERVED.get(section, ()):
            raise ValueError(f"'{key}' is set by the trainer (from the data and the run)")


class Member(BaseModel):
    """One model of a population: its index, seed and per-model overrides."""

    index: int
    seed: int
    overrides: dict[str, Any]

    @property
    def group(self) -> str:
        """Models that differ only by seed share a group (``"init.scheme=he_normal"``)."""
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items()) or "default"


def schedule_epochs(config: Config) -> int:
    """The epochs the learning-rate schedule spans: ``train.schedule_epochs``, else
    ``train.epochs``; a span shorter than the training is a ConfigError (a schedule has no
    learning rates past its end)."""
    n, e = config.train.schedule_epochs, config.train.epochs
    if n is None:
        return e
    if n < e:
        raise ConfigError(
            f"train.schedule_epochs ({n}) is less than train.epochs ({e}): the schedule must "
            f"span the whole training; train at most {n} epochs, or raise or remove "
            "train.schedule_epochs"
        )
    return n


def schedule_kwargs(config: Config, mems: list[Member] | None = None) -> dict[str, Any]:
    """``config.schedule``'s parameters, each that population variants or a grid vary (a
    ``schedule.*`` override) as a list in member order (``KEEP_DEFAULT`` where a member keeps
    the default), as :func:`trainlab.optim.create_schedule` takes per-model values."""
    from .optim.schedules import KEEP_DEFAULT

    kw = config.schedule.kwargs("name")
    mems = members(config) if mems is None else mems
    for key in sorted({k for m in mems for k in m.overrides if k.startswith("schedule.")}):
        name = key.removeprefix("schedule.")
        base = kw.get(name, KEEP_DEFAULT)
        if isinstance(base, list) and name not in _SCHEDULE_LISTS:
            raise ConfigError(
                f"schedule.{name} is a list of per-model values and also varied by "
                "population variants/grid; give it one way"
            )
        values = [m.overrides.get(key, base) for m in mems]
        if all(v is not KEEP_DEFAULT and v == values[0] for v in values):
            kw[name] = values[0]  # every model alike: one value (as an optimizer key)
            continue
        kw[name] = values  # (a value all must share is compared there, with its default)
    return kw


#: schedule options whose own value is a list (multistep's epochs), not one value per model
_SCHEDULE_LISTS = frozenset({"milestones"})


def members(config: Config) -> list[Member]:
    """Expand ``seeds × variants × grid`` into the population's members (seeds innermost)."""
    pop = config.population
    axes = list(pop.grid)
    points = [
        dict(zip(axes, combo, strict=True)) for combo in itertools.product(*pop.grid.values())
    ]
    out: list[Member] = []
    for variant in pop.variants:
        for point in points:
            for seed in pop.seeds:
                out.append(Member(index=len(out), seed=seed, overrides={**variant, **point}))
    return out


def resolve(config: Config, overrides: dict[str, Any]) -> Config:
    """The config of one member: ``config`` with its overrides applied.

    A member that overrides ``init.scheme`` drops the base config's init options that its
    scheme does not take (``init: {scheme: normal, std: 0.05}`` with a grid over
    ``init.scheme``: ``std`` belongs to ``normal``, not to ``he_normal``; ``bias`` to any but
    ``keep``, which leaves biases as they are); options the member
    sets itself are kept, and an unknown one is still an error. The member's ``population`` is
    the default one (it is one model): copying a 1000-seed list into each of 1000 members would
    make building a population quadratic in K."""
    raw = config.model_dump(exclude={"population"})
    scheme = overrides.get("init.scheme")
    if scheme is not None and scheme != config.init.scheme:
        from . import init

        try:
            takes = init.scheme_options(scheme)
        except UserError:  # an unknown scheme: parse_config below names it
            takes = {}
        raw["init"] = {
            k: v
            for k, v in raw["init"].items()
            if k == "scheme"
            or (k == "bias" and scheme != "keep")  # (keep sets no bias)
            or k in takes
            or f"init.{k}" in overrides
        }
    for key, value in overrides.items():
        _set_path(raw, key.split("."), value)
    # a bad per-model value is named where it was set, not as the file's own key
    grid = set(config.population.grid)
    where = sorted({"population.grid" if k in grid else "population.variants" for k in overrides})
    values = ", ".join(f"{k}={short_repr(v)}" for k, v in overrides.items())
    return parse_config(raw, f"{' and '.join(where)} ({values})" if overrides else "config")


def check_base_init(config: Config, mems: list[Member]) -> None:
    """The config's own ``init`` section when every model overrides ``init.scheme`` (then
    :func:`resolve` drops, per model, the options its scheme does not take, so nothing else
    reads them): its scheme must exist and each option belong to it or to some model's scheme
    (a typo would go unchecked into config.yaml); a UserError names the key."""
    from . import init

    schemes = {m.overrides.get("init.scheme", config.init.scheme) for m in mems}
    if config.init.scheme in schemes:  # (a model trains the section as written: it checks it)
        return
    takes = set(init.scheme_options(config.init.scheme))  # (an unknown scheme: UserError)
    for scheme in schemes:
        with contextlib.suppress(UserError):  # (an unknown one: that model's build names it)
            takes |= set(init.scheme_options(scheme))
    for key in config.init.kwargs("scheme", "bias"):
        if key not in takes:
            raise UserError(
                f"init.{key} is an option of no scheme here (init.scheme "
                f"'{config.init.scheme}', and the models' {', '.join(sorted(schemes))})"
                f"{did_you_mean(key, sorted(takes | {'scheme', 'bias'}))}; fix or remove it"
            )


def yaml_text_hint(error: Any, loc: str) -> str:
    """For a pydantic error of a text field given a YAML date or number (``name: 2026-11-29``):
    ``"; YAML read a date: put the text in quotes (name: '...')"``; else ``""``."""
    got = error.get("input")
    if error["type"] != "string_type" or isinstance(got, list | dict | type(None)):
        return ""
    return f"; YAML read a {type(got).__name__}: put the text in quotes ({loc}: '...')"


def _format_error(err: ValidationError, source: str) -> ConfigError:
    msgs = []
    for e in err.errors()[:3]:
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            parent, key = ".".join(str(p) for p in e["loc"][:-1]), str(e["loc"][-1])
            fields = _fields_at(parent)
            hint = did_you_mean(key, fields)
            head = key.split(".")[0]
            if "." in key and head in fields:
                rest = key.split(".", 1)[1]
                if head == "population" and rest.startswith("grid.") and len(rest) > 5:
                    nested = f"population: {{grid: {{{rest[5:]}: [...]}}}}"  # an axis keeps dots
                elif head == "population" and rest.startswith("variants.") and len(rest) > 9:
                    nested = f"population: {{variants: [{{{rest[9:]}: ...}}]}}"  # a list of dicts
                else:
                    nested = f"{head}: {{{rest}: ...}}"
                hint = (  # `optim.lr: 0.1` in a file: dotted keys are --set's and the grid's
                    f"; write it nested ({nested}): dotted keys are for --set and population.grid"
                )
            home = _home_section(parent, key)
            if home is not None and "." not in key:  # an exact key of another section: not a
                hint = f"; it belongs in {home} (write {home}.{key})"  # near miss of this one
            if parent == "data" and key != "scale" and (not hint or _is_data_option(key)):
                # a data set's own option (data_seed, noise, ...): said before a near miss
                hint = f"; a data set's own options go under data.options (data.options.{key})"
            elif parent == "data" and key == "scale":  # trainlab pretrain's key
                hint = " (data.scale is a `trainlab pretrain` key; training uses data.preprocess)"
            msgs.append(f"unknown key '{loc}'{hint}")
        else:
            msg = str(e["msg"]).removeprefix("Value error, ")  # our own validators' messages
            got = e.get("input")
            if quote := yaml_text_hint(e, loc):
                msg += quote
            elif loc == "population.seeds" and isinstance(got, int) and not isinstance(got, bool):
                count = f"[{', '.join(map(str, range(min(got, 5))))}{', ...' * (got > 5)}]"
                msg += f": a list of seeds, e.g. {count} (the CLI's --seeds {got} is {got} seeds)"
            shown = f" (got {short_repr(got)})"
            msgs.append(f"{loc}: {msg}{'' if f'got the text {got!r}' in msg else shown}")
    more = f" (+{len(err.errors()) - 3} more)" if len(err.errors()) > 3 else ""
    return ConfigError(f"{source}: " + "; ".join(msgs) + more)


def _home_section(parent: str, key: str) -> str | None:
    """The one other config section that declares ``key`` (``seeds``: ``population``; ``lr``:
    ``optim``), for a key written in the wrong place; None if none or several do."""
    homes = [
        name
        for name in Config.model_fields
        if name != parent
        and (section := _section_at([name])) is not None
        and key in section.model_fields
    ]
    return homes[0] if len(homes) == 1 else None


def _is_data_option(key: str) -> bool:
    """Whether some registered data set (or ``data.load`` itself) takes option ``key``."""
    from .data.datasets import _COMMON_OPTIONS, DATASETS, dataset_options

    names = [name for name, _ in DATASETS.items()]
    return key in _COMMON_OPTIONS or any(key in dataset_options(n) for n in names)


def _section_at(parts: list[str]) -> type[BaseModel] | None:
    """The config section that the dotted key ``parts`` names (``[]``: :class:`Config`,
    ``["optim"]``: :class:`OptimConfig`); None if one of them is no section."""
    model: type[BaseModel] = Config
    for part in parts:
        info = model.model_fields.get(part)
        ann = info.annotation if info is not None else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _field_at(parts: list[str]) -> tuple[type[BaseModel] | None, Any]:
    """``(section, field info)`` of the dotted key ``parts``: the section that holds its last
    part (None if there is none) and that part's declared field (None if not declared)."""
    section = _section_at(parts[:-1])
    return section, None if section is None else section.model_fields.get(parts[-1])


def _fields_at(path: str) -> list[str]:
    section = _section_at(list(filter(None, path.split("."))))
    return [] if section is None else list(section.model_fields)


def _python_numbers(value: Any) -> Any:
    """``value`` with numpy scalars and arrays and torch tensors, at any depth of dicts and
    lists, as Python numbers and lists (``np.int64(4)`` -> ``4``): a config built in Python from
    numpy or torch values (``np.logspace`` grids) validates, trains and writes as
    ``config.yaml`` as its YAML would."""
    if isinstance(value, dict):
        return {k: _python_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_python_numbers(v) for v in value]
    if isinstance(value, tuple):  # (a namedtuple too: as the plain tuple YAML would give)
        return tuple(_python_numbers(v) for v in value)
    if type(value).__module__ == "numpy" and callable(getattr(value, "tolist", None)):
        return value.tolist()  # (a numpy scalar's tolist(): the Python scalar; numpy unloaded)
    torch = sys.modules.get("torch")  # a tensor (torch.linspace grid): as numpy's
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    return value


def parse_config(raw: dict[str, Any] | None, source: str = "config") -> Config:
    """Validate a plain dict; errors become one-line :class:`ConfigError`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:  # a copy: the open sections' extra values (lists, dicts) must not be the caller's
        return Config.model_validate(copy.deepcopy(_python_numbers(raw)))
    except ValidationError as err:
        raise _format_error(err, source) from None


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading numbers as YAML 1.2 does: ``1e-3`` is a float, ``010`` is
    ten, ``1:30`` is text.

    PyYAML follows YAML 1.1, whose float pattern needs a dot in the mantissa, so ``1e-3`` (how
    people write learning rates) would load as the string ``"1e-3"``; its integers read ``010``
    as octal 8 and ``1:30`` as base-60 90 (``epochs: 010`` trained 8 epochs), its floats
    ``1:30.5`` as 90.5. A key given twice
    in one mapping is an error (PyYAML keeps the last one silently). Merge keys follow the YAML
    merge spec: in ``<<: [*a, *b]`` the earlier mapping wins, and a key of the mapping itself
    wins over merged ones (PyYAML 6.0.4 told merged keys apart by the identity of their text,
    so the later mapping won, and left a shared anchored mapping with a key twice).
    """

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.tag == "tag:yaml.org,2002:value":
                    key_node.tag = "tag:yaml.org,2002:str"
                own.append((key_node, value_node))
                continue
            subs = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for sub in subs:
                if not isinstance(sub, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"expected a mapping or list of mappings for merging, but found {sub.id}",
                        sub.start_mark,
                    )  # fmt: skip
                self.flatten_mapping(sub)
                merged += sub.value
        if len(own) == len(node.value):
            return
        taken = {self._key(k) for k, _ in own}
        kept = []
        for key_node, value_node in merged:  # the first of each key wins; the node's own win
            key = self._key(key_node)
            if key not in taken:
                taken.add(key)
                kept.append((key_node, value_node))
        node.value = kept + own

    def _key(self, key_node: yaml.Node) -> Any:
        """A key as the dedup of merged keys compares it (an unhashable one: by identity)."""
        key = self.construct_object(key_node)
        try:
            hash(key)
        except TypeError:
            return id(key_node)
        return key

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *base``: merged by PyYAML, and
                continue  # an explicit key may override a merged one
            key = self.construct_object(key_node, deep=deep)
            try:
                twice = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: PyYAML's own error says so
                break
            if twice:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, knowing the same floats as :class:`_Loader`: a string that reads
    as one (a run named ``1e-3``) is quoted, so that a dumped config loads back as it was."""


_INT = "tag:yaml.org,2002:int"
for _cls in (_Loader, _Dumper):
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    _cls.add_implicit_resolver(  # and a leading dot with a sign or exponent: -.5, +.5, .5e3
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?$"),
        list("-+."),
    )
    # YAML 1.2 core integers: decimal (leading zeros allowed), 0o octal, 0x hex; no base 60
    _cls.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag != _INT]
        for first, rules in _cls.yaml_implicit_resolvers.items()
    }
    _cls.add_implicit_resolver(
        _INT,
        re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )


# ... and no base-60 floats (YAML 1.1's 1:30.5 is 90.5; YAML 1.2 reads text): PyYAML's float
# rule again without that alternative, for the loader (the dumper still quotes such text)
_FLOAT = "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in rules if not (tag == _FLOAT and ":[0-5]" in rx.pattern)]
    for first, rules in _Loader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    """A YAML 1.2 integer: ``010`` is ten (YAML 1.1: octal 8), ``0o10`` eight, ``0x10`` 16."""
    text = str(loader.construct_scalar(node)).replace("_", "")
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


_Loader.add_constructor(_INT, _construct_int)
# ... and the dumper quotes what YAML 1.1 reads as an integer too (0b101, 1:30, -0x1F): a
# config.yaml re-saved by another YAML tool (yaml.safe_load/safe_dump) keeps its text
_Dumper.add_implicit_resolver(
    _INT,
    re.compile(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
    ),
    list("-+0123456789"),
)


#: values a YAML document may expand to once its aliases are followed ("billion laughs": a
#: 1 KB file of nested aliases expands to 10^9 values when the config is copied)
MAX_YAML_VALUES = 100_000


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`_Loader` (safe; ``1e-3`` is a number); a document whose
    aliases expand to more than :data:`MAX_YAML_VALUES` values is a ConfigError."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except RecursionError:  # (PyYAML's composer recurses once per level)
        raise ConfigError(
            "YAML nested too deeply (hundreds of levels of [ or {); a config is a few levels deep"
        ) from None
    sizes: dict[int, int] = {}
    shared = False
    walking: set[int] = set()  # the containers on the path from the root

    def size(node: Any) -> int:  # values after expansion, each shared node counted once
        nonlocal shared
        if id(node) in walking:
            raise ConfigError(
                "the YAML refers to itself: an alias (*name) inside the value it names (&name); "
                "write that value out"
            )
        if id(node) in sizes:
            shared = shared or isinstance(node, dict | list)  # (an alias: scalars are cached)
            return sizes[id(node)]
        walking.add(id(node))
        if isinstance(node, dict):
            n = 1 + sum(size(k) + size(v) for k, v in node.items())
        elif isinstance(node, list):
            n = 1 + sum(size(v) for v in node)
        else:
            n = 1
        walking.discard(id(node))
        sizes[id(node)] = n
        return n

    # (a document without aliases holds no more values than its text: a run's config.yaml
    # with --seeds 0-99999 written out must read back)
    if size(data) > MAX_YAML_VALUES and shared:
        raise ConfigError(
            f"the YAML expands to more than {MAX_YAML_VALUES} values through its aliases "
            "(*name); write the config without nested aliases"
        )
    return data


def read_yaml_file(path: Path) -> Any:
    """The parsed YAML file ``path``; a missing, empty, binary or malformed file, or a folder,
    is a ConfigError (an empty file is a mistake: ``{}`` asks for every default)."""
    if path.is_dir():
        inside = sorted(str(p) for p in path.glob("*.y*ml"))[:3]
        such = f", e.g. {', '.join(inside)}" if inside else ""
        raise ConfigError(f"{path} is a folder, not a config; pass a YAML file{such}")
    if not path.exists():  # (a pipe, /dev/stdin or <(...), is read like a file)
        raise ConfigError(f"config file not found: {path} (pass the path to a YAML file)")
    data = path.read_bytes()
    try:
        raw = load_yaml(_decode(data))
    except UnicodeDecodeError as err:
        # text has no control bytes but tab, newlines and form feed (UTF-16/32: a BOM first)
        if any(b < 32 and b not in (9, 10, 12, 13) for b in data[:65536]):
            raise ConfigError(
                f"{path}: not a text YAML file (is it a checkpoint or an image?)"
            ) from None
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 (byte 0x{data[err.start]:02x} at line {line}, e.g. a file "
            "saved as Latin-1/ANSI); save it as UTF-8"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = str(getattr(err, "problem", "") or "")
        if problem.startswith("duplicate key"):
            raise ConfigError(f"{path}: {problem}{where}; give each key once") from None
        if "'\\t'" in problem or "\t" in problem:
            fix = "a tab character; YAML indents and separates with spaces: replace it"
        elif "another document" in problem:
            fix = "a second YAML document ('---'); keep one config per file"
        elif "constructor for the tag" in problem:
            fix = f"{problem.split('for the ')[-1]}, which no config value has; remove it"
        else:
            fix = (f"{problem}; " if problem else "") + "check indentation and colons"
        raise ConfigError(f"{path}: not valid YAML{where}: {fix}") from None
    except ConfigError as err:  # load_yaml's own (too deep, aliases that expand too far)
        raise ConfigError(f"{path}: {err}") from None
    if raw is None:
        raise ConfigError(
            f"{path} is empty (or only comments); write the sections you need (see examples/), "
            "or '{}' for every default"
        )
    return raw


def read_yaml_text(path: str | Path) -> str:
    """A YAML file's text as :func:`load_config` reads it (see :func:`_decode`): a run's
    config.yaml that resume accepts, its report reads too."""
    return _decode(Path(path).read_bytes())


def _decode(data: bytes) -> str:
    """A YAML file's text: UTF-16 or UTF-32 when it starts with that byte-order mark (what
    Windows PowerShell's ``>`` writes), else UTF-8 (its BOM is dropped)."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM starts it
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8-sig")


def _set_path(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    node = raw
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if nxt is None:  # a section whose keys are all commented out: `population:`
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            raise ConfigError(f"cannot set '{'.'.join(parts)}': '{part}' is not a section")
        node = nxt
    node[parts[-1]] = value


def set_key(item: str | tuple[str, Any]) -> str:
    """The dotted key of one ``--set`` (``"optim.lr"`` of ``"optim.lr=0.1"`` or of a parsed
    ``("optim.lr", 0.1)`` pair), as :func:`apply_sets` reads it."""
    return (item[0] if isinstance(item, tuple) else item.partition("=")[0]).strip()


def apply_sets(raw: dict[str, Any], sets: list[str | tuple[str, Any]]) -> dict[str, Any]:
    """``raw`` (a copy: the caller's dict is left as it was) with ``--set a.b=value`` strings
    applied; values are parsed as YAML (``1e-3``, ``[1, 2]``). A ``(key, value)`` pair sets a
    value already parsed (``--seeds 0-9999``: a long list is not written out as YAML and read
    back).

    ``population.grid.<axis>=[...]`` sets one grid axis (``<axis>`` keeps its dots:
    ``population.grid.optim.lr=[0.001, 0.01]``).
    """
    raw = copy.deepcopy(raw)
    done: list[str] = []  # the dotted keys set so far
    for item in sets:
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str) or not item[0].strip():
                raise ConfigError(f"a parsed set is a (key, value) pair, got {item!r}")
            parts = _key_parts(item[0])
            _refuse_replacing(parts, done)
            _set_path(raw, parts, item[1])
            continue
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set '{item}' needs the form key=value, e.g. optim.lr=0.01")
        parts = _key_parts(key)
        _refuse_replacing(parts, done)
        _set_path(raw, parts, _set_value(item, parts, text))
    return raw


def _refuse_replacing(parts: list[str], done: list[str]) -> None:
    """Refuse a ``--set`` of a whole section after an earlier one changed a key inside it
    (``train.epochs=3`` then ``train={...}``): the section's value would silently drop it.
    A key set after its section merges into it, and a key set twice keeps the last value."""
    key = ".".join(parts)
    lost = next((e for e in done if e.startswith(key + ".")), None)
    if lost is not None:
        raise ConfigError(
            f"--set {key}=... replaces the section '{key}' and would drop the earlier "
            f"--set {lost}=...; give {lost} after it (or inside its value)"
        )
    done.append(key)


def _key_parts(key: str) -> list[str]:
    """A dotted key's path of sections; a grid axis keeps its dots (``population.grid.optim.lr``
    is the axis ``optim.lr`` of ``population.grid``)."""
    parts = key.strip().split(".")
    if parts[:2] == ["population", "grid"] and len(parts) > 2:
        parts = [*parts[:2], ".".join(parts[2:])]
    return parts


#: where YAML would start a comment: ``#`` at the start or after a space
_COMMENT = re.compile(r"(^|\s)#")


def _set_value(item: str, parts: list[str], text: str) -> Any:
    """The value of ``--set key=text``: parsed as YAML (``1e-3``, ``[1, 2]``, ``true``), except
    that a field that only takes a string (``name``, ``data.name``, ``optim.name``, ...) gets
    the text as typed (a run named ``2026-11-29`` or ``no``; quoted, ``'no'``, as YAML reads
    it), and that ``#`` after a scalar starts no comment: a shell argument is not a YAML
    document, so ``name=sweep #2`` is ``sweep #2``."""
    bare = text.strip()
    quoted = _quoted(bare)
    if _string_field(parts):
        return bare if quoted is None else quoted  # 'no': YAML's quoted text
    try:
        value = load_yaml(text)
    except yaml.constructor.ConstructorError as err:
        if "duplicate key" in str(err.problem):  # in a mapping value: {a: 1, a: 2}
            raise ConfigError(f"--set '{item}': {err.problem}; give each key once") from None
        return text  # a YAML tag (`!wip`): the text as typed
    except yaml.YAMLError:
        return text
    if _COMMENT.search(text) and quoted is None and not isinstance(value, dict | list):
        return bare  # YAML dropped the rest as a comment: keep what was typed
    return value


def _quoted(bare: str) -> str | None:
    """The text of a YAML-quoted scalar (``'...'`` or ``"..."``) that is the whole of ``bare``,
    else None (``'a' # 'b'`` is a quoted scalar and a comment, not one quoted scalar)."""
    if len(bare) < 2 or bare[0] not in "'\"" or bare[-1] != bare[0]:
        return None
    try:
        node = yaml.compose(bare, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.ScalarNode) or node.end_mark.index != len(bare):
        return None
    return str(node.value)


def _string_field(parts: list[str]) -> bool:
    """Whether the dotted key names a field of :class:`Config` declared as ``str``."""
    _, info = _field_at(parts)
    return info is not None and info.annotation is str


def as_config(config: Any, sets: list[str | tuple[str, Any]] | None = None) -> Config:
    """A :class:`Config` from a Config, a mapping of sections (what :func:`parse_config`
    takes) or a YAML path, with ``sets`` applied (:func:`apply_sets`); what is passed in is
    not changed. Anything else is a UserError."""
    sets = _set_list(sets)
    if isinstance(config, Config):
        # validated again, sets or not: the object may have been edited in place (a grid's
        # dict, a seed list) or by model_copy(update=...), neither of which pydantic checks
        with warnings.catch_warnings():  # (pydantic's "expected TrainConfig, got dict")
            warnings.simplefilter("ignore", UserWarning)
            raw = config.model_dump()
        optim = config.optim
        if isinstance(optim, BaseModel) and "weight_decay" not in optim.model_fields_set:
            raw["optim"].pop("weight_decay", None)  # the optimizer's own default follows
        return _sets_reach_a_model(parse_config(apply_sets(raw, sets)), sets)  # optim.name
    if isinstance(config, Mapping):  # (yaml.safe_load of a file: its empty sections as a file's)
        raw = _empty_sections_default(dict(config))
        return _sets_reach_a_model(parse_config(apply_sets(raw, sets)), sets)
    if not isinstance(config, str | os.PathLike):
        raise UserError(
            f"config must be a Config, a dict or a YAML path, got {type(config).__name__}"
        )
    return load_config(config, sets)


#: the top-level keys that hold a section (every field of :class:`Config` but ``name``)
_SECTIONS = frozenset(Config.model_fields) - {"name"}


def _empty_sections_default(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with a top-level section left empty (``train:``, None) as ``{}``: its defaults."""
    return {k: {} if v is None and k in _SECTIONS else v for k, v in raw.items()}


def load_config(
    path: str | Path | None = None, sets: Sequence[str | tuple[str, Any]] | None = None
) -> Config:
    """Load a YAML config (or the defaults if ``path`` is None) and apply ``--set`` overrides
    (:func:`apply_sets`). A top-level section left empty (``train:`` with its keys commented
    out) takes its defaults, as a missing one does."""
    raw: Any = {}
    source = "config"
    if path is not None:
        path = Path(path)
        source = str(path)
        raw = read_yaml_file(path)
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping of sections (data:, model:, …)")
        raw = _empty_sections_default(raw)
    sets = _set_list(sets)
    try:
        return _sets_reach_a_model(parse_config(apply_sets(raw, sets), source), sets)
    except ConfigError:
        label = _blamed_option(raw, sets, source)
        if label is None:
            raise
        try:
            parse_config(apply_sets(raw, sets), label)
        except ConfigError as labelled:  # the same error, named by the option it came from
            raise labelled from None
        raise  # (the check of the sets against the grid: its message names --set already)


def _set_list(sets: Any) -> list[str | tuple[str, Any]]:
    """``sets`` as a list: one ``"key=value"`` string is one override (not its characters);
    each item a string or a ``(key, value)`` pair."""
    if sets is None:
        return []
    if isinstance(sets, str):
        return [sets]
    items = list(sets)
    for item in items:
        if not (isinstance(item, str) or (isinstance(item, tuple) and len(item) == 2)):
            raise ConfigError(f"a --set is a 'key=value' string, got {item!r}")
    return items


def _blamed_option(
    raw: dict[str, Any], sets: list[str | tuple[str, Any]], source: str
) -> str | None:
    """After a ConfigError of ``raw`` with ``sets`` applied: ``"--seeds"`` or ``"--set"`` when the
    file alone is valid (the bad key or value came from the command line, not from the file
    the message would otherwise name), else None."""
    if not sets:
        return None
    try:
        parse_config(raw, source)
    except ConfigError:
        return None
    # --seeds: the CLI's ("population.seeds", list) pair; another parsed pair is a --set's
    seeds = [s for s in sets if not isinstance(s, str) and s[0] == "population.seeds"]
    if seeds:
        try:
            parse_config(apply_sets(raw, seeds), source)
        except ConfigError:
            return "--seeds"
    return "--set"


def _sets_reach_a_model(config: Config, sets: list[str | tuple[str, Any]]) -> Config:
    """``config``, after a ConfigError for a ``--set`` that no model trains with: a key that
    ``population.grid`` (or every entry of ``population.variants``) sets for every model
    (``--set optim.lr=0.05`` on an lr grid would be recorded in config.yaml and used by none)."""
    pop = config.population
    for key in keys_given(sets):
        if key.startswith("population.") or key == "population":
            continue
        where = (
            "population.grid" if key in pop.grid
            else "every entry of population.variants"
            if pop.variants and all(key in v for v in pop.variants)
            else None
        )  # fmt: skip
        if where is not None:
            example = f" (--set population.grid.{key}=[...])" if key in pop.grid else ""
            raise ConfigError(
                f"--set {key} changes no model: {where} sets {key} for every model; change it "
                f"there{example} or leave it out"
            )
        opt = key.removeprefix("init.")
        is_option = key.startswith("init.") and opt != "scheme" and "." not in opt
        if is_option and not any(
            _takes_base_init(config, m.overrides, opt) for m in members(config)
        ):
            raise ConfigError(
                f"--set {key} changes no model: every model sets {key} itself or trains an "
                f"init scheme without '{opt}' (population.variants / population.grid); "
                "change it there or leave it out"
            )
    return config


def _takes_base_init(config: Config, overrides: dict[str, Any], opt: str) -> bool:
    """Whether a model of ``overrides`` trains with the config's own ``init.<opt>``: it does
    not set the option itself, and its scheme is the config's or takes it (:func:`resolve`)."""
    if f"init.{opt}" in overrides:
        return False
    scheme = overrides.get("init.scheme", config.init.scheme)
    if scheme == config.init.scheme:
        return True
    if opt == "bias":
        return scheme != "keep"
    from . import init

    try:
        return opt in init.scheme_options(scheme)
    except UserError:  # an unknown scheme: its model's build names it
        return True


def set_keys(item: str | tuple[str, Any]) -> list[str]:
    """The dotted keys one ``--set`` gives a value: its key, and for a section's value
    (``optim={name: adam, lr: 0.5}``) the keys inside it (``optim.name``, ``optim.lr``)."""
    key = set_key(item)
    if isinstance(item, tuple):
        value = item[1]
    else:
        text = item.partition("=")[2]
        try:
            value = _set_value(item, _key_parts(key), text)
        except ConfigError:  # (apply_sets has said it already)
            return [key]

    def inside(prefix: str, v: Any) -> list[str]:
        if not isinstance(v, dict):
            return []
        return [
            k for sub, x in v.items() for k in (f"{prefix}.{sub}", *inside(f"{prefix}.{sub}", x))
        ]

    return [key, *inside(key, value)]


def keys_given(sets: list[str | tuple[str, Any]] | None) -> list[str]:
    """Every dotted key the ``--set`` items ``sets`` give a value (:func:`set_keys` of each:
    ``train={epochs: 1}`` gives ``train`` and ``train.epochs``), in order."""
    return [key for item in sets or [] for key in set_keys(item)]


def plain_default(value: Any) -> bool:
    """True for a default that YAML writes and reads back as itself (tuples become lists)."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    return isinstance(value, list | tuple) and all(plain_default(v) for v in value)


def with_factory_defaults(
    config: Config, *, model_defaults: bool = True, built: dict[str, Any] | None = None
) -> Config:
    """``config`` with every option of its model, init scheme and optimizer written out.

    Those sections pass their extra keys to a factory, whose signature holds the defaults of
    the keys a config leaves out; filled in, ``config.yaml`` records the whole run even if a
    default changes later. Not filled: init options when a model overrides ``init.scheme``
    (another scheme takes other options; ``population.json`` records each model's), schedule
    parameters (some defaults derive from the run's length, e.g. cosine's ``t_max``;
    ``trainlab schedule`` shows them), and with ``model_defaults=False`` (a module given to
    ``train``, which ``config.model`` does not build) the model's: a recorded
    ``model.dropout: 0.0`` would read as given. ``built``: model options the built model
    resolved from the data where the config left them null (a convnet's default
    ``channels``, which depend on the input shape), written out too.
    """
    from . import init, models
    from .optim import optimizer_options

    raw = config.model_dump()
    keys = {k for m in config.population.variants for k in m} | set(config.population.grid)
    sections = [("model", models.model_options(config.model.name))] if model_defaults else []
    sections.append(("optim", optimizer_options(config.optim.name)))
    if "init.scheme" not in keys:
        sections.append(("init", init.scheme_options(config.init.scheme)))
    for section, options in sections:
        for key, default in options.items():
            if key not in raw[section] and plain_default(default):
                raw[section][key] = list(default) if isinstance(default, tuple) else default
    if model_defaults:
        with_default_widths(raw)
        for key, value in (built or {}).items():
            if raw["model"].get(key) is None:
                raw["model"][key] = value
    return parse_config(raw)


def with_default_widths(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` (a config as a dict) with an ``mlp``'s default hidden widths written out where
    it gives neither ``hidden`` nor ``depth`` (its signature's ``None`` resolves inside the
    model): ``config.yaml`` records the widths the run built."""
    model = raw.get("model")
    if (
        isinstance(model, dict)
        and model.get("name", "mlp") == "mlp"
        and model.get("hidden") is None
        and model.get("depth") is None
    ):
        from .models.mlp import DEFAULT_HIDDEN

        model["hidden"] = list(DEFAULT_HIDDEN)
    return raw


def dump_config(config: Config) -> str:
    """The fully resolved config as YAML (every default written out)."""
    return dump_yaml(config.model_dump(mode="json"))


def dump_yaml(data: Any) -> str:
    """``data`` as YAML that :func:`load_yaml` reads back as it was (a string that reads as a
    number, a run named ``1e-3``, is quoted); keys in their order."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)
