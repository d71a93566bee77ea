"""``trainlab pretrain CONFIG``: pre-train RBMs (a population), a DBN or a stacked DAE from a
YAML config and write a run directory with a report (filters, reconstructions, curves).

Example config (every key optional)::

    name: rbm-digits
    data: {name: digits, seed: 0, scale: minmax}   # minmax: [0, 1] (Bernoulli units)
    model: {kind: rbm, n_components: 100, visible: bernoulli}   # kind: rbm, dbn, sdae
    train: {learning_rate: 0.06, batch_size: 10, n_iter: 10, method: pcd, k: 1}
    seeds: [0, 1, 2]
    grid: {learning_rate: [0.01, 0.06]}          # rbm: one population over seeds x grid
    device: auto

Keys left out take ``model.kind``'s defaults (:data:`KIND_DEFAULTS`; an rbm with Gaussian
visible units: lr 0.01 and CD, :data:`GAUSSIAN_RBM_TRAIN`; a dbn with them: ``learning_rate:
null``, 0.01 for the Gaussian layer and 0.1 above); a key that the kind does
not use (``train.momentum`` for ``sdae``, ``model.layers`` for ``rbm``) is an error, never
silently ignored. ``rbm`` trains one population over ``seeds`` x ``grid``; ``dbn`` and ``sdae``
train one model per seed, one after another. Seeds are distinct integers in [0, 2**32 - 1] (each
becomes an estimator's ``random_state``); Bernoulli visible units and ``sdae`` need data in
[0, 1], so ``data.scale: standardize`` with them is an error. The config, the grid, the device
and the data's range are all checked before the run directory is made, and a failure that only
training finds (a DBN layer that diverges) removes the run again, so a mistake leaves no
half-made run behind.

Run directory: ``config.yaml`` (resolved), ``metrics.jsonl`` (``rbm``: one line per model and
pass with ``reconstruction_error``, ``pseudo_likelihood``; ``dbn``: the same per model, layer
and pass, each layer's on its own input; ``sdae``: one line per model, layer and pass with
``reconstruction_loss``; drawn as curves in the report), ``summary.json`` (per model its seed,
group and final numbers; ``aggregates`` and per grid point ``groups`` with mean, std and 95%
CI over seeds, as a training run's), ``model.npz``
(every model's parameters: ``rbm``: ``components_i``, ``intercept_hidden_i``,
``intercept_visible_i`` of model ``i``; ``dbn`` and ``sdae``: each layer ``j``'s parameters
under the names of :func:`_stack_arrays`, model 0's as they are and model ``i > 0``'s with a
``_model{i}`` suffix), ``report.html`` with ``figures/``.
"""

from __future__ import annotations

import json
import math
import numbers
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from scipy.special import expit

from ..config import (
    apply_sets,
    dump_yaml,
    keys_given,
    refuse_integer_text,
    takes_type,
    yaml_text_hint,
)
from ..data import with_absolute_path
from ..devices import resolve_device
from ..errors import (
    NO_RUN_YET,
    ConfigError,
    complete_run_note,
    did_you_mean,
    in_chain,
    note_interrupt,
    on_interrupt,
    reporting,
    shell_path,
)
from ..report.rundata import num  # a finite float or None (null in summary.json, "—")
from ..runs import RunDir, software_versions
from .progress import passes_shown

__all__ = ["PretrainConfig", "load_pretrain_config", "run_pretrain", "parse_grid", "load_module"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # a number key is no flag: YAML's true would be read as 1 (n_iter: true: one pass);
        # text keys refuse a bool themselves, sections check their own keys, options are free
        field = cls.model_fields[info.field_name or ""]
        if takes_type(field.annotation, int, float) and _holds_bool(value):
            raise ValueError(f"expected a number, got {json.dumps(value)}")
        hint = " (list the seeds: [0, 1, 2])" if info.field_name == "seeds" else ""
        refuse_integer_text(field.annotation, value, hint)  # ("0-9" is not -9)
        return value


def _holds_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_bool(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_bool(v) for v in value.values())
    return False


class PretrainData(_Strict):
    name: str = "digits"
    seed: int = Field(0, ge=0)
    scale: Literal["minmax", "standardize", "none"] = "minmax"
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _options_are_not_data_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in ("name", "seed", "scale"):
            if key in v:
                raise ValueError(
                    f"'{key}' is a key of data itself; write data.{key}, not in options"
                )
        return v


class PretrainModel(_Strict):
    """What to pre-train; a key left out takes ``kind``'s default (:data:`KIND_DEFAULTS`)."""

    kind: Literal["rbm", "dbn", "sdae"] = "rbm"
    n_components: int | None = Field(None, ge=1)  # rbm
    layers: list[Annotated[int, Field(ge=1)]] | None = Field(None, min_length=1)  # dbn, sdae
    visible: Literal["bernoulli", "gaussian"] | None = None  # rbm, dbn
    corruption: float | None = Field(None, ge=0.0, lt=1.0)  # sdae


class PretrainTrain(_Strict):
    """How to train; a key left out takes ``model.kind``'s default (:data:`KIND_DEFAULTS`)."""

    learning_rate: float | None = Field(None, gt=0.0)
    batch_size: int | None = Field(None, ge=1)
    n_iter: int | None = Field(None, ge=1)
    k: int | None = Field(None, ge=1)  # rbm, dbn
    method: Literal["pcd", "cd"] | None = None  # rbm, dbn
    momentum: float | None = Field(None, ge=0.0, lt=1.0)  # rbm, dbn
    weight_decay: float | None = Field(None, ge=0.0)  # rbm, dbn


#: per ``model.kind``, the keys of ``model`` and ``train`` that apply, with their defaults: the
#: RBM follows scikit-learn's digits example, the DBN and the stacked DAE take the defaults of
#: :class:`~trainlab.pretrain.DBN` and :class:`~trainlab.pretrain.StackedDenoisingAutoencoder`
KIND_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "rbm": {
        "model": {"n_components": 100, "visible": "bernoulli"},
        "train": {"learning_rate": 0.06, "batch_size": 10, "n_iter": 10, "k": 1,
                  "method": "pcd", "momentum": 0.0, "weight_decay": 0.0},
    },
    "dbn": {
        "model": {"layers": [256, 256], "visible": "bernoulli"},
        "train": {"learning_rate": 0.1, "batch_size": 10, "n_iter": 30, "k": 1,
                  "method": "cd", "momentum": 0.5, "weight_decay": 0.0},
    },
    "sdae": {
        "model": {"layers": [256, 256], "corruption": 0.25},
        "train": {"learning_rate": 1e-3, "batch_size": 32, "n_iter": 20},
    },
}  # fmt: skip

#: an ``rbm`` with ``visible: gaussian`` takes :class:`~trainlab.pretrain.GaussianBernoulliRBM`'s
#: lr and method instead: 0.06 with PCD sends Gaussian units on standardized digits to NaN
GAUSSIAN_RBM_TRAIN: dict[str, Any] = {"learning_rate": 0.01, "method": "cd"}


def kind_defaults(kind: str, visible: str | None = None) -> dict[str, dict[str, Any]]:
    """:data:`KIND_DEFAULTS` of ``kind``, with :data:`GAUSSIAN_RBM_TRAIN` for an ``rbm`` whose
    ``visible`` units are Gaussian, and ``learning_rate: null`` for such a ``dbn``
    (:class:`~trainlab.pretrain.DBN`'s default: 0.01 for the Gaussian layer, 0.1 above)."""
    defaults = KIND_DEFAULTS[kind]
    if kind == "rbm" and visible == "gaussian":
        return {**defaults, "train": {**defaults["train"], **GAUSSIAN_RBM_TRAIN}}
    if kind == "dbn" and visible == "gaussian":  # (DBN's own: 0.01 for the Gaussian layer)
        return {**defaults, "train": {**defaults["train"], "learning_rate": None}}
    return defaults


class PretrainConfig(_Strict):
    """A pre-training run (see the module docstring). Validation fills every key that
    ``model.kind`` uses with its default and rejects keys that it does not use."""

    name: str = "pretrain"
    data: PretrainData = Field(default_factory=PretrainData)
    model: PretrainModel = Field(default_factory=PretrainModel)
    train: PretrainTrain = Field(default_factory=PretrainTrain)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    grid: dict[Literal["learning_rate", "momentum", "weight_decay"], list[float]] = Field(
        default_factory=dict
    )
    device: str = "auto"

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, v: str) -> str:
        from ..config import check_run_name

        return check_run_name(v)

    @field_validator("seeds")
    @classmethod
    def _seeds_are_distinct_estimator_seeds(cls, v: list[int]) -> list[int]:
        # each seed becomes an estimator's random_state: scikit-learn takes [0, 2**32 - 1]
        bad = [s for s in v if not 0 <= s < 2**32]
        if bad:
            raise ValueError(f"seeds must be integers in [0, 2**32 - 1], got {bad[0]}")
        if len(set(v)) != len(v):
            dup = next(s for s in v if v.count(s) > 1)
            raise ValueError(f"seeds must be distinct; seed {dup} appears {v.count(dup)} times")
        return v

    @model_validator(mode="after")
    def _resolve_kind(self) -> PretrainConfig:
        kind = self.model.kind
        for section in ("model", "train"):
            part = getattr(self, section).model_copy()  # (a section passed in stays as it was)
            part.__pydantic_fields_set__ = set(part.model_fields_set)
            self.__dict__[section] = part
            used = kind_defaults(kind, self.model.visible)[section]  # model is filled first
            for key in type(part).model_fields:
                value = getattr(part, key)
                if key == "kind":
                    continue
                if key not in used and value is not None:
                    raise ValueError(
                        f"{section}.{key} does not apply to model.kind '{kind}'; remove it "
                        f"(it uses {section}: {', '.join(used)})"
                    )
                if key in used and value is None:  # (`momentum:` with no value: left out)
                    part.__dict__[key] = used[key]  # not marked as given (_given)
                    part.__pydantic_fields_set__.discard(key)
        if kind != "rbm" and self.grid:
            raise ValueError(f"grid works with model.kind 'rbm' (a population); got '{kind}'")
        for key, values in self.grid.items():
            low, high = _GRID_RANGES[key]
            bad = [v for v in values if not (v > low if key == "learning_rate" else v >= low)]
            bad += [v for v in values if high is not None and v >= high]
            if not values or bad:
                limits = f"> {low}" if key == "learning_rate" else f">= {low}"
                limits += f" and < {high}" if high is not None else ""
                raise ValueError(f"grid.{key} needs one or more values {limits}, got {values}")
            twice = next((v for v in values if values.count(v) > 1), None)
            if twice is not None:
                raise ValueError(f"grid.{key} lists {twice} twice; list each value once")
        unit = _unit_inputs(self.model)
        if unit is not None and self.data.scale == "standardize":
            what, fix = unit
            raise ValueError(
                f"data.scale 'standardize' gives values outside [0, 1], which {what} cannot "
                f"take; use data.scale: minmax{fix}"
            )
        return self


#: the values a ``grid`` axis may take: (low, high); learning_rate > low, the others >= low;
#: every value < high when high is set (the estimators' own ranges)
_GRID_RANGES: dict[str, tuple[float, float | None]] = {
    "learning_rate": (0.0, None),
    "momentum": (0.0, 1.0),
    "weight_decay": (0.0, None),
}


def _validate(raw: dict[str, Any], source: str) -> PretrainConfig:
    try:
        return PretrainConfig.model_validate(raw)
    except ValidationError as err:
        e = err.errors()[0]
        msg = str(e["msg"]).removeprefix("Value error, ")  # our own validators' messages
        loc = ".".join(str(p) for p in e["loc"])
        if len(e["loc"]) >= 2 and e["loc"][-1] == "[key]":  # a dict key: grid.foo.[key]
            loc = f"{'.'.join(str(p) for p in e['loc'][:-2])} key '{e['loc'][-2]}'"
        if not loc:  # PretrainConfig._resolve_kind
            raise ConfigError(f"{source}: {msg}") from None
        if e["type"] == "extra_forbidden":
            parent: Any = PretrainConfig
            for part in e["loc"][:-1]:
                parent = parent.model_fields[str(part)].annotation
            fields = list(getattr(parent, "model_fields", {}))
            hint = did_you_mean(str(e["loc"][-1]), fields)
            msg = f"unknown key '{loc}'{hint}; valid keys here: {', '.join(fields)}"
            if _looks_like_a_train_config(raw):
                msg += (
                    " (this looks like a `trainlab train` config; `trainlab pretrain` takes "
                    "model.kind rbm, dbn or sdae, see examples/pretrain_rbm.yaml)"
                )
            raise ConfigError(f"{source}: {msg}") from None
        raise ConfigError(f"{source}: {loc}: {msg}{yaml_text_hint(e, loc)}") from None


def _looks_like_a_train_config(raw: dict[str, Any]) -> bool:
    """True for a ``trainlab train`` config passed to ``trainlab pretrain`` by mistake."""
    model = raw.get("model")
    return bool({"optim", "init", "schedule", "population"} & set(raw)) or (
        isinstance(model, dict) and "name" in model
    )


#: the top-level keys that hold a section: one left empty (its keys commented out) is {}
_SECTIONS = frozenset({"data", "model", "train", "grid"})


def load_pretrain_config(
    path: str | Path | None, sets: list[str | tuple[str, Any]] | None = None
) -> PretrainConfig:
    """Read a YAML pre-training config (``None``: the defaults) and apply ``--set key=value``
    overrides (:func:`trainlab.config.apply_sets`, e.g. ``train.n_iter=2``). A top-level
    section left empty (``train:`` with its keys commented out) takes its defaults."""
    raw: Any = {}
    source = "config"
    if path is not None:
        from ..config import read_yaml_file

        path, source = Path(path), str(path)
        raw = read_yaml_file(path) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping (name:, data:, model:, train:, ...)")
        raw = {k: {} if v is None and k in _SECTIONS else v for k, v in raw.items()}
    if sets:
        raw, source = apply_sets(raw, list(sets)), f"{source} with --set"
    return _sets_reach_a_model(_validate(raw, source), sets)


def _given(cfg: PretrainConfig) -> dict[str, Any]:
    """``cfg`` as a raw config without the defaults its ``model.kind`` filled in: ``--set``
    applies to it as to the YAML it came from (``model.kind=sdae`` on an rbm config would
    otherwise meet the rbm's ``n_components``, which the sdae does not take)."""
    raw = cfg.model_dump(exclude_none=True)
    for section in ("model", "train"):
        given = getattr(cfg, section).model_fields_set  # (filled defaults are not: _resolve_kind)
        raw[section] = {k: v for k, v in raw.get(section, {}).items() if k in given}
    return raw


def _sets_reach_a_model(
    cfg: PretrainConfig, sets: list[str | tuple[str, Any]] | None
) -> PretrainConfig:
    """``cfg``, after a ConfigError for a ``--set train.KEY`` or a ``train.KEY`` the config
    gives that ``grid`` sets for every model (config.yaml would record a value that no model
    trains with)."""
    for key in keys_given(sets):  # (train={...} too)
        section, _, name = key.partition(".")
        if section == "train" and name in cfg.grid:
            raise ConfigError(
                f"--set {key} changes no model: grid.{name} sets it for every model; change "
                f"the grid (--grid {name}=v1,v2) or leave it out"
            )
    given = sorted(set(cfg.grid) & cfg.train.model_fields_set)  # (not the kind's defaults)
    if given:
        raise ConfigError(
            f"train.{given[0]} changes no model: grid.{given[0]} sets it for every model; "
            f"remove train.{given[0]} (or the grid axis)"
        )
    return cfg


def parse_grid(items: list[str] | None) -> dict[str, list[float]]:
    """``["learning_rate=0.01,0.1", "momentum=0,0.5"]`` -> ``{"learning_rate": [0.01, 0.1],
    "momentum": [0.0, 0.5]}``."""
    out: dict[str, list[float]] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        if not sep or not values.strip():
            raise ConfigError(f"--grid '{item}' is not understood; write key=v1,v2")
        key = key.strip()
        if key in out:
            raise ConfigError(
                f"--grid {key} is given twice; list all its values once: {key}=v1,v2,..."
            )
        if key not in _GRID_RANGES:  # (a population has one shape, one method, one visible type)
            keys = ", ".join(_GRID_RANGES)
            raise ConfigError(
                f"--grid: grid key '{key}' is not one a population of RBMs can vary (one "
                f"shape, one method, one visible type); grid {keys}"
            )
        try:
            out[key] = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise ConfigError(f"--grid '{item}': values must be numbers") from None
    return out


def _data(
    cfg: PretrainConfig,
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], tuple[np.ndarray, np.ndarray] | None]:
    """The training and test inputs, flat and scaled by ``data.scale``; their shape; and the
    scaling ``(shift, scale)`` (``x' = (x − shift) / scale`` per feature; None for ``none``),
    which ``model.npz`` keeps so that :func:`load_module` can fold it into the first layer."""
    from .. import data as data_mod

    # unsupervised: no validation split, its rows train too (data.options.val_fraction: keep one)
    options = {"val_fraction": 0.0, **cfg.data.options}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            d = data_mod.load(cfg.data.name, seed=cfg.data.seed, **options)
    finally:  # (also when loading fails: the warnings said before its error)
        for w in caught:  # said again with pretrain's keys (data.options.*)
            text = str(w.message)
            if text.startswith("data.val_fraction=0 is ignored") and "val_fraction" not in (
                cfg.data.options
            ):
                continue  # (a file's own validation split: our 0 is not the user's)
            for split in ("val", "test"):
                text = text.replace(f"data.{split}_fraction=", f"data.options.{split}_fraction=")
            warnings.warn(text, w.category, stacklevel=3)
    xtr = d.x_train.flatten(1).numpy().astype(np.float64)  # (a split may be empty)
    xte = d.x_test.flatten(1).numpy().astype(np.float64)
    if not len(xte) and d.meta.get("test_fraction") is None:  # the data's own test split
        raise ConfigError(
            f"data '{cfg.data.name}' comes with its own test split, which is empty, but the "
            "pre-training report shows test reconstructions; give the data test samples "
            "(an .npz file: x_test/y_test)"
        )
    scaling = None
    if cfg.data.scale == "minmax":  # fitted on the training split; test clipped into [0, 1]
        lo, hi = xtr.min(0), xtr.max(0)
        span = np.where(hi > lo, hi - lo, 1.0)
        xtr, xte = (xtr - lo) / span, np.clip((xte - lo) / span, 0.0, 1.0)
        scaling = (lo, span)
    elif cfg.data.scale == "standardize":  # the trainer's rule (constant features centred)
        from ..data.preprocess import Standardize

        z = Standardize().fit(xtr)
        xtr, xte = (z.transform(x).numpy() for x in (xtr, xte))
        scaling = (z.mean_.numpy(), z.std_.numpy())
    return xtr, xte, tuple(d.input_shape), scaling


# ------------------------------------------------------------------------------ figures
def _image_shape(input_shape: tuple[int, ...], v: int) -> tuple[int, int] | None:
    """How to draw ``v`` values as an image: ``(H, W)`` of an image input, ``(C·H, W)`` of a
    ``(C, H, W)`` one (its channels stacked), a square for ``v`` values of unknown shape, or
    None (a 1-D input: drawn as curves)."""
    dims = [s for s in input_shape if s > 1]
    if len(dims) >= 2 and math.prod(dims) == v:
        return math.prod(dims[:-1]), dims[-1]
    r = int(math.isqrt(v))
    return (r, r) if r * r == v and len(dims) != 1 else None


#: filters drawn in a report's grid (a caption says "first 64 of H" when there are more)
MAX_FILTERS = 64


def filters_caption(components: np.ndarray, whose: str) -> str:
    """``"<whose> filters"``, or ``"<whose>: first 64 of 100 filters"`` when the grid is cut."""
    h = len(components)
    return f"{whose}: {'all ' if h <= MAX_FILTERS else f'first {MAX_FILTERS} of '}{h} filters"


def filters_figure(components: np.ndarray, input_shape: tuple[int, ...], n: int = MAX_FILTERS):
    """The first ``n`` rows of ``components`` (H, V) as an image grid (or as curves)."""
    from ..report.plots import subplots

    comps = components[:n]
    shape = _image_shape(input_shape, comps.shape[1])
    cols = int(math.ceil(math.sqrt(len(comps))))
    rows = int(math.ceil(len(comps) / cols))
    fig, axes = subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9), squeeze=False)
    for ax, w in zip(axes.flat, comps, strict=False):
        if shape is not None:
            ax.imshow(w.reshape(shape), cmap="gray", interpolation="nearest")
        else:
            ax.plot(w, lw=0.8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout(pad=0.1)
    return fig


def reconstructions_figure(x: np.ndarray, x_rec: np.ndarray, input_shape: tuple[int, ...]):
    """Top row: inputs; bottom row: their reconstructions, on one grey scale: [0, 1] for data in
    [0, 1], else the inputs' own range (standardized data has negative values). Data that is
    not an image is drawn as lines, all on one y-scale that holds the inputs and their
    reconstructions (a flat reconstruction must look flat beside its input)."""
    from ..report.plots import subplots

    n = len(x)
    shape = _image_shape(input_shape, x.shape[1])
    lo, hi = float(x.min()), float(x.max())
    vmin, vmax = (0.0, 1.0) if lo >= 0.0 and hi <= 1.0 else (lo, hi)
    both = np.concatenate([x.ravel(), x_rec.ravel()])
    both = both[np.isfinite(both)]
    ylim = None
    if both.size:
        y0, y1 = float(both.min()), float(both.max())
        pad = 0.05 * (y1 - y0) or 0.05 * max(abs(y1), 1.0)
        ylim = (y0 - pad, y1 + pad)
    fig, axes = subplots(2, n, figsize=(n * 0.9, 2.0), squeeze=False)
    for i in range(n):
        for r, arr in enumerate((x, x_rec)):
            ax = axes[r, i]
            if shape is not None:
                ax.imshow(arr[i].reshape(shape), cmap="gray", vmin=vmin, vmax=vmax)
            else:
                ax.plot(arr[i], lw=0.8)
                if ylim is not None:
                    ax.set_ylim(*ylim)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize=7)
    axes[1, 0].set_ylabel("recon.", fontsize=7)
    fig.tight_layout(pad=0.1)
    return fig


#: the panel titles (and y labels) of :func:`curves_figure`'s tracked quantities
CURVE_TITLES = {
    "reconstruction_error": "reconstruction error (mean squared)",
    "pseudo_likelihood": "pseudo-log-likelihood (per sample)",
    "reconstruction_loss": "reconstruction loss (cross-entropy)",
}


def curves_figure(
    history: dict[str, Any], labels: list[str], baselines: dict[str, float] | None = None
):
    """Each tracked quantity of ``history`` (``epoch`` and ``(rows, passes)`` arrays, e.g.
    reconstruction error and pseudo-likelihood) per pass, one line per row (model or layer).
    ``baselines``: per quantity, the value of the trivial model that predicts each input's
    mean over the training set, drawn as a dashed line: a curve near it has learned little."""
    from ..report.plots import subplots

    keys = [k for k, v in history.items() if k != "epoch" and v is not None]
    fig, axes = subplots(1, len(keys), figsize=(5 * len(keys), 3.2), squeeze=False)
    epochs = history["epoch"]
    from matplotlib.ticker import MaxNLocator

    for ax, key in zip(axes[0], keys, strict=True):
        for row, label in zip(np.asarray(history[key]), labels, strict=True):
            ax.plot(epochs, row, label=label, lw=1, marker="o", ms=3)  # (one pass: a point)
        base = (baselines or {}).get(key)
        if base is not None and math.isfinite(base):
            ax.axhline(base, color="0.35", ls="--", lw=1, label="predict the mean input")
        ax.set_xlabel("pass over the data")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        title = CURVE_TITLES.get(key, key.replace("_", " "))
        ax.set_title(title)
        ax.set_ylabel(title.split(" (")[0])
    if len(labels) <= 10:
        for ax in axes[0]:  # (each panel: the baseline is its own)
            if ax is axes[0, 0] or any(line.get_linestyle() == "--" for line in ax.get_lines()):
                ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ the run
def _rbm_reconstruct(est, x: np.ndarray) -> np.ndarray:
    """Mean-field reconstruction ``E[v | E[h | v]]``."""
    h = est.transform(x)
    mean = h @ est.components_ + est.intercept_visible_
    return expit(mean) if est._visible == "bernoulli" else mean


#: samples of each layer's input on which a DBN's training curves are tracked
MONITOR = 1000


def _monitored(n: int, what: str = "training samples") -> str:
    """The samples the curves track: ``"the first 1000 training samples"``, or all ``n``."""
    return f"the first {MONITOR} {what}" if n > MONITOR else f"all {n} {what}"


def _fit_stack(cfg: PretrainConfig, seed: int, xtr: np.ndarray, x_show: np.ndarray):
    """Fit the DBN or stacked DAE of ``cfg`` with ``seed``; returns it and the mean-field
    reconstructions of ``x_show`` (up through every layer, then back down)."""
    from .autoencoder import StackedDenoisingAutoencoder
    from .dbn import DBN

    t, m = cfg.train, cfg.model
    if m.kind == "sdae":
        est = StackedDenoisingAutoencoder(
            m.layers,
            corruption=m.corruption,
            learning_rate=t.learning_rate,
            batch_size=t.batch_size,
            n_iter=t.n_iter,
            random_state=seed,
            device=cfg.device,
        ).fit(xtr)
        return est, est.reconstruct(x_show)
    est = DBN(
        m.layers,
        learning_rate=t.learning_rate,
        batch_size=t.batch_size,
        n_iter=t.n_iter,
        k=t.k,
        method=t.method,
        momentum=t.momentum,
        weight_decay=t.weight_decay,
        visible=m.visible,
        random_state=seed,
        monitor=MONITOR,
        device=cfg.device,
    ).fit(xtr)
    h = est.transform(x_show)
    for rbm in reversed(est.rbms_):  # mean-field down pass
        h = h @ rbm.components_ + rbm.intercept_visible_
        if rbm._visible == "bernoulli":
            h = expit(h)  # (1 / (1 + exp(-h)) warns of overflow for saturated units)
    return est, h


def _check_before_run(cfg: PretrainConfig, xtr: np.ndarray, xte: np.ndarray) -> None:
    """The device exists, and units that need inputs in [0, 1] get them on both splits (the
    report transforms the test split; ``data.scale: none`` keeps the data's own range)."""
    from .rbm import outside_unit_interval

    resolve_device(cfg.device)
    if not len(xte):
        raise ConfigError(
            f"data '{cfg.data.name}' has an empty test split, but the pre-training report "
            "shows test reconstructions; set data.options.test_fraction above 0"
        )
    unit = _unit_inputs(cfg.model)
    if unit is not None and (outside_unit_interval(xtr) or outside_unit_interval(xte)):
        what, fix = unit
        both = np.concatenate([xtr.ravel(), xte.ravel()])  # (a split may be empty)
        lo, hi = float(both.min()), float(both.max())
        raise ConfigError(
            f"data '{cfg.data.name}' with data.scale '{cfg.data.scale}' has values in "
            f"[{lo:.4g}, {hi:.4g}], but {what} needs them in [0, 1]; use data.scale: minmax{fix}"
        )


def _unit_inputs(model: PretrainModel) -> tuple[str, str] | None:
    """For a model whose visible units need inputs in [0, 1] (Bernoulli RBMs, the SDAE):
    ``(what, fix)`` for an error message naming it and the other way out; else None."""
    if model.kind == "sdae":
        return "model.kind 'sdae'", ""
    if model.visible == "bernoulli":
        return "model.visible 'bernoulli'", " (or model.visible: gaussian)"
    return None


def _stack_arrays(est: Any, kind: str) -> dict[str, np.ndarray]:
    """Every layer's parameters, by name: a DBN's ``components_j``, ``intercept_hidden_j``,
    ``intercept_visible_j`` (and ``log_variance_0`` of a Gaussian first layer); an SDAE's
    ``weight_j``, ``hidden_bias_j``, ``visible_bias_j``."""
    out: dict[str, np.ndarray] = {}
    if kind == "dbn":
        for j, r in enumerate(est.rbms_):
            out[f"components_{j}"] = r.components_
            out[f"intercept_hidden_{j}"] = r.intercept_hidden_
            out[f"intercept_visible_{j}"] = r.intercept_visible_
            if getattr(r, "log_variance_", None) is not None:
                out[f"log_variance_{j}"] = r.log_variance_
    else:
        for j, (w, c, b) in enumerate(est.layers_):
            out[f"weight_{j}"], out[f"hidden_bias_{j}"], out[f"visible_bias_{j}"] = w, c, b
    return out


def _stacks_into_run(
    cfg: PretrainConfig,
    run: Any,
    rep: Any,
    xtr: np.ndarray,
    x_show: np.ndarray,
    in_shape: tuple[int, ...],
    scaling: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[list[dict[str, Any]], np.ndarray, float]:
    """``dbn`` / ``sdae``: fit one stack per seed, one after another, writing each one's
    metrics, model 0's curves and filters, and every stack's parameters to ``model.npz``
    (model 0 under the plain names, model ``i > 0`` with a ``_model{i}`` suffix); returns the
    summary rows, model 0's reconstructions of ``x_show[:10]`` and the seconds the fits took
    (with their reconstructions of ``x_show``).

    A row's final numbers: ``test_reconstruction_error``, the mean squared error of the
    stack's mean-field reconstruction (up through every layer, then back down) of the test
    split ``x_show``; and the first layer's last pass on its training input,
    ``train_reconstruction_error`` and ``train_pseudo_likelihood`` (dbn, where tracked) or
    ``train_reconstruction_loss`` (sdae)."""
    t, m = cfg.train, cfg.model
    arrays: dict[str, np.ndarray] = {}
    models: list[dict[str, Any]] = []
    seconds = 0.0
    for i, seed in enumerate(cfg.seeds):
        t0 = time.perf_counter()
        est, recon_i = _fit_stack(cfg, seed, xtr, x_show)
        seconds += time.perf_counter() - t0
        n_layers = len(m.layers)
        if m.kind == "dbn":
            comps_i = est.rbms_[0].components_
            curves = {
                key: [h[key] if h[key] else [math.nan] * t.n_iter for h in est.history_]
                for key in ("reconstruction_error", "pseudo_likelihood")
            }
            # (a Gaussian first layer tracks no pseudo-likelihood: its row has no such key)
            first = {key for key in curves if est.history_[0][key]}
        else:
            comps_i = est.layers_[0][0]
            curves = {"reconstruction_loss": est.history_["loss"]}
            first = set(curves)
        curves = {k: v for k, v in curves.items() if not np.isnan(v).all()}  # tracked only
        run.append_metrics(  # every layer makes t.n_iter passes
            [
                {"model": i, "layer": li + 1, "epoch": e + 1,
                 **{k: float(v[li][e]) for k, v in curves.items() if not math.isnan(v[li][e])}}
                for li in range(n_layers)
                for e in range(t.n_iter)
            ]
        )  # fmt: skip
        if i == 0:
            fig = curves_figure(
                {
                    "epoch": list(range(1, t.n_iter + 1)),
                    **{k: np.asarray(v) for k, v in curves.items()},
                },
                [f"layer {li + 1}" for li in range(n_layers)],
            )
            pl = (  # (a Gaussian layer tracks none: drawn only where a layer tracked it)
                " and pseudo-log-likelihood" if "pseudo_likelihood" in curves else ""
            )
            what = (
                f"each layer's reconstruction error (mean squared, mean-field){pl} on "
                f"{_monitored(len(xtr), 'samples of its input')}"
                if m.kind == "dbn"
                else "each layer's reconstruction loss (cross-entropy on its corrupted input)"
            )
            rep.add_figure("curves", fig, f"model 0, after each pass: {what}")
            rep.add_figure(
                "filters",
                filters_figure(comps_i, in_shape),
                filters_caption(comps_i, "model 0, first layer"),
            )
            recon = recon_i[:10]
        suffix = "" if i == 0 else f"_model{i}"
        arrays.update({f"{k}{suffix}": v for k, v in _stack_arrays(est, m.kind).items()})
        row: dict[str, Any] = {"index": i, "seed": seed, "group": "default", "layers": m.layers}
        for key, values in curves.items():  # the first layer's last pass
            if key not in first:
                continue
            name = "train_reconstruction_error" if key == "reconstruction_error" else f"train_{key}"
            row[name] = num(np.asarray(values[0])[-1])
        row["test_reconstruction_error"] = num(((recon_i - x_show) ** 2).mean())
        models.append(row)
    _save_npz(run.path / "model.npz", arrays, scaling)
    rep.add_table(
        "Models (final numbers)",
        [{k: v for k, v in r.items() if k != "layers"} for r in models],
        caption="train: the first layer's last pass on the training data; test: the mean "
        "squared error of the stack's mean-field reconstruction of the test split",
    )
    return models, recon, seconds


def _save_npz(
    path: Path, arrays: dict[str, np.ndarray], scaling: tuple[np.ndarray, np.ndarray] | None
) -> None:
    """``np.savez`` written atomically (temp file, fsync, rename), as every run file is; with
    the run's input scaling (:func:`_data`) as ``input_shift`` and ``input_scale``."""
    import io

    from ..atomic import atomic_write_bytes

    if scaling is not None:
        arrays = {**arrays, "input_shift": scaling[0], "input_scale": scaling[1]}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


#: the final numbers of a model row that summary.json aggregates over seeds
_FINAL = (
    "train_reconstruction_error",
    "test_reconstruction_error",
    "train_pseudo_likelihood",
    "test_pseudo_likelihood",
    "train_reconstruction_loss",  # sdae
)


def _aggregated(models: list[dict[str, Any]], axes: list[str]) -> dict[str, Any]:
    """``aggregates`` over all models and ``groups`` (one per grid point: ``group``,
    ``overrides``, ``n``, ``aggregates``) as a training run's summary has them: mean, std and
    95% CI (:func:`trainlab.report.aggregate`) of each final number, diverged models left out."""
    from ..report.stats import aggregate

    def agg(rows: list[dict[str, Any]]) -> dict[str, Any]:
        keys = [k for k in _FINAL if any(k in r for r in rows)]
        return {k: aggregate(r.get(k) for r in rows if not r.get("diverged")) for k in keys}

    groups: dict[str, list[dict[str, Any]]] = {}
    for r in models:
        groups.setdefault(r.get("group", "default"), []).append(r)
    return {
        "aggregates": agg(models),
        "groups": [
            {"group": g, "overrides": {a: rows[0][a] for a in axes}, "n": len(rows),
             "aggregates": agg(rows)}
            for g, rows in groups.items()
        ],
    }  # fmt: skip


@contextmanager
def _discarded_unless_done(run: RunDir, *, existed: bool, given: Path) -> Iterator[None]:
    """Remove what a run wrote when it fails (on the user's settings, out of memory, ...) or
    is interrupted (Ctrl-C) before it is complete (its ``summary.json`` written), once ``run``
    is claimed (``RunDir.create`` in the block: a folder it refuses is another run's): a
    pre-training run does not resume, so that the same ``--out`` can be used again; the folder
    ``given`` stays (emptied) if it ``existed`` before. A complete run stays, its report to
    render again (:func:`~trainlab.errors.complete_run_note`)."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as err:
        interrupted = in_chain(err, KeyboardInterrupt) is not None  # (or an error over one)
        if not run.claimed:
            if interrupted:
                note_interrupt(err, NO_RUN_YET)
            raise
        if (run.path / "summary.json").is_file():  # (its report failed or was stopped)
            if interrupted:
                note_interrupt(err, complete_run_note(run.path))
            elif not isinstance(err, OSError):  # (a full disk: reporting's note says so)
                where = shell_path(run.path)
                err.add_note(
                    f"the run {where} is complete and kept: `trainlab report {where}` renders "
                    "its report"
                )
            raise
        if interrupted:
            where = shell_path(run.path)
            note_interrupt(err, f"the unfinished run {where} was removed; run it again")
        run.discard(keep_folder=existed and run.path == given)  # (renumbered: its own)
        raise


def run_pretrain(
    config: PretrainConfig | str | Path | None,
    *,
    out: str | Path | None = None,
    grid: dict[str, list[float]] | None = None,
    device: str | None = None,
    sets: list[str | tuple[str, Any]] | None = None,
    progress: bool = False,
) -> Path:
    """Pre-train what ``config`` (a :class:`PretrainConfig` or a YAML path; ``None``: the
    defaults) says, with ``sets`` (``["train.n_iter=2"]``), ``grid`` and ``device`` applied;
    write the run directory and its report; returns it. ``progress``: count the passes over
    the data on a bar with ETA (a population's passes train all its models at once)."""
    from ..report import Report, build_report
    from ..train import default_run_dir
    from .population import RBMPopulation

    if isinstance(config, PretrainConfig):
        # validated again even without sets: the object may have been edited in place
        cfg = _validate(apply_sets(_given(config), list(sets or [])), "--set" if sets else "config")
    else:
        cfg = load_pretrain_config(config, sets)
    set_axes = {k[5:] for k in keys_given(sets) if k.startswith("grid.")}
    both = sorted(set_axes & set(grid or {}))
    if both:  # (one of the two would be dropped)
        raise ConfigError(
            f"--grid {both[0]}=... and --set grid.{both[0]}=... both give that axis; give it "
            "one way"
        )
    if grid or device is not None:  # (--device '' is refused, as by every command)
        raw = _given(cfg)  # (the kind's defaults stay defaults: a --grid axis may replace one)
        for key in grid or {}:  # --grid replaces the config's value (as --set would): a run's
            raw.get("train", {}).pop(key, None)  # own config.yaml re-run as a sweep
        raw["grid"] = {**raw["grid"], **(grid or {})}
        if device is not None:
            raw["device"] = device
        given = ["--grid"] * bool(grid) + ["--device"] * (device is not None)
        cfg = _validate(raw, "/".join(given))
    cfg = _sets_reach_a_model(cfg, sets)  # (after --grid, which may add the axis a --set sets)
    t, m = cfg.train, cfg.model
    # everything that can be checked is checked before the run directory exists, so that a
    # mistake leaves no half-made run behind (a rerun with the same --out would be refused);
    # a pre-training run does not resume: an interrupt here says so (not "trainlab resume")
    with on_interrupt(NO_RUN_YET):
        xtr, xte, in_shape, scaling = _data(cfg)
        _check_before_run(cfg, xtr, xte)
    if m.kind == "rbm":
        pop = RBMPopulation(  # validates every grid point
            m.n_components,
            seeds=cfg.seeds,
            learning_rate=cfg.grid.get("learning_rate", t.learning_rate),
            momentum=cfg.grid.get("momentum", t.momentum),
            weight_decay=cfg.grid.get("weight_decay", t.weight_decay),
            batch_size=t.batch_size,
            n_iter=t.n_iter,
            k=t.k,
            method=t.method,
            visible=m.visible,
            device=cfg.device,
        )
    run_path = Path(out) if out is not None else default_run_dir(cfg.name)
    existed = run_path.exists()  # (create() accepts only an empty folder)
    run = RunDir(run_path)
    # a failure that only training can find (a DBN layer that diverges) removes the run again,
    # and so does an interrupt, the claim included; once complete (summary.json), it stays
    with _discarded_unless_done(run, existed=existed, given=run_path):
        run.create(renumber=out is None)
        (run.path / "checkpoints").rmdir()  # made for training runs; the weights: model.npz
        # the resolved config: every key the run used, none that it did not (loads back as is)
        resolved = cfg.model_dump(exclude_none=True)
        for section in ("model", "train"):  # a key the kind uses whose value is null (a
            used = kind_defaults(m.kind, m.visible)[section]  # Gaussian dbn's learning_rate:
            for key in used:  # per layer) is written as null, not left out
                resolved[section].setdefault(key, None)
        for key in cfg.grid:  # set per model by the grid: no train value was used
            resolved["train"].pop(key, None)
        resolved["data"]["options"] = with_absolute_path(cfg.data.options)
        run.write_text("config.yaml", dump_yaml(resolved))
        rep = Report(run.path, title=f"Pre-training: {cfg.name}")
        models: list[dict[str, Any]] = []
        passes = t.n_iter * (1 if m.kind == "rbm" else len(cfg.seeds) * len(m.layers))
        bar = passes_shown(cfg.name, passes, progress)
        if m.kind == "rbm":
            with bar, warnings.catch_warnings():  # (diverged models are flagged in the table)
                warnings.filterwarnings("ignore", r"RBMPopulation: .* diverged", UserWarning)
                pop.fit(xtr)
            fit_seconds = pop.fit_time_  # (training only: not the run's files and figures)
            hist = pop.history_
            rows, lines = [], []
            for i, (mem, est) in enumerate(zip(pop.members_, pop.estimators_, strict=True)):
                # inf/NaN weights, or weights so large the training error overflowed: no test
                # numbers (and no numpy warnings), left out of the grid's means
                last = hist["reconstruction_error"]
                diverged = i in pop.diverged_ or (last is not None and not np.isfinite(last[i, -1]))
                test_rec = (
                    math.nan if diverged else ((_rbm_reconstruct(est, xte) - xte) ** 2).mean()
                )
                row = {
                    "index": i,
                    "seed": mem.seed,
                    "group": mem.group,
                    "learning_rate": mem.learning_rate,
                    "momentum": mem.momentum,
                    "weight_decay": mem.weight_decay,
                    "diverged": diverged,  # its numbers are null
                    "train_reconstruction_error": num(hist["reconstruction_error"][i, -1]),
                    "test_reconstruction_error": num(float(test_rec)),
                }
                if hist["pseudo_likelihood"] is not None:
                    row["train_pseudo_likelihood"] = num(hist["pseudo_likelihood"][i, -1])
                    test_pl = math.nan if diverged else est.score_samples(xte).mean()
                    row["test_pseudo_likelihood"] = num(float(test_pl))
                rows.append(row)
                for e, ep in enumerate(hist["epoch"]):
                    line = {"model": i, "epoch": ep}
                    for key in ("reconstruction_error", "pseudo_likelihood"):
                        if hist[key] is not None:
                            line[key] = float(hist[key][i, e])
                    lines.append(line)
            run.append_metrics(lines)  # one write (and fsync) for every model's passes
            models = rows
            _save_npz(
                run.path / "model.npz",
                {
                    f"{name}_{i}": getattr(e, f"{name}_")
                    for name in ("components", "intercept_hidden", "intercept_visible")
                    for i, e in enumerate(pop.estimators_)
                },
                scaling,
            )
            rep.add_table("Models (final pass)", rows)
            if len(cfg.seeds) > 1:
                from ..report.tables import fmt_over_seeds as pm  # 4 decimals, 1e-3 sci.

                live = [r for r in rows if not r.get("diverged")]
                rep.add_table(
                    "Grid points over seeds (final pass)",
                    [
                        {"group": g, **{k: pm([r[k] for r in live if r["group"] == g])
                                        for k in _FINAL if k in rows[0]}}
                        for g in dict.fromkeys(r["group"] for r in rows)
                    ],
                    caption="mean ± std over seeds (n, and the 95% CI half-width); diverged "
                    "models left out",
                )  # fmt: skip
            labels = [f"{r['group']} seed {r['seed']}" for r in rows]
            tracked = "reconstruction error (mean squared, mean-field)" + (
                " and pseudo-log-likelihood" if hist["pseudo_likelihood"] is not None else ""
            )
            seen = xtr[:MONITOR]  # (the samples the curves track: PassMonitor's)
            mean_error = float(((seen - xtr.mean(0)) ** 2).mean())
            rep.add_figure(
                "curves",
                curves_figure(hist, labels, {"reconstruction_error": mean_error}),
                f"{tracked} of {_monitored(len(xtr))} after each pass; dashed: the "
                f"reconstruction error of predicting every input as the training mean "
                f"({mean_error:.4f}), what a model that learned nothing else scores",
            )
            # the filters and reconstructions of the first model that trained (a diverged
            # model's NaN weights would draw blank squares)
            shown = next((r["index"] for r in rows if not r["diverged"]), None)
            if shown is None:
                rep.add_text("Every model diverged: no filters or reconstructions to show.")
                recon = None
            else:
                est, r = pop.estimators_[shown], rows[shown]
                whose = f"model {shown} ({r['group']} seed {r['seed']})"
                rep.add_figure(
                    "filters",
                    filters_figure(est.components_, in_shape),
                    filters_caption(est.components_, whose),
                )
                recon = _rbm_reconstruct(est, xte[:10])
                recon_of = f" by {whose}"
        else:
            with bar:
                models, recon, fit_seconds = _stacks_into_run(
                    cfg, run, rep, xtr, xte, in_shape, scaling
                )
            recon_of = " by model 0"
        if recon is not None:
            rep.add_figure(
                "reconstructions",
                reconstructions_figure(xte[:10], recon, in_shape),
                f"test inputs (top) and their reconstructions (bottom){recon_of}",
            )
        rep.save_sections(include_standard=False)  # what `trainlab report` rebuilds from
        run.write_json(
            "summary.json",
            {
                "name": cfg.name,
                "kind": m.kind,
                "k": len(models),
                "fit_seconds": fit_seconds,
                "models": models,
                "diverged": [r["index"] for r in models if r.get("diverged")],
                **_aggregated(models, list(cfg.grid)),
                "versions": software_versions(resolve_device(cfg.device)),
            },
        )
        # the run is complete (summary.json, its report's sections): a report that fails or
        # is interrupted while it renders leaves it whole, and `trainlab report` renders it
        with reporting(run.path):
            build_report(run.path)
    return run.path


def _fold_scaling(
    path: Path, arrays: dict[str, np.ndarray], weight: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The first layer ``(W, b)`` taking unscaled inputs: ``W / scale`` and ``b − (W / scale)
    · shift``, from the run's ``input_shift``/``input_scale`` (:func:`_data`)."""
    import yaml

    shift, scale = arrays.get("input_shift"), arrays.get("input_scale")
    if shift is None or scale is None:
        try:
            data = (yaml.safe_load((path / "config.yaml").read_text()) or {}).get("data") or {}
        except (OSError, yaml.YAMLError, AttributeError):
            data = {}
        if isinstance(data, dict) and data.get("scale") == "none":
            return weight, bias  # the run took its inputs as they are
        raise ConfigError(
            f"{path / 'model.npz'} does not record the run's input scaling (written by an "
            "older trainlab, or damaged); re-run the pre-training, or scale the inputs as the "
            "run did and leave raw_inputs=False"
        )
    v = weight.shape[1]
    floats = shift.dtype.kind == "f" and scale.dtype.kind == "f"
    if not (
        floats
        and shift.shape == scale.shape == (v,)
        and np.isfinite(shift).all()
        and np.isfinite(scale).all()
        and (scale > 0).all()
    ):
        raise ConfigError(
            f"{path / 'model.npz'}: input_shift/input_scale do not hold {v} finite shifts and "
            "positive scales; the file is damaged: re-run the pre-training"
        )
    w = weight / scale[None, :]
    b = bias - w @ shift
    if not (np.isfinite(w).all() and np.isfinite(b).all()):  # (a subnormal scale: damage too)
        raise ConfigError(
            f"{path / 'model.npz'}: input_scale folds into non-finite first-layer weights; the "
            "file is damaged: re-run the pre-training"
        )
    return w, b


def load_module(
    run_dir: str | Path,
    n_classes: int,
    *,
    model: int = 0,
    activation: str = "sigmoid",
    generator: Any = None,
    raw_inputs: bool = False,
):
    """The pre-trained model ``model`` of a ``trainlab pretrain`` run unrolled into a trainlab
    MLP, to fine-tune: ``fine_tune(load_module("runs/dbn-digits", 10), dataset)``, or
    ``trainlab.train(cfg, model=...)`` with ``init.scheme: keep`` (any other scheme draws the
    weights afresh).

    The run pre-trained on inputs scaled by its ``data.scale`` (``minmax``: each feature
    mapped to [0, 1] by the training split's min and max; ``standardize``). By default the
    module expects inputs scaled the same way; ``raw_inputs=True`` folds that scaling into the
    first layer, ``W' = W / scale``, ``b' = b − W' · shift``, so that the module takes the data
    as ``trainlab.data.load`` (and so the trainer, with no ``data.preprocess``) gives it — the
    same hidden activations, except that held-out values outside the training range are not
    clipped into [0, 1] as the run clipped its test split.

    Reads ``summary.json`` (the run's kind; written last, so the run is complete) and
    ``model.npz``: an ``rbm`` run gives one hidden layer, ``dbn`` and ``sdae`` one per layer of
    the stack, with the weights as :meth:`DBN.to_module` / the SDAE's ``to_module()`` unroll
    them (a Gaussian first layer folds ``1 / s²`` into its weight). ``n_classes``, ``activation``
    and ``generator`` (draws the output layer) are :func:`trainlab.pretrain.unroll`'s.
    """
    from ..report.rundata import read_json
    from .dbn import unroll

    path = Path(run_dir)
    if not (path / "summary.json").is_file():
        raise ConfigError(
            f"{path} is not a finished `trainlab pretrain` run (it has no summary.json); "
            "pass the folder that `trainlab pretrain` printed"
        )
    summary = read_json(path / "summary.json")
    kind = summary.get("kind") if isinstance(summary, dict) else None
    if not isinstance(kind, str) or kind not in KIND_DEFAULTS:
        raise ConfigError(
            f"{path} is not a `trainlab pretrain` run (its summary.json has no kind rbm, dbn or "
            "sdae); a training run's models load with trainlab.load_run"
        )
    rows = summary.get("models", [])
    if not isinstance(rows, list):
        raise ConfigError(
            f"{path / 'summary.json'} is corrupt ('models' is not a list); re-run the pre-training"
        )
    k = len(rows)
    if isinstance(model, bool | np.bool_) or not isinstance(model, numbers.Integral):
        raise ConfigError(f"model must be an int index (0 to {k - 1}), got {model!r}")
    model = int(model)  # (np.int64 from a loop over np.arange(K))
    if not 0 <= model < k:
        raise ConfigError(f"{path} holds models 0 to {k - 1}; got model={model}")
    if model in (summary.get("diverged") or []):
        raise ConfigError(f"model {model} of {path} diverged (inf/NaN weights); pick another")
    import zipfile

    try:
        with np.load(path / "model.npz") as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ConfigError(
            f"{path / 'model.npz'} cannot be read ({err}); re-run the pre-training"
        ) from None
    if kind == "rbm":
        names = [(f"components_{model}", f"intercept_hidden_{model}", None)]
    else:
        suffix = "" if model == 0 else f"_model{model}"
        w, b = ("components", "intercept_hidden") if kind == "dbn" else ("weight", "hidden_bias")
        n = sum(1 for name in arrays if name.startswith(f"{w}_") and name.endswith(suffix)
                and name.removesuffix(suffix).removeprefix(f"{w}_").isdigit())  # fmt: skip
        row = rows[model] if isinstance(rows[model], dict) else {}
        widths = row.get("layers")  # (what the run trained: a lost top layer is damage)
        if isinstance(widths, list) and widths:
            n = len(widths)
        names = [
            (f"{w}_{j}{suffix}", f"{b}_{j}{suffix}", f"log_variance_{j}{suffix}") for j in range(n)
        ]
    layers = []
    for w_name, b_name, var_name in names:
        if w_name not in arrays or b_name not in arrays:
            raise ConfigError(
                f"{path / 'model.npz'} lacks {w_name} or {b_name}; re-run the pre-training"
            )
        for name, dims in ((w_name, 2), (b_name, 1), (var_name, 1)):
            a = arrays.get(name)
            if a is not None and not (
                a.ndim == dims and a.dtype.kind == "f" and bool(np.isfinite(a).all())
            ):
                raise ConfigError(
                    f"{path / 'model.npz'}: {name} is not a finite {dims}-D float array "
                    f"({a.dtype} {a.shape}); the file is damaged: re-run the pre-training"
                )
        weight = arrays[w_name]
        if var_name in arrays and arrays[var_name].shape != (weight.shape[1],):
            raise ConfigError(
                f"{path / 'model.npz'}: {var_name} holds {arrays[var_name].shape[0]} variances "
                f"for {weight.shape[1]} visible units; the file is damaged: re-run the "
                "pre-training"
            )
        if var_name in arrays:  # a Gaussian-Bernoulli layer: its recognition weight W / s²
            weight = weight * np.exp(-arrays[var_name])[None, :]
        layers.append((weight, arrays[b_name]))
    if not layers:
        raise ConfigError(f"{path / 'model.npz'} holds no layer of model {model}")
    if raw_inputs:
        layers[0] = _fold_scaling(path, arrays, *layers[0])
    return unroll(layers, int(layers[0][0].shape[1]), n_classes, activation, generator)
