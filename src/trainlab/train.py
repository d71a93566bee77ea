"""The trainer: the one training loop of trainlab. A single run is a population of one.

Per step, for every model k of the population at once (no host syncs)::

    idx_k = perm_k[s·B : (s+1)·B]            # the model's own data order (trainlab.rng)
    loss_k = CE(f_k(X[idx_k]), Y[idx_k])      # (K,)
    g = ∇ Σ_k loss_k                          # each slice of g is model k's own gradient
    finite_k = isfinite(loss_k) ∧ isfinite(‖g_k‖)   # a NaN/Inf model stops, the others go on
    lr_k = schedule_k(step) · base_lr_k · running_k
    θ ← optimizer(θ, g, lr)

Metrics stay on the device and are read once per epoch, after evaluating every model on the
validation and test splits. Checkpoints are written atomically every ``checkpoint_every``
epochs; :func:`resume` continues a killed run to the same final weights (bitwise on CPU).
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import math
import os
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import rng
from .config import (
    Config,
    Member,
    _as_declared,
    as_config,
    check_base_init,
    declared_grid,
    declared_variants,
    dump_config,
    load_config,
    members,
    plain_default,
    resolve,
    schedule_epochs,
    schedule_kwargs,
    with_default_widths,
    with_factory_defaults,
)
from .devices import autocast_off, autocasting, flushes_denormals, resolve_device
from .errors import (
    NO_RUN_YET,
    ConfigError,
    UserError,
    complete_run_note,
    describe_change,
    note_complete,
    on_interrupt,
    out_of_memory,
    resume_command,
    shell_path,
)
from .malloc import keep_freed_memory
from .population import Population, embedding_modules
from .runs import RunDir, complete_run, next_free_dir, software_versions, to_jsonable
from .stopping import early_stopping_update

__all__ = [
    "Trainer",
    "RunResult",
    "train",
    "resume",
    "load_run",
    "resolve_device",
    "default_run_dir",
    "load_dataset",
    "check_optimizer",
]

_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")


class ChosenPath(type(Path())):  # type: ignore[misc]
    """A run folder name trainlab chose, not the user's ``--out``: :func:`train` claims it with
    ``renumber`` (a run started at the same moment takes the next free ``-N``)."""


def default_run_dir(name: str, root: str | Path = "runs") -> Path:
    """``runs/<name>``, or ``runs/<name>-2``, ``-3``, … if taken: never an existing folder (a
    :class:`ChosenPath`: given to :func:`train` as ``out``, it is renumbered if taken by the
    time the run claims it)."""
    return ChosenPath(next_free_dir(Path(root) / name))


def load_dataset(config: Config) -> Any:
    """The :class:`trainlab.data.Dataset` that ``config.data`` names, split and preprocessed."""
    from . import data

    d = config.data
    return data.load(
        d.name,
        seed=d.seed,
        val_fraction=d.val_fraction,
        test_fraction=d.test_fraction,
        preprocess=d.preprocess,
        **d.options,
    )


@contextmanager
def float32_default() -> Iterator[None]:
    """torch's default dtype is float32 inside the block (the caller's restored afterwards), so
    that models and buffers made there do not follow a ``torch.set_default_dtype(torch.float64)``
    made elsewhere in the process: a model's result depends only on its config and seed."""
    before = torch.get_default_dtype()
    if before == torch.float32:
        yield
        return
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


@contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
    """``torch.set_float32_matmul_precision(precision)`` inside the block, the caller's setting
    restored afterwards. ``"high"``: float32 matrix products on CUDA in TF32 (tensor cores:
    products of 10-bit-mantissa operands, float32 sums); ``"highest"``: in float32."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def _trainer_context(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` inside :func:`float32_default`, with autograd on whatever the caller's
    mode (a training called inside ``torch.no_grad()`` or ``torch.inference_mode()`` trains),
    autocast off (inside a caller's ``torch.autocast`` it trains in float32, as outside),
    and with the matrix-product precision of the config (:func:`matmul_precision`): TF32 for a
    CUDA trainer with ``train.tf32``, else float32 whatever the caller set (a process-wide
    ``torch.set_float32_matmul_precision("high")`` would make a model's result depend on it)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        want = "high" if getattr(args[0], "tf32", False) else "highest"
        if torch.get_float32_matmul_precision() != want:
            with matmul_precision(want):
                return _in_context(method, *args, **kwargs)
        return _in_context(method, *args, **kwargs)

    return wrapper


def _in_context(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    autocast = autocasting()
    if torch.is_grad_enabled() and not torch.is_inference_mode_enabled() and not autocast:
        with float32_default():  # (the usual case: per step, fewer context managers)
            return method(*args, **kwargs)
    # (in a caller's torch.autocast region the models train in float32, as outside it)
    f32, off = float32_default(), autocast_off(autocast)
    with f32, torch.inference_mode(False), torch.enable_grad(), off:
        return method(*args, **kwargs)


@dataclass
class RunResult:
    """What :func:`train` returns: the run directory, its summary and the trained population;
    with ``train.diagnose_every`` and no run directory (``write=False``), ``diagnostics`` holds
    the records a run would write to ``diagnostics.jsonl`` (else it is empty: read the file)."""

    run_dir: Path | None
    summary: dict[str, Any]
    members: list[Member]
    population: Population = field(repr=False)
    diagnostics: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def model(self, i: int) -> nn.Module:
        """Model ``i`` as a plain ``nn.Module``."""
        return self.population.unstack(i)


class Trainer:
    """Train ``config``'s population (``seeds × variants × grid`` models) in lockstep.

    Args:
        config: the run's :class:`~trainlab.config.Config`.
        device: ``auto``, ``cpu``, ``cuda`` or a ``torch.device``.
        model: a plain ``nn.Module`` to train instead of ``config.model`` (its weights are kept
            when ``config.init.scheme == "keep"``).
        dataset: a :class:`trainlab.data.Dataset` instead of ``config.data``.
    """

    @_trainer_context
    def __init__(
        self,
        config: Config,
        *,
        device: str | torch.device = "auto",
        model: nn.Module | None = None,
        dataset: Any = None,
    ) -> None:
        from . import optim

        if not isinstance(config, Config):
            raise UserError(f"config must be a trainlab Config, got {type(config).__name__}")
        if model is not None and not isinstance(model, nn.Module):
            what = f"the class {model.__name__}" if isinstance(model, type) else repr(model)
            raise UserError(
                f"model must be an nn.Module instance, got {what[:80]}; for a built-in model "
                "set config.model instead"
            )
        if model is not None:
            from .population import refuse_uncopyable

            refuse_uncopyable(model)  # before the first deepcopy (_check_fits)
            from .init import refuse_lazy, refuse_meta

            refuse_lazy(model, "pass it to the trainer")  # before anything reads a shape
            refuse_meta(model, "pass it to the trainer")
        _check_dataset_type(dataset)
        _refuse_full_batch_optimizer(config)
        self.config = config
        self.device = resolve_device(device)
        if self.device.type == "cpu":
            keep_freed_memory()  # a population's big per-step buffers: no page faults each step
        self.members = members(config)
        self.k = k = len(self.members)
        check_base_init(config, self.members)
        _warn_ignored_sections(config, model, dataset)
        self.custom_model = model is not None
        self.model_record = _module_record(model) if model is not None else None
        self.custom_dataset = dataset is not None
        cfgs = [resolve(config, m.overrides) for m in self.members]

        # (trainlab.data.load checks the data sets it reads; a dataset given is checked here)
        data = dataset.checked() if dataset is not None else load_dataset(config)
        self.data = data.to(self.device)
        if config.train.early_stopping_patience is not None and len(self.data.x_val) == 0:
            given_val = data.meta.get("val_fraction", 0) is None  # the data's own, empty
            fix = (  # a dataset given to train() is used as it is: config.data does not apply
                "give the dataset a validation split (e.g. "
                "trainlab.pretrain.arrays_dataset(..., val_fraction=0.1))"
                if dataset is not None
                else "the file's x_val/y_val are empty: give them samples, or leave them out "
                "of the file and set data.val_fraction > 0"
                if given_val
                else "set data.val_fraction > 0"
            )
            raise UserError(  # the validation metric would be NaN: every model would stop
                "train.early_stopping_patience needs a validation split, but the data has none; "
                f"{fix} or remove early stopping"
            )

        from .models.mlp import check_dropout  # a bad rate: one line, alone or per model

        dropouts = [check_dropout(getattr(c.model, "dropout", 0.0)) for c in cfgs]
        template = model if model is not None else self._build_model(max(dropouts))
        # options the built model resolved from the data where the config left them null (a
        # convnet's default channels depend on the input shape): config.yaml records them
        self.built_options: dict[str, Any] = {}
        from .models import model_options

        if (
            model is None
            and "channels" in model_options(self.config.model.name)  # (an option it takes)
            and self.config.model.kwargs("name").get("channels") is None
        ):
            chans = getattr(template, "channels", None)
            if isinstance(chans, tuple | list):
                self.built_options["channels"] = [int(c) for c in chans]
        floats = {p.dtype for p in template.parameters() if p.is_floating_point()}
        # (integer inputs: token ids for an nn.Embedding, or pixels a forward casts itself;
        # a model that cannot take them fails _check_fits, which names the cast)
        if self.data.x_train.is_floating_point() and floats - {self.data.x_train.dtype}:
            fix = (  # the side to change: the module the user passed, or else their data
                f"cast the model to the data's dtype (e.g. model.float() for {torch.float32})"
                if model is not None
                else "cast the data's inputs to torch.float32 (the built-in models' dtype)"
            )
            raise UserError(
                f"the model's parameters are {', '.join(sorted(map(str, floats)))}, but the data "
                f"is {self.data.x_train.dtype}: {fix}"
            )
        self._check_fits(template)
        self.pop = Population(template, k, [m.seed for m in self.members])
        self._init_members(template, cfgs)
        self.pop.to(self.device)
        # config.model builds its dropout with the rate (default 0); a module given keeps its
        # own rates in every model whose model.dropout is not given (globally, even 0, or as
        # its override), whatever the other models' (a resume restores the rates trained)
        rates = torch.tensor(dropouts, dtype=torch.float64)
        if not self.custom_model:
            if any(dropouts) or any("model.dropout" in m.overrides for m in self.members):
                self.pop.set_dropout_p(rates)
        else:
            glob = "dropout" in (config.model.model_extra or {})
            given = [glob or "model.dropout" in m.overrides for m in self.members]
            if any(given):
                self.pop.set_dropout_p(rates, models=torch.tensor(given))

        self.params = [p for p in self.pop.parameters() if p.requires_grad]
        if not self.params:
            raise UserError(
                "the model has no trainable parameters (every one has requires_grad=False); "
                "unfreeze some to train it"
            )
        hp = _per_model(_optim_keys(cfgs), cfgs)
        from .optim.base import hyper_dtype

        # float64 as torch.optim's Python floats: the schedule's value is rounded once, where
        # the optimizer meets the parameters' dtype
        self.base_lr = torch.tensor(
            [c.optim.lr for c in cfgs], dtype=hyper_dtype(self.device), device=self.device
        )
        hp["lr"] = self.base_lr
        self.optimizer = optim.create_optimizer(config.optim.name, self.params, **_on(hp, self))
        n = self.data.x_train.shape[0]
        self.batch_size = min(config.train.batch_size, n)
        self.steps_per_epoch = math.ceil(n / self.batch_size)
        if self.batch_size == 1 or n % self.batch_size == 1:
            self._check_one_sample_batch(template, n)
        self._check_one_sample_splits(template)
        given = schedule_kwargs(config, self.members)
        self.schedule = optim.create_schedule(
            config.schedule.name,
            self.base_lr,
            total_steps=schedule_epochs(config) * self.steps_per_epoch,
            steps_per_epoch=self.steps_per_epoch,
            **given,
        )
        record_schedule_overrides(self.members, self.schedule, given)
        self.step = 0
        self.epoch = 0
        self.diagnostics: list[dict[str, Any]] = []  # a run without a folder: watch records
        dev = self.device
        self.alive = torch.ones(k, dtype=torch.bool, device=dev)  # no NaN/Inf so far
        self.active = torch.ones(k, dtype=torch.bool, device=dev)  # not early-stopped
        self.nan_step = torch.full((k,), -1, dtype=torch.int64, device=dev)
        self.best = [math.inf] * k
        self.bad_epochs = [0] * k
        self.stopped_step: list[int | None] = [None] * k
        #: the NaN/Inf stops found by an epoch's evaluation (non-finite weights after its last
        #: update), not by a step's loss or gradient: no step ``nan_step`` was taken
        self.eval_stopped: list[bool] = [False] * k
        self.last: list[dict[str, float]] = [{} for _ in range(k)]
        self.lr_override: torch.Tensor | None = None
        self._reset_accumulators()
        #: float32 matmuls in TF32 (train.tf32; CUDA only: on the CPU the setting is ignored)
        self.tf32 = config.train.tf32 and self.device.type == "cuda"
        from .cuda_graphs import graphs_for

        self._graphs = graphs_for(self)  # None: every step eager (CPU, loop mode, or off)

    # -- construction -----------------------------------------------------------------------------
    def _build_model(self, dropout: float) -> nn.Module:
        from . import models

        kw = self.config.model.kwargs("name")
        if dropout:
            kw["dropout"] = dropout  # layers must exist; each model's rate is set afterwards
        # torch's default layer init draws from the global generator: build the template from
        # a fixed seed and leave the caller's stream as it was (init.scheme 'keep' then starts
        # from the same weights whatever the caller seeded)
        with torch.random.fork_rng(devices=[]):  # the CPU generator only (CUDA's untouched)
            torch.default_generator.manual_seed(rng.seed_key("template"))
            return models.create(
                self.config.model.name,
                input_shape=tuple(self.data.input_shape),
                num_classes=self.data.num_classes,
                **kw,
            )

    def _check_fits(self, model: nn.Module) -> None:
        """Run two training samples through a copy on the CPU: a clear error on a mismatch."""
        x = self.data.x_train[:2]
        # (torch's shape errors: RuntimeError, or a layer's own ValueError, "expected 4D input";
        # a forward that cannot be called with the batch alone: _probe's UserError)
        y, err = _probe(model, x, training=False, errors=(RuntimeError, ValueError, IndexError))
        dtype_fix = _input_dtype_fix(model, x, err) if err is not None else None
        if dtype_fix is not None:
            raise UserError(
                f"the model does not accept data '{self.data.name}' of dtype {x.dtype} ({err}); "
                f"{dtype_fix}"
            )
        ids = not x.is_floating_point() and bool(embedding_modules(model))  # (token ids)
        if err is not None and ids and _out_of_range(err):
            raise UserError(_ids_error(self.data.name, "training", x, err))
        if err is not None:
            raise UserError(
                f"shape mismatch: the model does not accept data '{self.data.name}' of shape "
                f"{tuple(x.shape[1:])} ({err}); check the model's settings"
            )
        if not isinstance(y, torch.Tensor) or not y.is_floating_point():
            what = type(y).__name__ if not isinstance(y, torch.Tensor) else f"{y.dtype} tensor"
            raise UserError(
                f"the model's forward returns a {what}; the trainer needs one floating-point "
                "(batch, classes) tensor of logits: return only the logits"
            )
        if any(p.requires_grad for p in model.parameters()) and not _trains_through(model, x):
            raise UserError(
                "the model's output does not depend on its trainable parameters (detached, or "
                "computed under torch.no_grad()): the trainer cannot backpropagate through it"
            )
        if tuple(y.shape) != (2, self.data.num_classes):
            raise UserError(
                f"shape mismatch: the model gives outputs {tuple(y.shape[1:])} per sample, but "
                f"data '{self.data.name}' has {self.data.num_classes} classes"
            )
        if ids:
            self._check_ids(model)

    def _check_ids(self, model: nn.Module) -> None:
        """Token ids past an embedding's rows, anywhere in the data, refused before training
        (a population under vmap would read a neighbour's row for them, a CUDA lookup assert):
        every split run once through a CPU copy of one model."""
        probe = copy.deepcopy(model).cpu().eval()
        size = self.config.train.eval_batch_size  # (what evaluation fits in memory with)
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            for split in ("train", "val", "test"):
                x = getattr(self.data, f"x_{split}")
                for chunk in x.split(size) if len(x) else ():  # (an empty split: no forward)
                    try:
                        probe(chunk.cpu().clone())
                    except (IndexError, RuntimeError) as err:
                        msg = str(err).strip().splitlines()[0]
                        if not _out_of_range(msg):
                            raise
                        raise UserError(_ids_error(self.data.name, split, chunk, msg)) from None

    def _check_one_sample_batch(self, model: nn.Module, n: int) -> None:
        """Some training batches hold one sample: refuse a model that cannot train on one
        (batch norm over a single value per channel), in one line naming the fix."""
        _, err = _probe(model, self.data.x_train[:1], training=True, errors=ValueError)
        if err is not None:
            where = (
                "every batch holds one sample (train.batch_size 1)" if self.batch_size == 1
                else f"the last batch of each epoch holds one sample ({n} training samples, "
                f"train.batch_size {self.batch_size})"
            )  # fmt: skip
            raise UserError(
                f"{where}, which the model cannot train on ({err}); choose another train.batch_size"
            )

    def _check_one_sample_splits(self, model: nn.Module) -> None:
        """A val or test split of one sample: refuse a model that cannot evaluate one (batch
        norm without running statistics normalizes with the batch's own), naming the split; and
        ``train.eval_batch_size`` 1 for such a model (every evaluation chunk one sample; with
        neither split, of the training split's pass at the run's end)."""
        # (neither split: the run's last epoch evaluates the training split, _judged_on_train)
        splits = [x for x in (self.data.x_val, self.data.x_test) if len(x)] or [self.data.x_train]
        if self.config.train.eval_batch_size == 1 and len(splits[0]):
            _, err = _probe(model, splits[0][:1], training=False, errors=ValueError)
            if err is not None:
                raise UserError(
                    f"train.eval_batch_size 1 evaluates one sample at a time, which the model "
                    f"cannot ({err}); set train.eval_batch_size to 2 or more"
                )
        for split in ("val", "test"):
            x = getattr(self.data, f"x_{split}")
            if len(x) != 1:
                continue
            _, err = _probe(model, x, training=False, errors=ValueError)
            if err is not None:
                raise UserError(
                    f"the {split} split holds one sample, which the model cannot evaluate "
                    f"({err}); give the {split} split at least 2 samples"
                )

    def _init_members(self, template: nn.Module, cfgs: list[Config]) -> None:
        """Initialize each model from its own seed and init config (trainlab.init).

        Parameters that no scheme covers (``init.skipped_parameters``: an ``nn.LSTM``'s, an
        ``nn.Embedding``'s) are drawn per model too, by their module's own
        ``reset_parameters()`` (PyTorch's default init) from the model's seed, so that models of
        different seeds never share them; a parameter whose module has no ``reset_parameters``,
        or one that leaves it alone (an ``nn.Linear`` subclass's extra parameter), keeps the
        template's value in every model (a warning names it).
        """
        from . import init as init_mod
        from .population import _python_state, _restore_python_state

        work = copy.deepcopy(template).cpu()
        start = copy.deepcopy(work.state_dict())  # every model starts from the user's weights
        # and from its non-persistent buffers (the state_dict has the others) and plain-number
        # attributes: LSUV's forwards may advance them (a step counter), which must not reach
        # the next model (its slot)
        start_buffers = {n: b.clone() for n, b in work.named_buffers() if n not in start}
        start_python = _python_state(work)
        n = len(self.data.x_train)
        skipped = set(init_mod.skipped_parameters(work))
        own = {  # module -> the names of its own parameters
            prefix: {f"{prefix}.{p}" if prefix else p for p, _ in m.named_parameters(recurse=False)}
            for prefix, m in work.named_modules()
        }
        owners = {
            prefix: m
            for prefix, m in work.named_modules()
            if own[prefix] & skipped and callable(getattr(m, "reset_parameters", None))
        }
        # the parameters those calls draw: found by their values at the first draw (an inherited
        # reset_parameters, nn.Linear's in a subclass, leaves the subclass's extra ones alone)
        redrawn: set[str] | None = None
        for member, cfg in zip(self.members, cfgs, strict=True):
            scheme = cfg.init.scheme
            work.load_state_dict(start)  # not from the model initialized before it (its slot)
            _restore_python_state(start_python)
            with torch.no_grad():
                for name, value in start_buffers.items():
                    work.get_buffer(name).copy_(value)
            batch = None
            if scheme != "keep":
                if owners:  # PyTorch's default init, from this model's seed
                    with torch.random.fork_rng(devices=[]):  # (CPU only: no CUDA reseed)
                        torch.default_generator.manual_seed(
                            rng.seed_key("init-default", member.seed)
                        )
                        for m in owners.values():
                            m.reset_parameters()
                    if redrawn is None:
                        drawn = set().union(*(own[prefix] for prefix in owners)) & skipped
                        values = dict(work.named_parameters())
                        redrawn = {p for p in drawn if not torch.equal(values[p], start[p])}
                if scheme == "lsuv":  # a random batch of its own: stored data may be class-sorted
                    pick = torch.Generator().manual_seed(rng.seed_key("lsuv-batch", member.seed))
                    idx = torch.randperm(n, generator=pick)[:256]
                    batch = self.data.x_train[idx.to(self.data.x_train.device)].cpu()
                gen = torch.Generator().manual_seed(rng.seed_key("init", member.seed))
                with warnings.catch_warnings():  # said once below, for the trainer's case
                    warnings.filterwarnings("ignore", r"init\.apply\(.*unchanged", UserWarning)
                    init_mod.apply(
                        work,
                        scheme,
                        generator=gen,
                        data=batch if scheme == "lsuv" else None,
                        **cfg.init.kwargs("scheme"),
                    )
            else:  # no change; its options are checked as any scheme's (init: {bais: 0.01})
                init_mod.apply(work, scheme, **cfg.init.kwargs("scheme"))
            self.pop.load_member(member.index, work.state_dict())
        if skipped and any(c.init.scheme != "keep" for c in cfgs):
            redrawn = redrawn or set()
            kept = [p for p in init_mod.skipped_parameters(work) if p not in redrawn]
            parts = []
            if redrawn:
                names = sorted(redrawn)
                parts.append(
                    f"{', '.join(names[:6])}{' ...' * (len(names) > 6)} drawn per model by "
                    "PyTorch's default init (their modules' reset_parameters), not by the scheme"
                )
            if kept:
                parts.append(
                    f"{', '.join(kept[:6])}{' ...' * (len(kept) > 6)} kept as the module given "
                    "has them, the same in every model (initialize them yourself)"
                )
            from .population import _caller_stacklevel

            warnings.warn(f"init: {'; '.join(parts)}", UserWarning, stacklevel=_caller_stacklevel())

    # -- one step ----------------------------------------------------------------------------------
    def _reset_accumulators(self) -> None:
        from .optim.base import hyper_dtype

        # float64 (float32 on MPS): a float64 run's losses are not rounded to float32
        sums = self.__dict__.get("_sums")
        if sums is None:  # made once, then zeroed in place: a CUDA graph adds into them
            z = torch.zeros(self.k, device=self.device, dtype=hyper_dtype(self.device))
            sums = self.__dict__["_sums"] = [z.clone() for _ in range(4)]
        else:
            torch._foreach_zero_(sums)
        # per model: summed loss and correct predictions (per sample), gradient norm and steps
        # whose gradient norm was clipped (per step)
        self._sum_loss, self._sum_acc, self._sum_gnorm, self._sum_clipped = sums
        self._steps_in_epoch = 0
        self._samples_in_epoch = 0  # per model: every model sees every batch of the epoch

    @property
    def running(self) -> torch.Tensor:
        """``(K,)`` bool: the models that still train (finite so far, not early-stopped)."""
        return self.alive & self.active

    def _scheduled_lr(self, step: int | torch.Tensor | None = None) -> torch.Tensor:
        """``(K,)`` learning rates of this step, or of global step ``step`` (schedule × base, or
        the override)."""
        if self.lr_override is not None:
            return self.lr_override
        return self.schedule(self.step if step is None else step)

    @functools.cached_property
    def _statistics(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The population's buffers that a training forward may update (batch-norm running
        statistics and counts; a user module's own), and a preallocated copy of each, which
        :meth:`step_on` fills before every forward: a model whose step fails (NaN/Inf) gets
        the statistics from before that step back, as it gets its weights. (Found at the first
        step, after the population moved to its device.)"""
        from .population import SeededDropout

        stats = [
            b
            for m in self.pop.net.modules()
            if not isinstance(m, SeededDropout)  # (its seed and rate: no forward changes them)
            for b in m.buffers(recurse=False)
        ]
        return stats, [torch.empty_like(b) for b in stats]

    @functools.cached_property
    def _eval_uses_batch_stats(self) -> bool:
        """Whether a model may normalize evaluation batches with their own statistics (a batch
        norm without running statistics), so that the evaluation chunk must not shrink with K:
        any vmap/loop population too, whose forward trainlab cannot see into (a user's own
        batch norm)."""
        from torch.nn.modules.batchnorm import _BatchNorm

        from .population import _StackedBatchNorm

        if self.pop.mode != "stacked":
            return True
        mods = [*self.pop.net.modules(), *self.pop._template.modules()]
        return any(
            (isinstance(m, _BatchNorm) and not m.track_running_stats)
            or (isinstance(m, _StackedBatchNorm) and not m.track)
            for m in mods
        )

    def current_lr(self, step: int | torch.Tensor | None = None) -> torch.Tensor:
        """``(K,)`` learning rates for this step (or global step ``step``): the scheduled ones,
        0 for stopped models."""
        return self._scheduled_lr(step) * self.running

    @_trainer_context
    def step_on(self, idx: torch.Tensor) -> torch.Tensor:
        """One optimizer step of every model on its batch ``idx`` ``(K, b)``; returns loss ``(K,)``.

        No host sync: everything returned stays on the device. On CUDA the step is replayed
        from a CUDA graph where it can be (:mod:`trainlab.cuda_graphs`, ``train.cuda_graph``).
        ``idx`` must be an integer tensor on the trainer's device (its shape, dtype and device
        are checked; its values are not, which would sync: torch's indexing refuses them).
        """
        if (
            not isinstance(idx, torch.Tensor)
            or idx.dim() != 2
            or idx.shape[0] != self.k
            or idx.shape[1] == 0  # (an empty batch's mean loss is NaN: every model would stop)
            or idx.dtype not in (torch.int64, torch.int32)
            or idx.device.type != self.device.type  # (a trainer on "cuda" takes "cuda:N")
            or (self.device.index is not None and idx.device.index != self.device.index)
        ):
            got = (
                f"{tuple(idx.shape)} {idx.dtype} on {idx.device}"
                if isinstance(idx, torch.Tensor)
                else type(idx).__name__
            )
            raise UserError(
                f"step_on takes the training rows of each model's batch as a (K={self.k}, b) "
                f"int64 (or int32) tensor on {self.device}, b >= 1, got {got}"
            )
        if not self.pop.training:
            self.pop.train()
        loss = self._graphs.step(idx) if self._graphs is not None else None
        if loss is None:
            self.pop.set_step(self.step)
            if self._graphs is not None:  # computed as a replay computes them
                loss = self._graphs.eager_step(idx)
            else:
                loss = self._step_kernels(idx, self.step)
        self._steps_in_epoch += 1
        self._samples_in_epoch += idx.shape[1]
        self.step += 1
        return loss

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """``pop(x)`` of a training step; where the only hooks at the population's root are
        those of watches that would only count this step (a ``train.diagnose_every`` watch
        between its samples), ``pop.forward(x)``, with the step counted for them instead
        (:func:`trainlab.diagnostics.watch.counting_watches`): an unsampled step then calls
        none of their module or autograd hooks (their optimizer hook, ~3 µs, still runs)."""
        if not self.pop._forward_hooks:  # (no watch: nothing to look up)
            return self.pop(x)
        from .diagnostics.watch import counting_watches

        watches = counting_watches(self.pop)
        if watches is None:
            return self.pop(x)
        for w in watches:  # (counted first, as their hooks count it before the forward)
            w.count_replayed_step()
        return self.pop.forward(x)

    def _step_kernels(self, idx: torch.Tensor, step: int | torch.Tensor) -> torch.Tensor:
        """The device work of :meth:`step_on` at global step ``step`` (an int, or a 0-d int64
        device tensor while the step is captured into a CUDA graph): forward, backward, the
        NaN/Inf bookkeeping, the optimizer step and the epoch's sums. No host counter moves
        here, and no tensor the trainer keeps is replaced (a graph replays into them)."""
        cfg = self.config.train
        x = _gather_rows(self.data.x_train, idx, on_cpu=self.device.type == "cpu")  # (K, b, ...)
        y = self.data.y_train[idx]  # (K, b)
        # stopped models (NaN or early-stopped) keep their batch-norm statistics; on the CPU,
        # reading the mask is a memory read (no sync), so the all-running case skips the copies
        on_cpu = self.device.type == "cpu"
        running = self.running
        self.pop.set_frozen(None if on_cpu and bool(running.all()) else ~running)
        stats, saved = self._statistics
        if stats:  # a model that fails in this step gets its statistics back (below)
            torch._foreach_copy_(saved, stats)
        flat = self._forward(x).flatten(0, 1)  # (K*b, C), contiguous
        loss = F.cross_entropy(flat, y.flatten(), reduction="none")
        loss = loss.view(self.k, -1).mean(1)  # (K,)
        self.optimizer.zero_grad(set_to_none=True)
        try:
            loss.sum().backward()
        except RuntimeError as err:
            if "escaped from inside a function being vmapped" not in str(err):
                raise
            raise UserError(
                f"the backward of {type(self.pop._template).__name__} fails under torch.vmap "
                "(a tensor escaped its vmapped forward: torch.utils.checkpoint with "
                "use_reentrant=False does this); a population cannot checkpoint (its recompute "
                "reads one shared copy of the weights): remove the checkpointing"
            ) from None
        clipped = None  # (K,) bool: the models whose gradient was clipped (norm or value)
        if cfg.clip_norm is not None:
            from .optim import clip_grad_norm_

            gnorm, clipped = clip_grad_norm_(self.params, cfg.clip_norm, k=self.k)
        else:
            gnorm = _grad_norms(self.params, self.k)
        if cfg.clip_value is not None:
            from .optim import clip_grad_value_

            by_value = clip_grad_value_(self.params, cfg.clip_value)
            if by_value is not None:
                clipped = by_value if clipped is None else clipped | by_value
        finite = torch.isfinite(loss.detach()) & torch.isfinite(gnorm)
        # only a model still training can fail: an early-stopped one keeps its status
        failed = self.running & ~finite
        self.nan_step.copy_(torch.where(failed, step, self.nan_step))
        self.alive &= ~failed
        if clipped is not None:  # the steps a model takes (not a stopped or failing one's)
            self._sum_clipped += (clipped & self.running).float()
        if stats and (not on_cpu or bool(failed.any())):  # (on the CPU a memory read)
            with torch.no_grad():  # as its weights: the statistics from before the failed step
                for b, old in zip(stats, saved, strict=True):
                    b.copy_(torch.where(failed.view(-1, *([1] * (b.dim() - 1))), old, b))
        running = self.running
        # a stopped model gets no update at all, not even from NaN grads
        kept: tuple[torch.Tensor, list[torch.Tensor]] | None = None
        masks = getattr(self.optimizer, "masks_grads", False)  # the optimizer zeroes them
        if not on_cpu or not bool(running.all()):
            if masks:
                self.optimizer.grad_mask = running  # (the Triton Adam: no pass of its own)
            else:
                from .optim.base import zero_stopped_

                zero_stopped_([p.grad for p in self.params if p.grad is not None], running)
            if on_cpu:  # its slices are put back after a step with the shared learning rates
                idx = (~running).nonzero().flatten()
                kept = idx, [p.detach().index_select(0, idx) for p in self.params]
        # on the CPU every model steps with its scheduled lr (a stopped model's lr of 0 would
        # make the models' lrs differ, and the optimizer take another kernel path, which
        # rounds the other models' updates differently); elsewhere a stopped model's lr is 0
        lr = self._scheduled_lr(step) if on_cpu else self.current_lr(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        try:
            self.optimizer.step()
        finally:
            if masks:
                self.optimizer.grad_mask = None
        if kept is not None:
            with torch.no_grad():
                for p, old in zip(self.params, kept[1], strict=True):
                    p.index_copy_(0, kept[0], old)
        with torch.no_grad():  # sums over samples: an epoch's smaller last batch weighs less
            loss = loss.detach()
            b = y.shape[1]
            self._sum_loss += loss.to(self._sum_loss.dtype) * b  # (a float16 loss·b overflows)
            self._sum_acc += (flat.detach().argmax(-1).view_as(y) == y).sum(1)
            self._sum_gnorm += gnorm
        return loss

    # -- evaluation --------------------------------------------------------------------------------
    @_trainer_context
    @torch.no_grad()  # (inside: the trainer's context turns autograd on)
    def evaluate(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean loss and accuracy ``(K,)`` of every model on ``split`` (``val``, ``test`` or
        ``train``)."""
        if split not in ("val", "test", "train"):
            raise UserError(f"unknown split '{split}'; choose val or test (or train)")
        x, y = getattr(self.data, f"x_{split}"), getattr(self.data, f"y_{split}")
        n = x.shape[0]
        if n == 0:
            nan = torch.full((self.k,), math.nan, device=self.device)
            return nan, nan
        self.pop.eval()
        # memory: the chunk shrinks as K grows, unless a model normalizes with the statistics
        # of its evaluation batch (BatchNorm without running statistics), whose results would
        # then depend on K
        size = self.config.train.eval_batch_size
        shrunk = max(min(size, 32), size // max(1, self.k // 16))  # never above the size set
        chunk = size if self._eval_uses_batch_stats else shrunk
        from .optim.base import hyper_dtype

        loss_sum = torch.zeros(self.k, device=self.device, dtype=hyper_dtype(self.device))
        correct = torch.zeros(self.k, device=self.device, dtype=hyper_dtype(self.device))
        bounds = [*range(0, n, chunk), n]
        if self._eval_uses_batch_stats and len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
            del bounds[-2]  # a one-sample chunk has no batch statistics: the last chunk takes it
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            xb, yb = x[s:e], y[s:e]
            xk = xb.expand(self.k, *xb.shape)  # (K, b, ...): a view for trainlab's own layers
            if self.pop.mode != "stacked":  # a user's forward may edit its input in place: a
                xk = xk.clone(memory_format=torch.contiguous_format)  # copy (at K=1 too)
            logits = self.pop(xk)  # (K, b, C)
            ce = F.cross_entropy(logits.flatten(0, 1), yb.repeat(self.k), reduction="none")
            # summed in the accumulator's float64: a float32 sum per chunk made the loss depend
            # on the chunk, which shrinks with K (~1e-7 relative; early stopping compares it)
            loss_sum += ce.view(self.k, -1).sum(1, dtype=loss_sum.dtype)
            correct += (logits.argmax(-1) == yb).sum(1)
        self.pop.train()
        mean = loss_sum / n  # no accuracy where the loss is not finite (NaN logits: class 0)
        return mean, torch.where(torch.isfinite(mean), correct / n, math.nan)

    # -- epochs ------------------------------------------------------------------------------------
    @_trainer_context
    def train_epoch(self, progress: Any = None, task: Any = None) -> list[dict[str, Any]]:
        """One epoch for every model, then evaluation; returns one metrics row per model."""
        if self.step != self.epoch * self.steps_per_epoch:
            raise UserError(
                f"this trainer is inside epoch {self.epoch + 1} (at step {self.step}: "
                "interrupted, or stepped by hand with step_on), and an epoch starts at its first "
                "batch; continue from the last checkpoint (trainlab resume DIR, or "
                "Trainer.load_state_dict)"
            )
        t0 = time.perf_counter()
        n = self.data.x_train.shape[0]
        perm = rng.permutations(self.pop.seeds, self.epoch, n)  # (K, N)
        self._reset_accumulators()
        tick = max(1, self.steps_per_epoch // 50)
        for s in range(self.steps_per_epoch):
            self.step_on(perm[:, s * self.batch_size : (s + 1) * self.batch_size])
            if progress is not None and (s + 1) % tick == 0:
                progress.advance(task, tick)
        if progress is not None:
            progress.advance(task, self.steps_per_epoch % tick)
        val = self.evaluate("val")
        test = self.evaluate("test")
        steps, seen = max(1, self._steps_in_epoch), max(1, self._samples_in_epoch)
        # per sample over the epoch; no accuracy where the loss is not finite (NaN logits would
        # count as class 0)
        train_loss = self._sum_loss / seen
        train_acc = torch.where(torch.isfinite(train_loss), self._sum_acc / seen, math.nan)
        cols = [train_loss, train_acc, *val, *test]
        # the rate of the epoch's last step (a per-epoch decay shows this epoch's rate)
        cols += [self.current_lr(self.step - 1)]
        cols += [self._sum_gnorm / steps, self.alive.float(), self.nan_step.float()]
        cols += [self._sum_clipped / steps]
        if self._judged_on_train():  # (no val or test split: the run's last update is judged
            cols += [self.evaluate("train")[0]]  # on the training split, column 11)
        # the epoch's one sync; float64, so that the lr is logged as applied (0.01, not 0.00999…)
        host = torch.stack([c.double() for c in cols]).cpu().tolist()
        self.epoch += 1
        finite = [self._evaluated_finite(host, i) for i in range(self.k)]
        diverged = self._stop_diverged_in_evaluation(host[8], finite)
        elapsed = time.perf_counter() - t0
        rows = []
        for i in range(self.k):
            row = {"model": i, "epoch": self.epoch, "step": self.step}
            row.update({m: host[j][i] for j, m in enumerate(_METRICS)})
            row.update(lr=host[6][i], grad_norm=host[7][i], time=elapsed)
            if self.config.train.clip_norm is not None or self.config.train.clip_value is not None:
                row["clip_frac"] = host[10][i]  # fraction of this epoch's steps clipped
            if len(host) > 11:  # (no val or test split: the last update judged on train)
                row["train_eval_loss"] = host[11][i]
            rows.append(row)
            if self.stopped_step[i] is None and host[8][i] > 0:
                self.last[i] = {m: row[m] for m in _METRICS}
        alive = [a > 0 and i not in diverged for i, a in enumerate(host[8])]
        self._early_stopping(rows, alive=alive)
        return rows

    def _held_out_loss_columns(self) -> list[int]:
        """The epoch columns of the val and test losses (2, 4) of the splits the data has."""
        splits = ((2, "val"), (4, "test"))
        return [j for j, split in splits if getattr(self.data, f"x_{split}").shape[0]]

    def _judged_on_train(self) -> bool:
        """Whether the epoch now ending is the run's last and the data has neither a val nor a
        test split: the epoch's last update is then judged by the loss on the training split
        (no next step's loss, nor an evaluation, would show weights it made non-finite)."""
        return self.epoch + 1 >= self.config.train.epochs and not self._held_out_loss_columns()

    def _evaluated_finite(self, host: list[list[float]], i: int) -> bool:
        """Whether model ``i``'s val and test losses (of the splits there are) in the epoch's
        columns ``host`` are finite (with neither split, at the run's last epoch: its loss on
        the training split, column 11)."""
        columns = [11] if len(host) > 11 else self._held_out_loss_columns()
        return all(math.isfinite(host[j][i]) for j in columns)

    def _stop_diverged_in_evaluation(self, alive: list[float], finite: list[bool]) -> list[int]:
        """An epoch's last update can make a model's weights non-finite, which its next step's
        loss would show (how the trainer stops a model); the run's last epoch has no next
        step, and early stopping would read the NaN val loss as "no improvement": a model
        still training whose val or test loss (of the splits there are) is not finite is
        stopped for NaN/Inf here, at the step whose loss would show it (whatever the run's
        length: as in a longer run), not reported "ok" or "early_stopped" without final
        numbers. ``alive``: the epoch's alive column as read (before this stop); ``finite``:
        per model, whether its evaluated losses are finite; returns the models stopped (their
        final numbers are this epoch's, as in a longer run)."""
        bad = [
            i
            for i in range(self.k)
            if alive[i] > 0 and self.stopped_step[i] is None and not finite[i]
        ]
        if bad:
            idx = torch.tensor(bad, device=self.device)
            self.alive.index_fill_(0, idx, False)  # (in place: a CUDA-graphed step reads it)
            self.nan_step.index_fill_(0, idx, self.step)  # (the step whose loss would show it)
            for i in bad:
                self.eval_stopped[i] = True
        return bad

    def _judge_end_again(self, rows: list[dict[str, Any]], finished: bool) -> None:
        """Make a resumed run with neither a val nor a test split judge its last update as an
        uninterrupted run of the new ``train.epochs`` would (:meth:`_judged_on_train`).
        ``rows``: the run's kept ``metrics.jsonl`` rows (edited in place); ``finished``: the
        run wrote its summary.

        - The run trains on past the checkpoint's epoch: a judgement of that epoch (made when
          it was the run's last) belongs to no epoch of the longer run. Its ``train_eval_loss``
          leaves the epoch's rows, and the models it stopped train on (the next step's loss
          stops them, as in the longer run).
        - The checkpoint's epoch is the run's end (``train.epochs`` lowered to it, or a kill
          before the summary was written): the epoch is judged (again: the same weights give
          the same losses), as the run's last epoch is.

        Both are decided by the checkpoint's state alone, so that a resume killed between
        rewriting ``metrics.jsonl`` and the next checkpoint is redone the same way."""
        if self._held_out_loss_columns() or self.epoch == 0:
            return
        last = [r for r in rows if r.get("epoch") == self.epoch]
        if self.epoch < self.config.train.epochs:
            for r in last:
                r.pop("train_eval_loss", None)
            revived = [i for i, ev in enumerate(self.eval_stopped) if ev]
            if revived:
                idx = torch.tensor(revived, device=self.device)
                self.alive.index_fill_(0, idx, True)
                self.nan_step.index_fill_(0, idx, -1)
                for i in revived:
                    self.eval_stopped[i] = False
        elif not finished:
            with self._denormals():  # (as in training: the same losses, bitwise)
                losses = self.evaluate("train")[0].double().cpu().tolist()
            alive = self.alive.float().cpu().tolist()
            self._stop_diverged_in_evaluation(alive, [math.isfinite(v) for v in losses])
            for r in last:
                r["train_eval_loss"] = losses[int(r["model"])]

    def _early_stopping(self, rows: list[dict[str, Any]], alive: list[bool]) -> None:
        """Stop each model whose metric has not improved for ``patience`` epochs; a model
        stopped for NaN/Inf (``alive`` false) is already stopped, and keeps its records."""
        cfg = self.config.train
        if cfg.early_stopping_patience is None:
            return
        sign = 1.0 if cfg.early_stopping_metric == "val_loss" else -1.0
        changed = False
        for i, row in enumerate(rows):
            if self.stopped_step[i] is not None or not alive[i]:
                continue
            value = sign * row[cfg.early_stopping_metric]
            self.best[i], self.bad_epochs[i], stop = early_stopping_update(
                self.best[i], self.bad_epochs[i], value, cfg.early_stopping_patience
            )
            if stop:
                self.stopped_step[i] = self.step
                changed = True
        if changed:
            stopped = [s is not None for s in self.stopped_step]
            # in place: a CUDA-graphed step reads this tensor
            self.active.copy_(~torch.tensor(stopped, device=self.device))

    def _own_records(self, w: Any) -> list[dict[str, Any]]:
        """The watch's records, less an early-stopped model's from its stop on and a NaN-stopped
        one's after the epoch it failed in (where its run alone ends): the hooks see it frozen
        beside models still training, which it alone would not be (its verdict would judge the
        frozen steps: principle 2). Called once per epoch, after the epoch's host read."""
        spe = self.steps_per_epoch
        stops = [
            (nan if ev else (nan // spe + 1) * spe) if nan >= 0 else stop  # (ev: step nan untaken)
            for nan, stop, ev in zip(
                self.nan_step.tolist(), self.stopped_step, self.eval_stopped, strict=True
            )
        ]
        return [
            r for r in w.pop_records()
            if (stop := stops[int(r.get("model", 0))]) is None or r["step"] < stop
        ]  # fmt: skip

    def done(self) -> bool:
        """All epochs run, or no model left training (reads the alive mask: call per epoch)."""
        if self.epoch >= self.config.train.epochs:
            return True
        return not bool(self.running.any())

    # -- state -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint holds to continue this run bitwise (at an epoch's end): the
        config trained with (JSON text), the population's and the optimizer's state dicts, the
        position (epoch, step), the per-model stop flags and early-stopping state, and
        ``lr_override``. As torch's ``state_dict``, the population's and optimizer's tensors
        are references to the live ones: ``copy.deepcopy`` (or ``torch.save``) it to keep a
        snapshot while training goes on."""
        population = self.pop.state_dict()
        return {
            # the config the weights were trained with, as config.yaml has it (JSON text):
            # resume compares it with config.yaml, which a user may have edited since
            "config": self._config_json,
            "population": population,
            # what a forward may change that the state dict leaves out: non-persistent buffers
            # and the plain numbers the model's modules keep (a step counter)
            "unsaved_buffers": {n: b for n, b in self.pop.named_buffers() if n not in population},
            "python_state": self.pop.python_state(),
            # a vmap population that fell back to the loop (a forward vmap cannot batch, met
            # at the first evaluation) trains on in the loop: a resumed run must as well
            "mode": self.pop.mode,
            "optimizer": self.optimizer.state_dict(),
            # the schedule is a pure function of the step, and every random draw a function of
            # (seed, step, site): the position below is their whole state
            "schedule": {"name": self.config.schedule.name, "step": self.step},
            "rng": {"kind": "counter (trainlab.rng)", "seeds": self.pop.seeds.cpu()},
            "epoch": self.epoch,
            "step": self.step,
            "alive": self.alive.clone(),  # (updated in place by step_on)
            "active": self.active.clone(),
            "nan_step": self.nan_step.clone(),
            "best": list(self.best),
            "bad_epochs": list(self.bad_epochs),
            "stopped_step": list(self.stopped_step),
            "eval_stopped": list(self.eval_stopped),
            "last": copy.deepcopy(self.last),
            "lr_override": None if self.lr_override is None else self.lr_override.cpu(),
        }

    @functools.cached_property
    def _config_json(self) -> str:
        """The run's config with its factory defaults written out (what ``config.yaml``
        holds), as JSON text."""
        resolved = with_factory_defaults(
            self.config, model_defaults=not self.custom_model, built=self.built_options
        ).model_dump(mode="json")
        return json.dumps(resolved, sort_keys=True)

    @_trainer_context  # (a resume under torch.inference_mode(): no inference tensors)
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (:meth:`state_dict`, or a checkpoint's ``torch.load``): the
        weights, optimizer state, position and stop flags. ``state`` is copied, never shared:
        training on does not change it, so one snapshot can be loaded again. The config is not
        compared here (``trainlab.resume`` compares it with ``config.yaml``)."""
        self._load_state(copy.deepcopy(state))

    @_trainer_context
    def _load_state(self, state: dict[str, Any]) -> None:
        """:meth:`load_state_dict` of a state this trainer may keep (no copy: ``resume``'s
        freshly loaded checkpoint, which would otherwise be held twice)."""
        self.pop.load_state_dict(state["population"])
        buffers = dict(self.pop.named_buffers())  # (older checkpoints: neither of these two)
        with torch.no_grad():
            for n, b in state.get("unsaved_buffers", {}).items():
                if n in buffers and buffers[n].shape == b.shape:
                    buffers[n].copy_(b)
        self.pop.load_python_state(state.get("python_state", {}))
        if self.pop.mode == "vmap" and state.get("mode") == "loop":  # (older checkpoints: none)
            self.pop.mode = "loop"
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.alive = state["alive"].to(self.device)
        self.active = state["active"].to(self.device)
        self.nan_step = state["nan_step"].to(self.device)
        self.best, self.bad_epochs = list(state["best"]), list(state["bad_epochs"])
        self.stopped_step, self.last = list(state["stopped_step"]), list(state["last"])
        self.eval_stopped = list(state.get("eval_stopped", [False] * self.k))  # (before 12-01)
        override = state.get("lr_override")  # (older checkpoints: none)
        self.lr_override = None if override is None else override.to(self.device)

    # -- the whole run -----------------------------------------------------------------------------
    @_trainer_context
    def fit(self, run: RunDir | None = None, *, progress: bool = True) -> dict[str, Any]:
        """Train until the last epoch (or every model stopped); returns the summary.

        ``run``: the :class:`~trainlab.runs.RunDir` that :func:`train` made for this trainer
        (config.yaml, population.json), which gets the checkpoints, metrics.jsonl and
        summary.json (diagnostics.jsonl and verdict.json with diagnostics; report.html is
        :func:`trainlab.report.build_report`'s, which the CLI calls); None writes nothing. To
        train into a new folder, use ``trainlab.train(config, out=...)``.
        """
        if run is not None and not isinstance(run, RunDir):
            raise UserError(
                f"Trainer.fit takes a trainlab.runs.RunDir or None, got {type(run).__name__}; "
                "to train into a folder use trainlab.train(config, out=FOLDER)"
            )
        if run is not None and not run.path.is_dir():
            raise UserError(
                f"{run.path} does not exist; trainlab.train(config, out=FOLDER) makes the run's "
                "folder"
            )
        locked = run.lock() if run is not None else False
        try:
            return self._fit(run, progress)
        finally:
            if locked:
                run.unlock()

    def _fit(self, run: RunDir | None, progress: bool) -> dict[str, Any]:
        cfg = self.config.train
        bar = _progress(progress)
        watch = self._watch(run)
        total = cfg.epochs * self.steps_per_epoch
        with self._denormals(), bar or nullcontext(), watch or nullcontext() as w:
            from rich.markup import escape

            name = self.config.name  # plain text in the bar (its column takes no markup)
            task = bar.add_task(name, total=total, completed=self.step) if bar else None
            while not self.done():
                rows = self.train_epoch(bar, task)
                if run is None and w is not None:  # kept for RunResult.diagnostics, in
                    self.diagnostics += self._own_records(w)  # host memory (watch's freed)
                if run is not None:
                    run.append_metrics(rows)
                    if w is not None:  # as watch.write_jsonl: a NaN gradient norm is kept
                        # (the verdict finds a backward NaN's layer from it), as standard JSON
                        from .report.jsonl import encode_record

                        records = [encode_record(r) for r in self._own_records(w)]
                        run.append_jsonl(run.diagnostics_path, records)
                    if self.epoch % cfg.checkpoint_every == 0 and not self.done():
                        run.save_checkpoint(self.state_dict())  # the last one is saved below
                if bar is not None:
                    line = self.progress_line(rows)
                    bar.update(task, description=f"{name} {line}")
                    if not _redraws(bar.console):  # a log file: one line per epoch instead
                        took = rows[0]["time"]  # the epoch's seconds, the same in every row
                        bar.console.print(  # one whole line per epoch, however long
                            f"{escape(name)} epoch {self.epoch}/{cfg.epochs}: {line} "
                            f"({took:.1f} s)",
                            soft_wrap=True,
                        )
            if bar is not None and self.step < total:  # every model stopped early: the bar
                bar.update(task, total=self.step, completed=self.step)  # ends, no time left
        summary = to_jsonable(self.summary())  # what summary.json holds: null, not NaN
        if run is not None:
            run.save_checkpoint(self.state_dict())
            run.write_json("summary.json", summary)
            if watch is not None and run.diagnostics_path.exists():  # (a resumed `trainlab
                _write_verdict(run, summary)  # diagnose` run too; none if nothing trained)
        return summary

    def _denormals(self) -> AbstractContextManager[None]:
        """The float mode training runs in: denormals flushed to zero on the CPU
        (:func:`_flush_denormals`), unless some model's ε is too small for it."""
        return _flush_denormals(self.device) if not self._tiny_eps() else nullcontext()

    def _tiny_eps(self) -> bool:
        """Whether flushing denormals to zero could change some model's updates by more than
        1e-6 relative (see :func:`_flush_denormals`): a second moment ``v`` below 1.18e-38 is
        flushed to 0, and Adam's bias correction divides it by ``1 − β₂``, so ``√v̂`` loses up to
        ``√(1.18e-38 / (1 − β₂))`` (3.4e-18 at β₂ = 0.999; ``1 − β₂`` is 1 for the others),
        which must stay below ``1e-6 · ε``: ε ≥ 3.5e-12 at β₂ = 0.999."""
        for group in self.optimizer.param_groups:
            eps = group.get("eps")
            if eps is None:
                continue
            low = float(eps.min()) if isinstance(eps, torch.Tensor) else float(eps)
            corr = 1.0
            if "betas" in group:  # Adam(W): bias correction of the second moment
                b2 = group["betas"][1]
                corr = 1.0 - (float(b2.max()) if isinstance(b2, torch.Tensor) else float(b2))
            if corr <= 0.0 or math.sqrt(1.18e-38 / corr) > 1e-6 * low:
                return True
        return False

    def progress_line(self, rows: list[dict[str, Any]]) -> str:
        """``"val_acc 0.912, 48/50 training"``: the epoch's mean validation accuracy (training
        accuracy, ``train_acc``, for a run without a validation split) over the
        models whose loss is still finite (a NaN/Inf model's frozen accuracy would drag the
        mean down; models of several override groups: it says so, as no group may reach
        it) and, once some have stopped, how many still train. Reads the ``(K,)`` masks:
        call once per epoch, not per step."""
        alive = self.alive.tolist()
        key = "val_acc" if self.data.x_val.shape[0] else "train_acc"  # (no validation split)
        kept = [(r[key], m.group) for r, m, ok in zip(rows, self.members, alive, strict=True) if ok]
        kept = [(a, g) for a, g in kept if a == a]  # NaN: no prediction
        accs = [a for a, _ in kept]
        mean = sum(accs) / len(accs) if accs else math.nan
        running = int(self.running.sum())
        more = f", {running}/{self.k} training" if running < self.k else ""
        groups = len({g for _, g in kept})
        pooled = f" (mean of {groups} groups)" if groups > 1 else ""  # (short: the bar shares it)
        return f"{key} {mean:.3f}{pooled}{more}"

    def _watch(self, run: RunDir | None):
        every = self.config.train.diagnose_every
        if every is None:
            return None
        from .diagnostics import watch

        return watch(self.pop, every=every, start_step=self.step)

    def summary(self) -> dict[str, Any]:
        """Final metrics per model and aggregates over all models and per override group."""
        from .report.stats import aggregate

        nan_step = self.nan_step.cpu().tolist()
        models = []
        for m in self.members:
            i = m.index
            status = "ok"
            if nan_step[i] >= 0:
                status = "nan"
            elif self.stopped_step[i] is not None:
                status = "early_stopped"
            stopped = nan_step[i] if status == "nan" else self.stopped_step[i]
            final = {k: self.last[i].get(k, math.nan) for k in _METRICS}
            models.append(
                {
                    "index": i,
                    "seed": m.seed,
                    "overrides": m.overrides,
                    "group": m.group,
                    "status": status,
                    "stopped_step": stopped,
                    "final": final,
                }
            )
            if status == "nan" and self.eval_stopped[i]:  # (no step `stopped` was taken)
                models[-1]["stopped_by"] = "evaluation"

        def agg(rows: list[dict[str, Any]]) -> dict[str, Any]:
            out = {}
            for k in _METRICS:
                vals = [r["final"][k] for r in rows if r["status"] != "nan"]
                out[k] = aggregate([v for v in vals if v == v])
            return out

        groups: dict[str, list[dict[str, Any]]] = {}
        for row in models:
            groups.setdefault(row["group"], []).append(row)
        return {
            "name": self.config.name,
            "k": self.k,
            "epochs": self.epoch,
            "steps": self.step,
            "device": str(self.device),
            "dataset": self.data.name,
            "models": models,
            "aggregates": agg(models),
            "groups": [
                {
                    "group": g,
                    "overrides": rows[0]["overrides"],
                    "n": len(rows),
                    "aggregates": agg(rows),
                }
                for g, rows in groups.items()
            ],
            "nan_models": [
                {
                    "index": r["index"],
                    "seed": r["seed"],
                    "group": r["group"],
                    "step": r["stopped_step"],
                }
                for r in models
                if r["status"] == "nan"
            ],
        }


# -- helpers ---------------------------------------------------------------------------------------
def _gather_rows(x: torch.Tensor, idx: torch.Tensor, *, on_cpu: bool) -> torch.Tensor:
    """``x[idx]``: the rows ``idx`` ``(K, b)`` of ``x`` ``(N, ...)`` as ``(K, b, ...)``.

    On the CPU ``index_select`` copies whole rows, 3.9-6.9× faster than advanced indexing's
    element-wise gather (``benchmarks/gather.py``); negative indices count from the end, as in
    ``x[idx]`` (reading the check is a memory read there). On CUDA the two ran at the same
    speed, and ``x[idx]`` is kept.
    """
    if not on_cpu:
        return x[idx]
    flat = idx.reshape(-1)
    if bool((flat < 0).any()):
        flat = torch.where(flat < 0, flat + x.shape[0], flat)
    return x.index_select(0, flat).view(*idx.shape, *x.shape[1:])


def _grad_norms(params: list[torch.Tensor], k: int) -> torch.Tensor:
    """Global gradient norm of each model: ``‖g_k‖ = sqrt(Σ_params ‖g_k,p‖²)`` → ``(K,)``;
    16-bit gradients' in float32 (finite gradients' norm may pass float16's 65504: not NaN).
    :func:`trainlab.optim.clip.grad_norms` without its checks of the arguments (the hot loop's
    parameters are the population's own)."""
    from .optim.clip import _norms

    ps = [p for p in params if p.grad is not None]
    return _norms(ps, k, 2.0, wide=True) if ps else torch.zeros(k, device=params[0].device)


def _optim_keys(cfgs: list[Config]) -> dict[str, Any]:
    """Every optimizer hyperparameter that some model's config sets."""
    return {k: v for c in cfgs for k, v in c.optim.kwargs("name").items()}


def check_optimizer(cfgs: list[Config]) -> None:
    """The trainer's checks of the models' optimizer sections (its name, its hyperparameters'
    names and per-model values), without building anything: ``trainlab schedule`` refuses
    what ``trainlab train`` would refuse. ``cfgs``: each model's resolved config."""
    _refuse_full_batch_optimizer(cfgs[0])
    _per_model(_optim_keys(cfgs), cfgs)


def record_schedule_overrides(members: list[Member], schedule: Any, given: dict[str, Any]) -> None:
    """A per-model schedule value tells the models apart as an override does (models that
    differ in it are not seeds of one configuration: groups, means, CIs): each member's
    ``schedule.<key>`` of a per-model list in the config. A key that variants or a grid vary
    is already among the overrides of the models that set it, and the others keep the config's
    value (or the default) as they would alone: nothing is recorded for them, as for an
    optimizer key (their labels and groups do not depend on their neighbours)."""
    for key in schedule.per_model:
        if not isinstance(given.get(key), list) or any(
            f"schedule.{key}" in m.overrides for m in members
        ):
            continue
        for m in members:
            m.overrides.setdefault(f"schedule.{key}", schedule.resolved[key][m.index])


def _refuse_full_batch_optimizer(config: Config) -> None:
    if config.optim.name in ("lbfgs", "newton"):
        raise ConfigError(
            f"optim.name '{config.optim.name}' needs full-batch closures; use it from Python "
            "(trainlab.optim) or the optimizers-2d study, and adam/sgd/… in a trainer config"
        )


def _per_model(keys: dict[str, Any], cfgs: list[Config]) -> dict[str, Any]:
    """Each optimizer hyperparameter: one value if all models agree, else a ``(K,)`` list."""
    from .optim import optimizer_options
    from .optim.base import check_options

    name = cfgs[0].optim.name
    check_options(name, keys)  # a key some model sets that the optimizer lacks: named as alone
    defaults = optimizer_options(name)  # for a key only some models set
    out: dict[str, Any] = {}
    for key in keys:
        if key == "lr":
            continue
        values = [c.optim.kwargs("name").get(key, defaults.get(key)) for c in cfgs]
        if key == "betas":  # each model's must be a pair of numbers, as alone (never cut)
            values = [_beta_pair(v) for v in values]
        elif any(isinstance(v, list | tuple) for v in values):  # one model: one value
            shown = next(v for v in values if isinstance(v, list | tuple))
            raise ConfigError(
                f"optim.{key} is a list ({list(shown)}), but a model's optimizer takes one "
                f"value; vary it per model with population.grid (optim.{key}: [...]) or "
                "population.variants, which record each model's value"
            )
        values = [list(v) if isinstance(v, tuple) else v for v in values]
        first = values[0]
        if all(v == first for v in values):
            out[key] = tuple(first) if isinstance(first, list) else first
        elif key == "betas":
            out[key] = tuple([v[j] for v in values] for j in range(2))
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = values
        else:
            raise ConfigError(
                f"optim.{key} differs between models ({sorted(set(map(str, values)))}), but only "
                "numbers can vary inside one population; train separate runs instead"
            )
    return out


def _beta_pair(value: Any) -> list[float]:
    """One model's ``optim.betas`` as two floats (text for a number is that number, as alone);
    anything else is a ConfigError naming the value."""
    from .optim.adam import _betas

    pair = _betas(value)
    try:
        if any(isinstance(b, bool) or b is None for b in pair):
            raise TypeError
        return [float(b) for b in pair]
    except (TypeError, ValueError):
        raise ConfigError(
            f"optim.betas must be a pair of numbers (beta1, beta2), e.g. [0.9, 0.999]; got "
            f"{value!r}"
        ) from None


def _on(hp: dict[str, Any], trainer: Trainer) -> dict[str, Any]:
    """Per-model lists become ``(K,)`` tensors on the trainer's device, in the dtype the
    optimizer keeps them in (float64; float32 on MPS): a float32 detour would round β₂ = 0.999
    to 0.99900001."""
    from .optim.base import hyper_dtype, too_big

    def conv(k: str, v: Any) -> Any:
        if isinstance(v, list) and not isinstance(v[0], bool):
            try:
                return torch.tensor(v, dtype=hyper_dtype(trainer.device), device=trainer.device)
            except OverflowError:  # 10**400: as optim.base.hyper says it for one model
                raise ConfigError(f"{k}: {too_big(v)}") from None
        if isinstance(v, tuple):
            return tuple(conv(k, x) for x in v)
        return v

    return {k: conv(k, v) for k, v in hp.items()}


@contextmanager
def _flush_denormals(device: torch.device) -> Iterator[None]:
    """Treat denormal floats as zero while training on the CPU, then restore the caller's
    setting (torch has no getter: read from whether a denormal survives a multiplication).

    Adam's second moments underflow into the denormal range, where x86 arithmetic is ~100×
    slower: a population Adam step (digits MLP, K=16, 2 cores) took 19.6 ms with denormals
    and 11.0 ms without. Values below 1.2e-38 become 0, and √v̂ of such a second moment (at
    most ~3.4e-18 after Adam's bias correction at β₂ = 0.999) becomes 0 beside ε: negligible
    (below 1e-6 relative) for ε ≥ 3.5e-12 there, the default 1e-8 included; a run where it
    would not be is not flushed (:meth:`Trainer._tiny_eps`).
    """
    was = flushes_denormals()  # already flushing (the caller set it)
    if device.type != "cpu" or was or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def _redraws(console: Any) -> bool:
    """Whether a rich console redraws a live progress bar (a terminal or a notebook, unless
    ``TTY_INTERACTIVE=0`` says not to); written to a file or a pipe (``nohup``, a batch job's
    log) the bar appears only when it stops."""
    return bool(console.is_jupyter or console.is_interactive)  # (TTY_INTERACTIVE=0: not)


def _progress(enabled: bool, unit: str = "steps"):
    """The progress bar: ``NAME [metric] ━━━━ 12/36 steps 0:00:05 ETA 0:00:10``.

    On a narrow line the name and the bar give way (the name cut with "…"), never the step
    count, the elapsed time or the ETA: rich's table narrows the columns that may wrap first,
    and only those two may. In a log file or a pipe (no redraws) the line stays whole."""
    if not enabled:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column
    from rich.text import Text

    from .console import FailSafeConsole

    class Description(ProgressColumn):  # names print as written: no markup, no ":vs:" emoji
        def render(self, task: Any) -> Text:  # (one line, cut to the column's width)
            return Text(task.description, style="bold", no_wrap=True, overflow="ellipsis")

    def whole() -> Column:
        return Column(no_wrap=True)

    console = FailSafeConsole(emoji=False)
    if not _redraws(console):  # a log's one line of the bar, at its stop, stays whole
        console.width = 1 << 12
    return Progress(
        Description(table_column=Column(overflow="ellipsis")),
        BarColumn(),
        MofNCompleteColumn(table_column=whole()),
        TextColumn(unit, table_column=whole()),
        TimeElapsedColumn(table_column=whole()),
        TextColumn("ETA", table_column=whole()),
        TimeRemainingColumn(table_column=whole()),
        console=console,
    )


#: the command whose run :func:`train` starts (``population.json``'s ``command``): ``diagnose``
#: sets it, so that a resumed or re-reported diagnose run gets the diagnose report again
RUN_COMMAND: ContextVar[str] = ContextVar("RUN_COMMAND", default="train")


def _start_run(
    config: Config,
    out: str | Path | None,
    trainer: Trainer,
    on_claim: Callable[[RunDir], None] | None = None,
) -> RunDir:
    """Claim the run's folder and write its ``config.yaml`` and ``population.json`` (removed
    again if that fails or is interrupted); ``on_claim`` gets the folder's :class:`RunDir`
    before it is made (its path is final once made: a chosen name may be renumbered)."""
    # what the folder gets is made first: a config that cannot be written leaves no folder
    text = dump_config(
        with_factory_defaults(
            config, model_defaults=not trainer.custom_model, built=trainer.built_options
        )
    )
    population = {
        "k": trainer.k,
        "command": RUN_COMMAND.get(),
        "custom_model": trainer.custom_model,
        # a module passed in: resume needs the same one back, and checks it
        "model_fingerprint": trainer.model_record,
        # a dataset passed in (not config.data): resume needs it back, and checks its sizes
        "custom_dataset": _dataset_record(trainer.data) if trainer.custom_dataset else None,
        # the config's data as loaded (a file can change under the run): resume checks it
        "data_fingerprint": None if trainer.custom_dataset else _dataset_record(trainer.data),
        "models": [
            {
                "index": m.index,
                "seed": m.seed,
                "overrides": m.overrides,
                "group": m.group,
                "init": _member_init(config, m),
            }
            for m in trainer.members
        ],  # fmt: skip
        "versions": software_versions(trainer.device),
        # the config as trained (what checkpoints hold too): a run killed before its first
        # checkpoint still has something to compare an edited config.yaml with at resume
        "config": json.loads(trainer._config_json),
    }
    if out is None:  # a name trainlab chose: a run started at the same moment takes the next
        out = default_run_dir(config.name)
    existed = Path(out).is_dir()  # (empty, or create refuses it)
    run = RunDir(out)
    if on_claim is not None:
        on_claim(run)
    try:
        run.create(renumber=isinstance(out, ChosenPath))  # (refused: not claimed, kept)
        # locked from the start (the caller unlocks after fit): with config.yaml and
        # population.json written, the folder reads as a run killed before its first
        # checkpoint, which another process's resume would otherwise take over
        run.lock()
        run.write_text("config.yaml", text)
        run.write_json("population.json", population)
    except BaseException:  # a full disk, Ctrl-C: no half-made run blocks running it again
        if run.claimed:
            run.discard(keep_folder=existed and run.path == Path(out))
        raise
    return run


def _trains_through(model: nn.Module, x: torch.Tensor) -> bool:
    """Whether a training-mode forward of ``x`` (a CPU copy) gives an output autograd can
    backpropagate through (an eval-only ``.detach()``, an EMA copy for evaluation, is fine)."""
    y, err = _probe(model, x, training=True, errors=(RuntimeError, ValueError), grad=True)
    return err is not None or not isinstance(y, torch.Tensor) or y.requires_grad


def _out_of_range(message: str) -> bool:
    """An embedding lookup's error for an id it has no row for (torch's words: Embedding,
    EmbeddingBag; not Python's "list index out of range" of a forward's own slip)."""
    return (
        "index out of range in self" in message
        or ("of input takes value" in message and "not in the valid range" in message)
        or "idx < num_embeddings but found idx" in message  # (EmbeddingBag max, padding_idx)
        or "Expected i < index_size" in message  # (EmbeddingBag mean/sum, another CPU path)
    )


def _ids_error(name: str, split: str, x: torch.Tensor, err: str) -> str:
    return (
        f"the {split} inputs of data '{name}' hold ids the model's embedding has no row for "
        f"({err}; ids from {int(x.min())} to {int(x.max())}); give each nn.Embedding "
        "num_embeddings above the largest id it takes, or remap the ids"
    )


def _input_dtype_fix(model: nn.Module, x: torch.Tensor, err: str) -> str | None:
    """The fix when the inputs' dtype is what the model refuses (``err``, from one batch), or
    None when it is not (a shape mismatch): int64 ids for an embedding; float for a model that
    takes integer inputs as they are (it runs on ``x.float()``)."""
    if "'indices'" in err and "Long, Int" in err:  # F.embedding / embedding_bag
        if x.is_floating_point():
            return (
                "the model looks token ids up in an nn.Embedding: give it integer inputs (a "
                "Dataset whose x tensors are int64; arrays_dataset makes float32 inputs)"
            )
        return "cast the inputs to int64 (x.long()): nn.Embedding takes int64 or int32 ids"
    if x.is_floating_point():
        return None
    _, again = _probe(model, x.float(), training=False, errors=(RuntimeError, ValueError))
    return (
        "cast the inputs to float (e.g. x.float() / 255 for 8-bit pixels)"
        if again is None
        else None
    )


def _probe(
    model: nn.Module,
    x: torch.Tensor,
    *,
    training: bool,
    errors: type[Exception] | tuple[type[Exception], ...],
    grad: bool = False,
) -> tuple[Any, str | None]:
    """Run ``x`` through a CPU copy of ``model`` in training or evaluation mode, without
    autograd unless ``grad``, leaving the caller's random stream as it was: ``(output, None)``,
    or ``(None, the first line of the error)`` for an error of type ``errors``."""
    probe = copy.deepcopy(model).cpu().train(training)
    try:
        with torch.set_grad_enabled(grad), torch.random.fork_rng(devices=[]):
            return probe(x.cpu().clone()), None  # (a forward may edit its input in place)
    except errors as err:
        return None, str(err).strip().splitlines()[0]
    except TypeError as err:  # a forward(x, mask): not a model the trainer can call
        try:
            inspect.signature(probe.forward).bind(x)
        except (TypeError, ValueError):
            pass
        else:
            raise  # a TypeError inside a forward that takes the batch: the user's traceback
        raise UserError(
            f"the model's forward cannot be called with one batch tensor, as the trainer calls "
            f"it ({str(err).strip().splitlines()[0]}); give extra inputs defaults"
        ) from err


def _member_init(config: Config, member: Member) -> dict[str, Any]:
    """A model's init scheme with every option, its defaults written out (``config.yaml``
    cannot hold them when the scheme differs between models)."""
    from . import init

    cfg = resolve(config, member.overrides).init
    given = cfg.kwargs("scheme")
    if cfg.scheme == "keep":  # the module's own biases stay (InitConfig's default 0.0 is not set)
        given.pop("bias", None)
    defaults = init.scheme_options(cfg.scheme)
    options = {k: v for k, v in defaults.items() if k not in given and plain_default(v)}
    return to_jsonable({"scheme": cfg.scheme, **options, **given})


def _write_verdict(run: RunDir, summary: dict[str, Any]) -> None:
    """``verdict.json``: the health verdict (:func:`trainlab.diagnostics.run.run_findings`) of a
    finished run's ``diagnostics.jsonl`` and its NaN/Inf stops."""
    from .diagnostics.run import read_records, run_findings, run_metrics, run_split_sizes

    findings = run_findings(
        read_records(run.path), summary, run_split_sizes(run.path), run_metrics(run.path)
    )
    rows = to_jsonable([f.__dict__ for f in findings])  # (an inf ratio: null, as elsewhere)
    run.write_text("verdict.json", json.dumps(rows, indent=1, allow_nan=False) + "\n")


def train(
    config: Config | Mapping[str, Any] | str | Path,
    *,
    out: str | Path | None = None,
    device: str | torch.device = "auto",
    model: nn.Module | None = None,
    dataset: Any = None,
    progress: bool = True,
    write: bool = True,
) -> RunResult:
    """Train a config's population and write its run directory.

    Args:
        config: a :class:`Config`, the plain dict :func:`~trainlab.config.parse_config` takes,
            or the path of a YAML config.
        out: the run directory (must not exist or be empty); default ``runs/<name>[-N]``.
        device: ``auto``, ``cpu`` or ``cuda``.
        model: a plain ``nn.Module`` to train instead of ``config.model`` (e.g. an unrolled
            DBN, with ``init.scheme: keep``).
        dataset: a :class:`trainlab.data.Dataset` instead of ``config.data``.
        progress: show a progress bar with ETA.
        write: write the run directory (``False``: train in memory only; ``out`` must then
            be None).

    Process-wide state: torch's global RNG, thread counts, flush-denormal mode and matplotlib
    are left as they were; on the CPU (Linux, glibc) malloc keeps freed memory for the rest of
    the process (:mod:`trainlab.malloc`; ``TRAINLAB_KEEP_FREED_MEMORY=0`` opts out).
    """
    if out is not None and not write:
        raise UserError(
            f"train(out={str(out)!r}, write=False): a run in memory writes no folder; drop out= "
            "or write=False"
        )
    config = as_config(config)
    if "path" in config.data.options:  # config.yaml names the file wherever it is resumed from
        from .data import with_absolute_path

        config = config.model_copy(deep=True)
        config.data.options = with_absolute_path(config.data.options)
    folder: list[RunDir] = []  # the run's folder, once _start_run names it

    def interrupted() -> str:  # what is true of the folder when a Ctrl-C lands, wherever
        run = folder[0] if folder else None
        if run is None or not run.claimed or not run.resumable:  # (_start_run removes a
            # half-made one; a folder it was refused is another run's)
            return NO_RUN_YET
        if (run.path / "summary.json").is_file():
            return complete_run_note(run.path)
        return _continue_note(run.path, model=model is not None, dataset=dataset is not None)

    with on_interrupt(interrupted):
        trainer = Trainer(config, device=device, model=model, dataset=dataset)
        run = _start_run(config, out, trainer, folder.append) if write else None
        try:
            summary = _noted_fit(trainer, run, progress=progress)
        finally:
            if run is not None:
                run.unlock()  # (taken by _start_run)
        if run is not None:  # (an interrupt as the caller goes on is about this run)
            note_complete(run.path)
        return RunResult(
            run.path if run else None, summary, trainer.members, trainer.pop, trainer.diagnostics
        )


def _warn_ignored_sections(config: Config, model: nn.Module | None, dataset: Any) -> None:
    """Warn of the ``model.*`` keys a config sets beside a module passed in (which trains as it
    is; ``model.dropout`` still sets its rates) and of the ``data.*`` keys beside a dataset
    passed in (used as it is), instead of dropping them without a word."""
    from .population import _caller_stacklevel

    def keys(section: Any, keep: set[str]) -> list[str]:
        """The keys given a value other than their default (a dumped config, or a run's own
        config.yaml, sets every field to its default) and every extra key."""
        fields = type(section).model_fields
        changed = {
            name for name in section.model_fields_set & set(fields)
            if getattr(section, name) != fields[name].get_default(call_default_factory=True)
        }  # fmt: skip
        return sorted((changed | set(section.model_extra or {})) - keep)

    found = []
    if model is not None and (ks := keys(config.model, {"dropout"})):
        found.append(
            f"{', '.join('model.' + k for k in ks)}: the module passed in trains as it is "
            "(build it with those settings instead)"
        )
    if dataset is not None and (ks := keys(config.data, set())):
        found.append(
            f"{', '.join('data.' + k for k in ks)}: the dataset passed in is used as it is "
            "(split and preprocess it before, e.g. trainlab.data.preprocess)"
        )
    for text in found:
        warnings.warn(f"ignored {text}", UserWarning, stacklevel=_caller_stacklevel())


def _restore(
    run_dir: str | Path,
    *,
    device: str | torch.device,
    model: nn.Module | None,
    dataset: Any,
    on_note: Callable[[str], None] | None,
    who: str = "resume",
    lock: bool = False,
) -> tuple[RunDir, Trainer, str | None, bool]:
    """The trainer of run ``run_dir`` rebuilt from its ``config.yaml`` (and the user's ``model``
    and ``dataset`` where it trained on them) and its last checkpoint loaded, after checking
    that the files still describe the run: ``(run, trainer, note, loaded)``, ``note`` the
    allowed config changes to report (:func:`resume`), ``loaded`` False where the run was
    killed before its first checkpoint (the trainer is then at step 0). Nothing is written.
    ``who``: the caller's name in messages (``resume``, ``load_run``). ``lock``: take the run's
    writer lock before its files are read (held on return; released on an error), so that a
    run still being written is refused and one that ends meanwhile is read as it ended."""
    if not isinstance(run_dir, str | os.PathLike):
        raise UserError(f"run_dir must be a folder path, got {type(run_dir).__name__}")
    run = RunDir(run_dir).require(who)
    if not (run.path / "population.json").is_file():
        raise UserError(
            f"{run.path} is not a `trainlab train` run (no population.json): a pretrain or study "
            "run, or a training run killed while its folder was being made; "
            + (
                "only training runs resume (start it again with a new --out)"
                if who == "resume"
                else f"{who} takes a training run's folder"
            )
        )
    if not lock:
        return _rebuild(run, device, model, dataset, on_note, who)
    run.lock()
    try:
        return _rebuild(run, device, model, dataset, on_note, who)
    except BaseException:
        run.unlock()
        raise


def _rebuild(
    run: RunDir,
    device: str | torch.device,
    model: nn.Module | None,
    dataset: Any,
    on_note: Callable[[str], None] | None,
    who: str,
) -> tuple[RunDir, Trainer, str | None, bool]:
    """:func:`_restore` once the folder is known to be a training run."""
    from .report.rundata import read_population

    config = load_config(run.config_path)
    info = read_population(run.path / "population.json")
    custom_data = info.get("custom_dataset")
    missing = [
        what
        for what, recorded, given in (
            ("model=the_same_module", info.get("custom_model"), model),
            ("dataset=the_same_dataset", custom_data, dataset),
        )
        if recorded and given is None
    ]
    if missing:
        what = " and ".join(w.split("=")[0] for w in missing)
        raise UserError(
            f"{run.path} trained a user-provided {what}; {who} it from Python: "
            f"trainlab.train.{who}(dir, {', '.join(missing)})"
        )
    if dataset is not None and not custom_data:
        raise UserError(
            f"{run.path} trained on its config's data ({config.data.name}); {who} it without "
            "dataset="
        )
    if model is not None and not info.get("custom_model"):
        raise UserError(
            f"{run.path} trained its config's model ({config.model.name}); {who} it without model="
        )
    recorded = info.get("model_fingerprint")
    given = _module_record(model) if model is not None else None
    if given is not None and isinstance(recorded, dict):
        # (runs before the frozen names were recorded have none: not compared there)
        keys = [k for k in given if k in recorded and recorded[k] != given[k]]
        if keys:
            what = {"class": "class", "sha256": "structure", "frozen": "frozen parameters"}
            shown = " and ".join(what[k] for k in keys)
            if "frozen" in keys:
                shown += f" ({', '.join(given['frozen']) or 'none'}, not "
                shown += f"{', '.join(recorded['frozen']) or 'none'})"
            raise UserError(
                f"the module passed to {who} is not the one {run.path} trained on (its {shown} "
                f"differ{'s' if len(keys) == 1 and 'frozen' not in keys else ''}); pass the same "
                "module"
            )
    from .data import Dataset

    _check_dataset_type(dataset)
    if isinstance(dataset, Dataset):  # as train() recorded it: checked (int64 labels, tensors)
        dataset = dataset.checked()
    if (
        isinstance(custom_data, dict)
        and dataset is not None
        and (keys := _data_changes(custom_data, dataset))
    ):
        raise UserError(
            f"the dataset passed to {who} is not the one {run.path} trained on (its "
            f"{', '.join(keys)} differ); pass the same dataset"
        )
    # the checkpoint (on the CPU; load_state_dict moves it) is compared with config.yaml before
    # anything is built, so that an edited key is named rather than met as a shape mismatch
    with torch.inference_mode(False):  # (a resume under inference_mode: trainable tensors)
        state = run.load_checkpoint(map_location="cpu")
    trained, epoch, since = None, 0, "the run started"
    if state is not None and "config" in state:  # (earlier versions' checkpoints hold none)
        try:
            trained = json.loads(state["config"])
            epoch = int(state["epoch"])
        except (TypeError, ValueError) as err:  # JSONDecodeError is a ValueError
            raise UserError(
                f"checkpoint {run.checkpoint_path} is damaged ({type(err).__name__} in its "
                "config or epoch); delete it to restart the run from scratch"
            ) from None
        since = "the checkpoint"
        recorded = info.get("config")  # (the config the run started with)
        if isinstance(recorded, dict) and (keys := _foreign_keys(trained, recorded, info)):
            raise UserError(
                f"{run.checkpoint_path} is not this run's checkpoint (its {', '.join(keys[:3])}"
                f"{' …' if len(keys) > 3 else ''} differ from the run's record in "
                f"{run.path / 'population.json'}); restore the run's own checkpoint, or delete "
                "it to restart the run from scratch"
            )
    elif state is None and isinstance(info.get("config"), dict):  # killed before a checkpoint
        trained = info["config"]  # (runs before it was recorded have none)
    note = (
        None
        if trained is None
        else _config_changes(
            trained,
            config,
            run,
            epoch,
            custom_model=bool(info.get("custom_model")),
            data_checked=isinstance(info.get("data_fingerprint"), dict) and not custom_data,
            since=since,
            run_info=info,
        )
    )
    path = None if custom_data else config.data.options.get("path")
    if isinstance(path, str):  # (a project moved with its data: config.yaml names the old place)
        from .data.readers import expand_home

        if not expand_home(path).exists():
            raise UserError(
                f"the data {path} that {run.path} trained on is not there (moved or renamed?): "
                f"set data.options.path in {run.config_path} to where it is now ({who} checks "
                "that it is the same data)"
            )
    device = _resume_device(device, info, on_note or _warn)
    grid = config.population.grid
    first = (info["models"] or [{}])[0].get("overrides") or {}
    axes = [k for k in first if k in grid]  # the grid's axes in the order the run built them
    if list(grid) != axes and set(grid) == set(axes):
        # the same grid with its axes in another order (config.yaml re-saved with sorted keys):
        # built in the recorded order, which orders the models
        config.population.grid = {k: grid[k] for k in axes}
    trainer = Trainer(config, device=device, model=model, dataset=dataset)
    written = [  # (earlier versions recorded a number given as text as the text)
        [m.get("seed"), {k: _as_declared(k, v) for k, v in (m.get("overrides") or {}).items()}]
        for m in info["models"]
    ]
    now = json.loads(json.dumps(to_jsonable([[m.seed, m.overrides] for m in trainer.members])))
    if written != now:
        raise UserError(
            f"{run.config_path} no longer describes the models in {run.path / 'population.json'} "
            "(seeds or overrides changed); restore the run's config.yaml"
        )
    for member, (_, values) in zip(trainer.members, written, strict=True):
        # the recorded values in their recorded order (a config.yaml re-saved with sorted keys,
        # 0 written for 0.0, is the same config): group names in summary.json as in
        # population.json
        member.overrides = dict(values)
    trained_on = info.get("data_fingerprint")  # (runs before it was recorded have none)
    if (
        isinstance(trained_on, dict)
        and not custom_data
        and (keys := _data_changes(trained_on, trainer.data))
    ):
        path = config.data.options.get("path")
        raise UserError(
            f"the data of {run.path} changed since it trained (data '{config.data.name}'"
            f"{f', file {path}' if path else ''}: its {', '.join(keys)} differ); restore "
            "the data it trained on, or start a new run"
        )
    if state is not None:
        try:
            trainer._load_state(state)  # (read from disk here: nobody else holds it)
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            words = ("mismatch", "Missing", "Unexpected")
            detail = next((x for x in lines if any(w in x for w in words)), None)
            detail = detail or (f"no {err} entry" if isinstance(err, KeyError) else lines[0])
            if info.get("custom_model"):
                raise UserError(
                    f"the module passed to {who} does not match the one {run.path} trained "
                    f"({detail[:120]}); pass the same module"
                ) from None
            if trained is not None:  # (config.yaml matched the checkpoint's own config above)
                raise UserError(
                    f"{run.checkpoint_path} is damaged ({detail[:120]}); restore it from a copy, "
                    "or delete it to restart the run from scratch"
                ) from None
            raise UserError(
                f"{run.checkpoint_path} does not match {run.config_path} ({detail[:120]}); "
                "restore the run's config.yaml, or start a new run"
            ) from None
    return run, trainer, note, state is not None


def resume(
    run_dir: str | Path,
    *,
    device: str | torch.device = "auto",
    model: nn.Module | None = None,
    dataset: Any = None,
    progress: bool = True,
    on_note: Callable[[str], None] | None = None,
) -> RunResult:
    """Continue a killed run from its last checkpoint to the end of its schedule.

    The resumed run reaches the same final weights as an uninterrupted one (bitwise on CPU):
    all randomness is a function of ``(seed, step)``, and the checkpoint holds the weights,
    the optimizer state, the position and the config they were trained with. ``config.yaml``
    may have been edited since only in :data:`RESUME_MAY_CHANGE` (e.g. ``train.epochs``, to
    train longer); any other change is refused. A changed ``train.epochs`` is reported through
    ``on_note`` (default: ``warnings.warn``), as a schedule that depends on the run's length
    (cosine, one-cycle, ...) takes other values from there on. A finished run trained longer
    loses the report of its old end (report.html, its figures): ``build_report`` (which
    ``trainlab resume`` runs) writes the new one.
    """
    # the lock is taken before the checkpoint is read: a run still training is refused, and
    # one that ends while this starts is read as it ended (not rolled back to an older epoch);
    # a Ctrl-C while the run is rebuilt says how to continue it, as one while it trains does
    if isinstance(run_dir, str | os.PathLike):
        cmd = resume_command(run_dir, model=model is not None, dataset=dataset is not None)
        how = f"from Python: {cmd}" if model is not None or dataset is not None else f"with `{cmd}`"
        with on_interrupt(f"continue the run {how}"):
            return _resume(run_dir, device, model, dataset, progress, on_note)
    return _resume(run_dir, device, model, dataset, progress, on_note)  # (refused in _restore)


def _resume(
    run_dir: Any,
    device: str | torch.device,
    model: nn.Module | None,
    dataset: Any,
    progress: bool,
    on_note: Callable[[str], None] | None,
) -> RunResult:
    """:func:`resume`'s work."""
    run, trainer, note, _ = _restore(
        run_dir, device=device, model=model, dataset=dataset, on_note=on_note, lock=True
    )
    try:
        done_epoch, done_step = trainer.epoch, trainer.step
        finished = (run.path / "summary.json").is_file()
        run.remove_partial_writes()
        # read (a corrupt line is refused) and checked before anything is changed
        metrics = run.kept_rows(run.metrics_path, "epoch", done_epoch)
        diagnostics = run.kept_rows(run.diagnostics_path, "step", done_step - 1)
        _check_metrics_cover(run, metrics, trainer.k, done_epoch)
        trainer._judge_end_again(metrics or [], finished)  # (the run's end moved: no val/test)
        if note:  # said once the state is loaded: a run whose models have all stopped trains
            if "continues to the new end" in note and not bool(trainer.running.any()):  # no more
                note = note.split("continues to the new end")[0].removesuffix(": training ")
                note += (  # (nor does the schedule's new length change a learning rate used)
                    ", but every model has stopped (NaN/Inf or early stopping), so nothing is "
                    "trained: a longer run is a new `trainlab train`"
                )
        elif trainer.done() and finished:
            note = f"nothing to train: {complete_run(run.path)}"
        if note:  # said once the run's files are known good: not before an error about them
            (on_note or _warn)(note)
        if not trainer.done():  # a finished run trained longer: not finished until fit ends
            (run.path / "summary.json").unlink(missing_ok=True)
            from .diagnostics.run import is_diagnose_run
            from .report.html import FIGURES_DIR, REPORT_FILE, SECTIONS_FILE

            if is_diagnose_run(run.path):  # its verdict's sections, of the old end
                (run.path / SECTIONS_FILE).unlink(missing_ok=True)
            # the report of the old end ("complete", its numbers): build_report (the CLI's
            # resume does) writes the new one
            (run.path / REPORT_FILE).unlink(missing_ok=True)
            figures = run.path / FIGURES_DIR
            for png in figures.glob("*.png") if figures.is_dir() else ():
                png.unlink(missing_ok=True)
        run.rewrite_jsonl(run.metrics_path, metrics)
        if diagnostics is not None:  # (a line of an earlier version, with bare NaN tokens:
            from .report.jsonl import encode_record  # its NaN/Inf named, not nulled)

            diagnostics = [encode_record(r) for r in diagnostics]
        run.rewrite_jsonl(run.diagnostics_path, diagnostics)
        summary = _noted_fit(trainer, run, progress=progress)
    finally:
        run.unlock()
    return RunResult(run.path, summary, trainer.members, trainer.pop)


def load_run(
    run_dir: str | Path,
    *,
    device: str | torch.device = "cpu",
    model: nn.Module | None = None,
    dataset: Any = None,
) -> RunResult:
    """A run's population as its last checkpoint holds it (a finished run: its final weights),
    rebuilt as :func:`resume` rebuilds it and checked the same way; nothing is trained or
    written. ``load_run(dir).model(i)`` is model ``i`` as a plain ``nn.Module`` (in training
    mode, as torch builds modules: call ``.eval()`` for inference), with its own dropout rate
    and batch-norm statistics; ``summary`` is the run's ``summary.json`` (empty if the run has
    not finished). A run that trained on a module or dataset passed in needs them again
    (``model=``, ``dataset=``); the data is loaded to rebuild the models.
    """
    run, trainer, _, loaded = _restore(
        run_dir, device=device, model=model, dataset=dataset, on_note=lambda _: None,
        who="load_run",
    )  # fmt: skip
    if not loaded:
        again = resume_command(run.path, model=model is not None, dataset=dataset is not None)
        raise UserError(
            f"{run.path} has no checkpoint yet (killed before its first epoch ended): there "
            f"are no trained weights to load; resume it first: {again}"
        )
    summary = run.read_json("summary.json") if (run.path / "summary.json").is_file() else {}
    return RunResult(run.path, summary, trainer.members, trainer.pop)


def _check_metrics_cover(
    run: RunDir, rows: list[dict[str, Any]] | None, k: int, epochs: int
) -> None:
    """Refuse to resume when ``metrics.jsonl`` lacks a ``(model, epoch)`` row the checkpoint
    has trained (the file deleted, or cut at a line): the run would finish "complete" with
    curves that start late."""
    have = {(r.get("model"), r.get("epoch")) for r in rows or []}
    missing = next(
        ((m, e) for e in range(1, epochs + 1) for m in range(k) if (m, e) not in have), None
    )
    if missing is not None:
        what = "does not exist" if rows is None else "lacks rows the checkpoint has trained"
        raise UserError(
            f"{run.metrics_path} {what} (model {missing[0]}, epoch {missing[1]} of {epochs}); "
            f"restore it, or delete {run.checkpoint_path} to train the run again from scratch"
        )


def _continue_note(path: Path, *, model: bool, dataset: bool) -> str:
    """How to continue the run in ``path`` (:func:`trainlab.errors.resume_command`: the CLI's
    command, or for a run given its own module or data, :func:`resume` from Python)."""
    cmd = resume_command(path, model=model, dataset=dataset)
    return f"continue the run {f'from Python: {cmd}' if model or dataset else f'with `{cmd}`'}"


def _noted_fit(trainer: Trainer, run: RunDir | None, *, progress: bool) -> dict[str, Any]:
    """``trainer.fit(run)``; a Ctrl-C inside is noted with how to continue the run
    (:func:`trainlab.errors.resume_command`: the CLI's command, or for a run given its own
    module or data, :func:`resume` from Python with them)."""
    if run is None:
        return trainer.fit(None, progress=progress)
    note = _continue_note(run.path, model=trainer.custom_model, dataset=trainer.custom_dataset)
    # (a full disk too: what was written stays valid, and resumes)
    with on_interrupt(note, os_error=note):
        try:
            return trainer.fit(run, progress=progress)
        except (MemoryError, RuntimeError) as err:
            if out_of_memory(err):  # the folder blocks the same --out: say what it is
                err.add_note(
                    f"the unfinished run {shell_path(run.path)} was kept: {note} where memory "
                    "allows, or remove it to use the same --out again"
                )
            raise


def _module_record(module: nn.Module) -> dict[str, Any]:
    """What ``population.json`` keeps of a module passed in: its class, a sha256 of its
    ``repr`` (layers, activations, settings) and of its parameters' and buffers' names, shapes
    and dtypes (not their values: the checkpoint holds those), and its frozen parameters'
    names."""
    import hashlib

    parts = [repr(module)]
    parts += [f"{n} {tuple(t.shape)} {t.dtype}" for n, t in module.named_parameters()]
    parts += [f"{n} {tuple(t.shape)} {t.dtype}" for n, t in module.named_buffers()]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return {
        "class": f"{type(module).__module__}.{type(module).__qualname__}",
        "sha256": digest,
        # which parameters do not train: the checkpoint's optimizer state fits the others
        "frozen": sorted(n for n, t in module.named_parameters() if not t.requires_grad),
    }


def _data_changes(recorded: dict[str, Any], ds: Any) -> list[str]:
    """The keys of :func:`_dataset_record` in which dataset ``ds`` differs from ``recorded``."""
    now = _dataset_record(ds)
    return [k for k in now if now[k] != recorded.get(k)]


def _dataset_record(ds: Any) -> dict[str, Any]:
    """What ``population.json`` keeps of a dataset passed in: its name, split sizes, input
    shape, classes and a SHA-256 of its six tensors' bytes (a different dataset of the same
    sizes is refused at resume too)."""
    import hashlib

    h = hashlib.sha256()
    for split in ("train", "val", "test"):
        for t in (getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")):
            t = t.detach().cpu().contiguous()
            if t.dtype == torch.bfloat16:  # (numpy has no bfloat16: its bits, as int16)
                t = t.view(torch.int16)
            h.update(t.numpy().tobytes())
    return {
        "name": str(ds.name),
        "sizes": [len(ds.y_train), len(ds.y_val), len(ds.y_test)],
        "input_shape": list(ds.input_shape),
        "num_classes": int(ds.num_classes),
        "sha256": h.hexdigest(),
    }


def _resume_device(
    device: str | torch.device, info: dict[str, Any], note: Callable[[str], None]
) -> str | torch.device:
    """``auto`` resumes on the device the run trained on (``population.json``), so that a CPU
    run is not continued on a GPU that ``auto`` would pick (bitwise resume holds per device);
    a CUDA run on a machine without CUDA goes on on the CPU, with a note."""
    versions = info.get("versions")
    recorded = versions.get("device") if isinstance(versions, dict) else None
    if str(device) != "auto" or not isinstance(recorded, str):
        return device
    if recorded.startswith("cuda") and not torch.cuda.is_available():
        note(f"the run trained on {recorded}, and this machine has no CUDA device: it goes on "
             "on the CPU (not bitwise the run an uninterrupted one would have been)")  # fmt: skip
        return "cpu"
    if recorded.startswith("cuda"):  # that device if this machine has it, else the first
        try:
            return resolve_device(recorded)
        except UserError:
            return "cuda"
    return "cpu"


#: config keys that may change between a checkpoint and its resume: none of them changes the
#: models' trajectory up to the checkpoint (``train.epochs`` only moves the end, and
#: ``train.schedule_epochs`` the schedule's, from the checkpoint on;
#: ``train.eval_batch_size`` only without early stopping, whose stops its numbers decide)
RESUME_MAY_CHANGE = (
    "name",
    "train.epochs",
    "train.schedule_epochs",
    "train.checkpoint_every",
    "train.diagnose_every",
    "train.eval_batch_size",
    "train.cuda_graph",
)


#: config keys added after runs were recorded, with the value every earlier run trained with:
#: a checkpoint (or population.json) without one is not edited when the config has that value
ADDED_KEYS = {"train.cuda_graph": True, "train.tf32": False, "train.schedule_epochs": None}
_MISSING = object()


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"optim": {"lr": 0.1}}`` -> ``{"optim.lr": 0.1}`` (lists and scalars are leaves)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(_flat(v, f"{key}.") if isinstance(v, dict) and v else {key: v})
    return out


def _check_dataset_type(dataset: Any) -> None:
    """A ``dataset=`` given to train, resume or load_run must be a :class:`Dataset`."""
    from .data import Dataset

    if dataset is not None and not isinstance(dataset, Dataset):
        raise UserError(
            f"dataset must be a trainlab.data.Dataset, got {type(dataset).__name__}; for "
            "a registered data set set config.data.name, for arrays use "
            "trainlab.pretrain.arrays_dataset"
        )


def _null_channels_as_built(a: dict[str, Any], b: dict[str, Any], info: dict[str, Any]) -> None:
    """Two flat configs with ``model.channels`` null on one side and a list on the other (a
    convnet's default channels, recorded as null before the built ones were written out): the
    null one set to the channels a convnet builds for the run's input shape (recorded in
    ``population.json``'s ``data_fingerprint``, ``info``), so that an edit from the default is
    named; dropped from both where the run recorded no input shape, or for a registered model
    that takes ``channels`` (whose defaults are not known here)."""
    key = "model.channels"
    if (a.get(key) is None) == (b.get(key) is None):
        return
    shape = (info.get("data_fingerprint") or {}).get("input_shape")
    if a.get("model.name") != "convnet" or not isinstance(shape, list) or len(shape) < 2:
        a.pop(key, None)  # (a registered model's defaults: not known here)
        b.pop(key, None)
        return
    from .models.convnet import default_channels

    built = list(default_channels(tuple(int(n) for n in shape)))
    for d in (a, b):
        if d.get(key) is None:
            d[key] = built


def _foreign_keys(
    trained: dict[str, Any], recorded: dict[str, Any], info: dict[str, Any]
) -> list[str]:
    """The keys outside :data:`RESUME_MAY_CHANGE` (and ``data.options.path``) in which a
    checkpoint's config and the run's starting one (``population.json``) differ: none for the
    run's own checkpoints, whose later sessions may change only those keys."""
    trained, recorded = (with_default_widths(copy.deepcopy(d)) for d in (trained, recorded))
    a, b = _flat(_declared_values(trained)), _flat(_declared_values(recorded))
    _null_channels_as_built(a, b, info)
    may = {*RESUME_MAY_CHANGE, "data.options.path"}

    def value(d: dict[str, Any], k: str) -> Any:
        return d[k] if k in d else ADDED_KEYS.get(k, _MISSING)

    return sorted(k for k in a.keys() | b.keys() if k not in may and value(a, k) != value(b, k))


def _schedule_depends_on_length(config: Config, old_epochs: int, new_epochs: int) -> bool:
    """Whether ``config``'s schedule gives other learning rates over the first ``old_epochs``
    when the run is ``new_epochs`` long (cosine, one-cycle: yes; step, cyclic: no)."""
    from .optim import create_schedule

    kw = schedule_kwargs(config)
    warmup = kw.get("warmup_steps") or 0
    # steps per epoch: any count shows the dependence, if every epoch count leaves room for the
    # warmup; K as the run has it (per-model parameters are K-lists)
    spe = 1000 + (int(warmup) if isinstance(warmup, int | float) else 0)
    ones = torch.ones(len(members(config)), dtype=torch.float64)
    try:
        curves = [
            create_schedule(
                config.schedule.name, ones, total_steps=e * spe, steps_per_epoch=spe, **kw
            ).curve(min(old_epochs, new_epochs) * spe)
            for e in (old_epochs, new_epochs)
        ]
    except (ConfigError, ValueError, RuntimeError):  # cannot tell: say it may
        return True
    return not torch.equal(*curves)


def _declared_values(trained: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's config with its per-model values as :class:`Config` now reads them:
    earlier versions kept a number given as text (``optim.lr: ["1e-3"]``, from a YAML 1.1
    reader) as the text, which now reads as the number the models trained with."""
    pop = trained.get("population")
    if not isinstance(pop, dict):
        return trained
    pop = dict(pop)
    if isinstance(pop.get("grid"), dict):
        pop["grid"] = declared_grid(pop["grid"])
    if isinstance(pop.get("variants"), list):
        pop["variants"] = declared_variants(pop["variants"])
    return {**trained, "population": pop}


def _config_changes(
    trained: dict[str, Any],
    config: Config,
    run: RunDir,
    done: int,
    *,
    custom_model: bool = False,
    data_checked: bool = False,
    since: str = "the checkpoint",
    run_info: dict[str, Any] | None = None,
) -> str | None:
    """Refuse edits of ``config.yaml`` ``since`` the checkpoint (or the run's start, for a run
    killed before its first checkpoint) outside :data:`RESUME_MAY_CHANGE` (UserError naming
    them) and a ``train.epochs`` below the ``done`` epochs already trained; return a note when
    ``train.epochs`` changed, else None. A module given to ``train``
    (``custom_model``): its model defaults are not recorded (earlier versions recorded them, so
    a ``model.*`` key that only one side has is not a change, but for ``model.dropout``, which
    sets the module's rates). ``data_checked``: the run
    recorded its data's fingerprint, which resume compares, so ``data.options.path`` may name
    the same file at a new place (a project moved with its data). ``run_info``: the run's
    ``population.json``, whose input shape resolves a convnet's channels recorded as null."""
    now = with_factory_defaults(config, model_defaults=not custom_model)
    if not custom_model:  # (earlier versions recorded an mlp's default widths as null)
        trained = with_default_widths(copy.deepcopy(trained))
    before, now = _flat(_declared_values(trained)), _flat(now.model_dump(mode="json"))
    _null_channels_as_built(before, now, run_info or {})
    changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    # a run recorded before a key existed trained with its value of then
    changed = [k for k in changed if k in before or ADDED_KEYS.get(k, _MISSING) != now.get(k)]
    if custom_model:  # (but model.dropout sets the module's dropout rates: never a default)
        changed = [
            k
            for k in changed
            if k == "model.dropout" or not (k.startswith("model.") and (k in before) != (k in now))
        ]
    may = RESUME_MAY_CHANGE + (("data.options.path",) if data_checked else ())
    if before.get("train.early_stopping_patience") is not None:  # the validation numbers decide
        may = tuple(k for k in may if k != "train.eval_batch_size")  # each stop (batch-statistics
        # evaluation, float rounding): another batch size may stop other models at other steps
    bad = [k for k in changed if k not in may]
    if bad:
        old = {k: before[k] if k in before else ADDED_KEYS.get(k) for k in bad}  # (as trained)
        shown = "; ".join(f"{k}: {describe_change(old[k], now.get(k))}" for k in bad[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise UserError(
            f"{run.config_path} changed since {since} ({shown}{more}); the resumed run "
            "would not continue the one that was trained: restore these keys, or start a new run"
        )
    old_span = before.get("train.schedule_epochs") or before.get("train.epochs")
    new_span = config.train.schedule_epochs or config.train.epochs
    if "train.epochs" not in changed and old_span == new_span:
        return None
    old, new = before.get("train.epochs"), config.train.epochs
    if new < done:
        raise UserError(
            f"{run.config_path} sets train.epochs to {new}, but the checkpoint has already "
            f"trained {done} epochs (of {old}); set train.epochs to {done} or more"
        )
    if "train.epochs" in changed:
        note = f"train.epochs changed from {old} to {new} since {since}: training "
        note += (
            "continues to the new end" if new > done else f"ends at epoch {new}, already reached"
        )
    else:
        note = f"train.schedule_epochs changed from {old_span} to {new_span} since {since}"
    if old_span != new_span and _schedule_depends_on_length(config, int(old_span), new_span):
        note += (
            f"; the '{config.schedule.name}' schedule spans the new length ({new_span} epochs), "
            "so its learning rates from here on differ from those the run would have had"
            if new > done
            else f"; its {done} epochs followed the '{config.schedule.name}' schedule over "
            f"{old_span} epochs, which config.yaml no longer describes"
        )
    return note


def _warn(message: str) -> None:
    """``resume``'s notes by default: a UserWarning at the caller's line."""
    from .population import _caller_stacklevel

    warnings.warn(message, UserWarning, stacklevel=_caller_stacklevel())


class _CallableModule(types.ModuleType):
    """``trainlab.train`` is this module *and* the function: ``trainlab.train(config)`` works
    whether or not the submodule was imported first (which rebinds the package attribute)."""

    def __call__(self, *args: Any, **kwargs: Any) -> RunResult:
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
