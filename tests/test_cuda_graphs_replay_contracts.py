"""Review of the CUDA-graph replay of the trainer's step (trainlab.cuda_graphs), on the CPU.

The graphed tests use a CPU emulation of torch's CUDA graph, carried in this file: a "capture"
runs the step once under a TorchDispatchMode that records every aten op with its tensor
arguments (a host read raises, as it does while a stream captures) and then puts back every
pre-existing storage the step wrote (a real capture runs no kernel); a "replay" re-runs the
recorded ops, in order, on the same tensor objects and runs no Python (in-place ops as
recorded, views skipped, functional ops recomputed into their capture-time outputs: static
memory). The step is made to take its CUDA branches (``on_cpu`` false, no fused CPU kernels).
With it, a graphed run equals an eager one bitwise for Adam/AdamW/SGD/Adagrad/RMSprop, two
batch shapes, NaN mid-run, early stopping, schedules, dropout, batch norm, clipping, lr_find.
"""

import copy
import warnings
from contextlib import contextmanager

import pytest
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from conftest import small_config
from trainlab import rng
from trainlab.cuda_graphs import StepGraphs, _fingerprint
from trainlab.train import Trainer


# -- the emulation -------------------------------------------------------------------------------
def _writes(func):
    return [i for i, a in enumerate(func._schema.arguments)
            if a.alias_info is not None and a.alias_info.is_write]  # fmt: skip


def _is_view(func):
    rets = func._schema.returns
    return bool(rets) and all(r.alias_info is not None and not r.alias_info.is_write for r in rets)


class _Recorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops, self.created, self.saved = [], set(), {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.ops.aten._local_scalar_dense.default, torch.ops.aten.item.default):
            raise RuntimeError("operation not permitted when stream is capturing (host read)")
        schema = func._schema.arguments
        for i in _writes(func):  # keep what a pre-existing storage held: put back after capture
            v = args[i] if i < len(args) else kwargs.get(schema[i].name)
            for t in tree_flatten(v)[0]:
                if isinstance(t, torch.Tensor):
                    st = t.untyped_storage()
                    ptr = st.data_ptr()
                    if ptr and ptr not in self.created and ptr not in self.saved:
                        self.saved[ptr] = (st, st.clone())
        ins = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0]
               if isinstance(t, torch.Tensor)}  # fmt: skip
        out = func(*args, **kwargs)
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                ptr = t.untyped_storage().data_ptr()
                if ptr not in ins and ptr not in self.saved:  # a new allocation
                    self.created.add(ptr)
        self.ops.append((func, args, kwargs, out))
        return out


class _FakeGraph:
    def __init__(self):
        self.ops = None

    def replay(self):
        with torch.no_grad():
            for func, args, kwargs, out in self.ops:
                if _is_view(func):
                    continue
                if _writes(func):
                    func(*args, **kwargs)
                    continue
                res = func(*args, **kwargs)
                for r, o in zip(tree_flatten(res)[0], tree_flatten(out)[0], strict=True):
                    if isinstance(o, torch.Tensor) and r is not o:
                        if r.data_ptr() == o.data_ptr() and r.stride() == o.stride():
                            continue
                        o.copy_(r)


@contextmanager
def _fake_capture(graph, *args, **kwargs):
    rec = _Recorder()
    try:
        with rec:
            yield
    finally:
        for st, saved in rec.saved.values():  # a capture runs nothing
            st.copy_(saved)
    graph.ops = rec.ops


def _emulate(monkeypatch):
    """CUDA graphs on the CPU, and the step's CUDA branches, for every trainer."""
    from trainlab.optim import base
    from trainlab.optim.base import PopulationOptimizer

    monkeypatch.setattr(torch.cuda, "CUDAGraph", _FakeGraph)
    monkeypatch.setattr(torch.cuda, "graph", _fake_capture)
    real = Trainer._step_kernels

    def as_cuda(self, idx, step):
        dev = self.device
        self.device = torch.device("cuda")  # (only read as device.type inside the step)
        try:
            return real(self, idx, step)
        finally:
            self.device = dev

    monkeypatch.setattr(Trainer, "_step_kernels", as_cuda)
    monkeypatch.setattr(PopulationOptimizer, "_fusable", staticmethod(lambda group, t: False))
    monkeypatch.setattr(base, "readable_on_host", lambda value: False)  # (CPU-only exact paths)


def _pair(monkeypatch, cfg, model=None):
    """An eager trainer and a graphed one of ``cfg`` (CUDA step branches in both)."""
    _emulate(monkeypatch)
    made = []
    for _ in range(2):
        torch.manual_seed(0)
        made.append(Trainer(cfg, device="cpu", model=model() if model else None))
    made[1]._graphs = StepGraphs(made[1])
    return made[0], made[1], made[1]._graphs


def _steps(trainers, n, b=64):
    perm = rng.permutations(trainers[0].pop.seeds, 0, trainers[0].data.x_train.shape[0])
    for s in range(n):
        for t in trainers:
            t.step_on(perm[:, s * b : (s + 1) * b])


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.params, b.params, strict=True))


# -- findings ------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _datasets_loaded():
    """The first trainer of a process loads the dataset libraries (~4 s): once, in setup."""
    Trainer(small_config(), device="cpu")


class _UserNet(nn.Module):  # not stackable: a vmap population
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(F.silu(self.fc1(x.flatten(1))))


def test_vmap_population_keeps_its_graphs_after_an_evaluation(monkeypatch):
    # evaluate() leaves the vmap template in eval mode and the next forward sets it back
    # (tpl.train(True)), which the capture's Python-state check takes for the user's forward
    # changing "_UserNet.training": graphs go off for good with a false warning at the first
    # capture after an evaluation; the mode flag must not count (or be synced before the snapshot)
    cfg = small_config(population={"seeds": [0, 1]}, train={"epochs": 2, "batch_size": 700})
    eager, graphed, graphs = _pair(monkeypatch, cfg, _UserNet)
    assert graphed.pop.mode == "vmap"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "train.cuda_graph: ... steps run eagerly" warning
        for _ in range(2):
            eager.train_epoch()
            graphed.train_epoch()
    assert graphs.off is None, graphs.off
    assert _same_weights(eager, graphed)


def test_first_graphed_step_after_loading_a_state_without_optimizer_state(monkeypatch):
    # loading a step-0 state (empty optimizer state) into a trainer that already stepped
    # captures at once (the shape is 'warm'): Adam creates state["step"] inside the capture and
    # _restore_counters leaves it at 1, so the replay takes t = 2 for the first step and every
    # later step is one ahead (bias corrections, checkpoint's counters); t must count from 1
    eager, graphed, graphs = _pair(monkeypatch, small_config(population={"seeds": [0, 1]}))
    starts = [copy.deepcopy(t.state_dict()) for t in (eager, graphed)]
    _steps([eager, graphed], 2)
    for t, start in zip((eager, graphed), starts, strict=True):
        t.load_state_dict(start)
    _steps([eager, graphed], 3)
    assert graphs.replays > 0
    assert [graphed.optimizer.state[p]["step"] for p in graphed.params] == [3] * 4
    assert _same_weights(eager, graphed)


def test_optimizer_step_hooks_run_at_every_graphed_step(monkeypatch):
    # a replay runs no Python, and _has_hooks looks at module and tensor hooks only: a user's
    # optimizer.register_step_post_hook (or a global optimizer hook) ran at the capture only
    # (2 calls in 5 steps); a step with optimizer hooks must run eagerly, as one with model hooks
    eager, graphed, graphs = _pair(monkeypatch, small_config(population={"seeds": [0, 1]}))
    calls = []
    graphed.optimizer.register_step_post_hook(lambda opt, args, kwargs: calls.append(1))
    _steps([graphed], 5)
    assert len(calls) == 5


def test_fingerprint_of_replaced_per_model_betas_does_not_raise():
    # per-model Adam betas are a tuple of (K,) tensors, which _fingerprint puts among the
    # *values* (compared with ==): replacing them (a changed hyperparameter) made matches()
    # raise "Boolean value of Tensor with more than one value is ambiguous" at the next step;
    # it must report a mismatch (recapture)
    cfg = small_config(
        population={
            "seeds": [0],
            "variants": [{"optim.betas": [0.9, 0.99]}, {"optim.betas": [0.8, 0.999]}],
        }  # fmt: skip
    )
    trainer = Trainer(cfg, device="cpu")
    _steps([trainer], 1)
    before = _fingerprint(trainer)
    group = trainer.optimizer.param_groups[0]
    b1, b2 = group["betas"]
    group["betas"] = (b1.clone(), torch.tensor([0.95, 0.95], dtype=b2.dtype))
    assert not _fingerprint(trainer).matches(before)


def test_dropout_python_state_after_graphed_steps_is_the_eager_one(monkeypatch):
    # a replay leaves the dropout layers' Python `step` at the value of the last capture (the
    # checkpoint's python_state says step 1 after 5 steps; an eager run's says 4, and a resumed
    # graphed run's differs from an uninterrupted one's); it must be the last step's, as eagerly
    cfg = small_config(population={"seeds": [0, 1]}, model={"dropout": 0.2})
    eager, graphed, graphs = _pair(monkeypatch, cfg)
    _steps([eager, graphed], 5)
    assert graphs.replays == 4
    assert _same_weights(eager, graphed)  # (the masks themselves follow the step)
    assert graphed.state_dict()["python_state"] == eager.state_dict()["python_state"]


def test_watched_steps_it_does_not_sample_are_replayed(monkeypatch):
    """train.diagnose_every: 10 (watch's hooks are registered on sampled steps only): the
    steps it does not sample, other than the one after a sample (it finishes the update ratio
    there), are replayed, and the records and weights equal an eager run's."""
    cfg = small_config(train={"epochs": 2, "diagnose_every": 10}, population={"seeds": [0, 1]})
    eager, graphed, graphs = _pair(monkeypatch, cfg)
    eager._graphs = None
    for t in (eager, graphed):
        t.fit(None, progress=False)
    steps = graphed.step
    assert graphs.off is None
    sampled = len(range(0, steps, 10))
    assert graphs.replays >= steps - 2 * sampled - 2 - 2  # (2 warm-ups, 2 captures)
    assert _same_weights(eager, graphed)
    assert graphed.diagnostics == eager.diagnostics and len(eager.diagnostics) > 0


def test_eager_steps_of_a_graphed_trainer_compute_t_terms_as_a_replay(monkeypatch):
    """On CUDA an eager step (warm-up, a hooked step) reads the optimizer's t from a device
    tensor, as a replay does, so eager and replayed steps agree to the bit: a run with some
    steps forced eager (a user's hook) equals one replayed throughout."""
    cfg = small_config(optim={"name": "adam", "lr": 0.01}, population={"seeds": [0, 1]})
    a, b, graphs = _pair(monkeypatch, cfg)
    a._graphs = StepGraphs(a)
    seen = []
    real = Trainer._step_kernels

    def spy(self, idx, step):
        if self is b and not isinstance(step, torch.Tensor):  # an eager step of b
            seen.append(self.optimizer.graph_t is not None)
        return real(self, idx, step)

    monkeypatch.setattr(Trainer, "_step_kernels", spy)
    _steps([a, b], 4)
    handle = b.pop.register_forward_hook(lambda m, i, o: None)  # steps 4..7 of b: eager
    _steps([a, b], 4)
    handle.remove()
    _steps([a, b], 4)
    assert seen and all(seen), seen
    assert graphs.replays < a._graphs.replays
    assert _same_weights(a, b)


class _Unused(nn.Module):
    """A model with a layer that never gets a gradient (its parameters keep no state)."""

    def __init__(self):
        super().__init__()
        self.fc, self.spare = nn.Linear(64, 10), nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x.flatten(1))


def test_eager_steps_take_t_from_the_device_beside_a_parameter_that_never_steps(monkeypatch):
    """A parameter with no optimizer state (never a gradient) does not send the eager CUDA
    steps to the host counters (a replay, which skips it, reads t from the device: the two
    would compute the bias corrections differently); the weights equal the host path's."""
    _emulate(monkeypatch)
    cfg = small_config(population={"seeds": [0, 1]})
    host, dev = (Trainer(cfg, device="cpu", model=_Unused()) for _ in range(2))
    dev._graphs = StepGraphs(dev)
    dev._graphs.off = "eager steps only"
    seen = []
    real = type(dev.optimizer)._counts

    def spy(self, steps):
        got = real(self, steps)
        if self is dev.optimizer:
            seen.append(isinstance(got, torch.Tensor))
        return got

    monkeypatch.setattr(type(dev.optimizer), "_counts", spy)
    _steps([host, dev], 4)
    assert seen and all(seen), seen
    assert _same_weights(host, dev)


def test_a_failed_capture_leaves_no_optimizer_state_it_made(monkeypatch):
    """A capture that fails after its step made optimizer state (a state loaded from before
    any step): the state is removed (a capture runs nothing, so it was never filled) and the
    eager steps that follow equal the host path's."""
    eager, graphed, graphs = _pair(monkeypatch, small_config(population={"seeds": [0, 1]}))
    start = copy.deepcopy(graphed.state_dict())  # before any step: no optimizer state
    _steps([eager, graphed], 2)
    eager.load_state_dict(copy.deepcopy(start))
    graphed.load_state_dict(copy.deepcopy(start))

    @contextmanager
    def failing(graph, *args, **kwargs):
        with _fake_capture(graph):
            yield
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(torch.cuda, "graph", failing)
    with pytest.warns(UserWarning, match="could not be captured"):
        _steps([eager, graphed], 3)
    assert graphs.off is not None
    assert _same_weights(eager, graphed)
