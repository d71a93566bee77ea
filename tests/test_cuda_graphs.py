"""CUDA graphs for the trainer's step (trainlab.cuda_graphs): a replayed step equals an eager
one; the graph is recaptured when what it baked in changes; hooks, failures and the CPU fall
back to eager steps. The device-count path of the optimizers and the fingerprint are checked on
the CPU; the rest needs CUDA."""

import copy
import math
import warnings

import pytest
import torch
from torch import nn

from conftest import requires_cuda, small_config
from trainlab import rng
from trainlab.cuda_graphs import _fingerprint, _replayable_watches
from trainlab.diagnostics import watch
from trainlab.optim import create_optimizer
from trainlab.optim.base import cpow
from trainlab.train import Trainer


# -- CPU: the pieces a graphed step relies on ---------------------------------------------------
@pytest.mark.parametrize(
    "name, hp",
    [
        ("adam", {"lr": [0.01, 0.03], "betas": (0.9, 0.99)}),
        ("adamw", {"lr": 0.01, "weight_decay": [0.0, 0.1], "amsgrad": True}),
        ("adagrad", {"lr": 0.05, "lr_decay": 0.01}),
    ],
)
def test_step_counts_read_from_a_tensor_equal_the_host_counters(name, hp):
    """With ``graph_t`` (the step count as a 0-d tensor, as a captured step reads it) an
    optimizer's steps equal its steps from the host counters, to float64 rounding."""
    torch.manual_seed(0)
    start = torch.randn(2, 5, 3, dtype=torch.float64)
    grads = [torch.randn(2, 5, 3, dtype=torch.float64) for _ in range(6)]
    hp = {k: torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v
          for k, v in hp.items()}  # fmt: skip
    got = []
    for from_tensor in (False, True):
        p = start.clone().requires_grad_()
        opt = create_optimizer(name, [p], fused=False, **hp)
        for t, g in enumerate(grads, start=1):
            p.grad = g.clone()
            opt.graph_t = torch.tensor(float(t), dtype=torch.float64) if from_tensor else None
            opt.graph_t_host = t if from_tensor else None  # (the t graph_t was set for)
            opt.step()
        assert opt.state[p]["step"] == len(grads)
        got.append(p.detach().clone())
    torch.testing.assert_close(got[1], got[0], rtol=1e-13, atol=1e-15)
    assert not torch.equal(got[0], start)


def test_cpow_with_a_tensor_exponent():
    t = torch.tensor(7.0, dtype=torch.float64)
    assert math.isclose(float(cpow(0.999, t)), 0.999**7, rel_tol=1e-15)
    b = torch.tensor([0.9, 0.99], dtype=torch.float64)
    torch.testing.assert_close(cpow(b, t), torch.tensor([0.9**7, 0.99**7], dtype=torch.float64))


def test_no_graphs_on_the_cpu_and_config_keys():
    cfg = small_config(train={"tf32": True})
    trainer = Trainer(cfg, device="cpu")
    assert trainer._graphs is None and trainer.tf32 is False
    assert trainer.config.train.cuda_graph is True  # the default


def test_the_fingerprint_changes_with_what_a_graph_bakes_in():
    """A loaded state (new tensors), a changed hyperparameter and new optimizer state each
    change the fingerprint; a plain step does not."""
    trainer = Trainer(small_config(population={"seeds": [0, 1]}), device="cpu")
    perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
    trainer.step_on(perm[:, :64])
    before = _fingerprint(trainer)
    trainer.step_on(perm[:, 64:128])
    assert _fingerprint(trainer).matches(before)
    state = trainer.state_dict()
    trainer.load_state_dict(state)
    loaded = _fingerprint(trainer)
    assert not loaded.matches(before)
    trainer.optimizer.param_groups[0]["eps"] = 1e-6
    assert not _fingerprint(trainer).matches(loaded)
    # the fingerprint holds what it names: a replaced tensor's id cannot come back as another's
    old = trainer.lr_override = torch.full((2,), 0.01, dtype=torch.float64)
    held = _fingerprint(trainer)
    trainer.lr_override = torch.full((2,), 0.01, dtype=torch.float64)
    del old
    assert not held.matches(_fingerprint(trainer))
    assert held.objects[5].tolist() == [0.01, 0.01]  # (lr_override, alive while held)
    # a parameter given new storage in place of the old (p.data = ...) is another tensor to a graph
    now = _fingerprint(trainer)
    with torch.no_grad():
        trainer.params[0].data = trainer.params[0].data.clone()
    assert not now.matches(_fingerprint(trainer))


def test_hooks_are_seen():
    """A step runs eagerly (None) under any hook a replay would skip; a watch that does not
    sample the next step is the exception (its hooks would only count it)."""
    trainer = Trainer(small_config(), device="cpu")
    assert _replayable_watches(trainer) == []
    with watch(trainer.pop, every=1):  # (every step sampled: layer hooks stay)
        assert _replayable_watches(trainer) is None
    with watch(trainer.pop, every=50) as w:  # its step 0 is next: sampled
        assert _replayable_watches(trainer) is None
        w._step = 3  # as after steps 0..3: step 4 is not sampled
        assert _replayable_watches(trainer) == [w]
        w.count_replayed_step()
        assert w.step == 4
    assert _replayable_watches(trainer) == []
    h = trainer.params[0].register_hook(lambda g: g)
    assert _replayable_watches(trainer) is None
    h.remove()
    handle = nn.modules.module.register_module_forward_hook(lambda m, i, o: None)
    try:
        assert _replayable_watches(trainer) is None
    finally:
        handle.remove()
    handle = trainer.optimizer.register_step_post_hook(lambda *a: None)
    assert _replayable_watches(trainer) is None
    handle.remove()
    other = nn.Linear(3, 3)  # a watch of another model: its global optimizer hook is idle here
    with watch(other, every=50):
        assert _replayable_watches(trainer) == []


# -- CUDA ----------------------------------------------------------------------------------------
def _run(cfg, graph, epochs=2, **kw):
    cfg = cfg.model_copy(deep=True)
    cfg.train.cuda_graph = graph
    trainer = Trainer(cfg, device="cuda", **kw)
    rows = [trainer.train_epoch() for _ in range(epochs)]
    return trainer, rows


_CONFIGS = {
    "adam": {},
    "hot": {  # dropout, batch norm, per-model lr, warmup + cosine, both clips
        "model": {"dropout": 0.2, "batch_norm": True},
        "train": {"clip_norm": 1.0, "clip_value": 0.5},
        "schedule": {"name": "cosine", "warmup_steps": 2},
        "population": {"seeds": [0, 1], "grid": {"optim.lr": [0.01, 0.02]}},
    },
    "sgd": {"optim": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}},
    "adagrad": {"optim": {"name": "adagrad", "lr": 0.05, "lr_decay": 0.001}},
    "rmsprop": {"optim": {"name": "rmsprop", "lr": 0.001, "centered": True, "momentum": 0.5}},
}


@requires_cuda
@pytest.mark.parametrize("case", sorted(_CONFIGS))
def test_cuda_graph_steps_equal_eager_steps(case):
    """Two epochs (the digits split has a smaller last batch: two graphs) replayed from CUDA
    graphs equal the same epochs stepped eagerly, and the graphs were used."""
    cfg = small_config(**_CONFIGS[case])
    eager, rows_e = _run(cfg, False)
    graphed, rows_g = _run(cfg, True)
    g = graphed._graphs
    assert g is not None and g.off is None, g and g.off
    assert g.replays >= graphed.steps_per_epoch  # every step of epoch 2 at least
    assert len(g.graphs) == 2  # full batches and the last, smaller one
    for a, b in zip(eager.params, graphed.params, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
    for ra, rb in zip(rows_e[-1], rows_g[-1], strict=True):
        assert math.isclose(ra["train_loss"], rb["train_loss"], rel_tol=1e-4)
        assert ra["val_acc"] == pytest.approx(rb["val_acc"], abs=0.01)
    for p in eager.params:  # the host step counters move with every replay
        i = next(i for i, q in enumerate(eager.params) if q is p)
        st_e = eager.optimizer.state[p]
        st_g = graphed.optimizer.state[graphed.params[i]]
        assert st_e.get("step") == st_g.get("step")


@requires_cuda
def test_cuda_graph_replays_do_not_sync():
    cfg = small_config(population={"seeds": [0, 1]})
    trainer = Trainer(cfg, device="cuda")
    perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
    losses = [trainer.step_on(perm[:, s * 64 : (s + 1) * 64]) for s in range(2)]  # warm, capture
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        losses += [trainer.step_on(perm[:, s * 64 : (s + 1) * 64]) for s in range(2, 6)]
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert trainer._graphs.replays == 5
    # each returned loss is its own step's (not the graph's output, which the next overwrites)
    assert len({tuple(x.tolist()) for x in losses}) == len(losses)


@requires_cuda
def test_cuda_graph_keeps_a_nan_model_apart():
    """A model that diverges under replayed steps is stopped at the same step as eagerly; the
    others equal their eager selves."""
    cfg = small_config(  # (as tests/test_train.py's NaN test: lr 1e30 with momentum diverges)
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.1, 1e30]}},
        optim={"name": "sgd", "lr": 0.1, "momentum": 0.9},
    )
    eager, _ = _run(cfg, False)
    graphed, _ = _run(cfg, True)
    assert graphed._graphs.replays > 0
    assert torch.equal(eager.alive, graphed.alive) and not bool(eager.alive.all())
    assert torch.equal(eager.nan_step, graphed.nan_step)
    keep = eager.alive
    for a, b in zip(eager.params, graphed.params, strict=True):
        torch.testing.assert_close(b[keep], a[keep], rtol=1e-4, atol=1e-5)


@requires_cuda
def test_cuda_graph_recaptures_after_a_load():
    """Loading a checkpoint replaces tensors the graph used: the next step captures again, and
    training on equals training on eagerly from the same state."""
    cfg = small_config(train={"epochs": 3})
    trainer, _ = _run(cfg, True, epochs=1)
    state = copy.deepcopy(trainer.state_dict())  # (a state_dict shares the live tensors)
    captures = trainer._graphs.captures
    trainer.train_epoch()
    trainer.load_state_dict(state)  # back to the end of epoch 1
    trainer.train_epoch()
    assert trainer._graphs.captures > captures
    off = cfg.model_copy(deep=True)
    off.train.cuda_graph = False
    eager = Trainer(off, device="cuda")
    eager.load_state_dict(state)
    eager.train_epoch()
    for a, b in zip(eager.params, trainer.params, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


@requires_cuda
def test_cuda_graph_steps_eagerly_under_watch():
    """Hooks (watch) do not run in a replay: a watched step is eager, and watch records it."""
    trainer = Trainer(small_config(), device="cuda")
    perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
    for s in range(3):
        trainer.step_on(perm[:, s * 64 : (s + 1) * 64])
    replays = trainer._graphs.replays
    with watch(trainer.pop, every=1) as w:
        for s in range(3, 6):
            trainer.step_on(perm[:, s * 64 : (s + 1) * 64])
    assert trainer._graphs.replays == replays
    assert len({r["step"] for r in w.records()}) == 3
    trainer.step_on(perm[:, 6 * 64 : 7 * 64])
    assert trainer._graphs.replays == replays + 1


class _SyncsInForward(nn.Module):
    """A user's module whose forward waits for the device (not capturable; fine under vmap)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        torch.cuda.synchronize()
        return self.fc(x.flatten(1))


@requires_cuda
def test_a_step_that_cannot_be_captured_runs_eagerly_with_one_warning():
    cfg = small_config()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.manual_seed(0)
        graphed, rows_g = _run(cfg, True, model=_SyncsInForward())
    msgs = [str(w.message) for w in caught if "cuda_graph" in str(w.message)]
    assert len(msgs) == 1 and "could not be captured" in msgs[0], msgs
    assert graphed._graphs.off is not None and graphed._graphs.replays == 0
    torch.manual_seed(0)
    eager, rows_e = _run(cfg, False, model=_SyncsInForward())
    for a, b in zip(eager.params, graphed.params, strict=True):
        torch.testing.assert_close(b, a)
    assert rows_g[-1][0]["train_loss"] == rows_e[-1][0]["train_loss"]


@requires_cuda
def test_tf32_trains_and_restores_the_callers_setting():
    before = torch.get_float32_matmul_precision()
    trainer, rows = _run(small_config(train={"tf32": True}), True, epochs=1)
    assert trainer.tf32 and torch.get_float32_matmul_precision() == before
    assert math.isfinite(rows[-1][0]["train_loss"])


@requires_cuda
def test_cuda_graph_survives_early_stopping_and_lr_find():
    """Early stopping and the LR range test update the tensors a graph reads in place: no
    capture per epoch (or per lr), and the stopped models stay stopped."""
    from trainlab.optim.lr_find import lr_find

    cfg = small_config(
        train={"epochs": 6, "early_stopping_patience": 1},
        population={"seeds": [0, 1], "variants": [{}, {"optim.lr": 3.0}]},
    )
    trainer, _ = _run(cfg, True, epochs=6)
    assert trainer._graphs.off is None and trainer._graphs.captures == 2
    assert trainer._graphs.replays > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lr_find(small_config(), num_steps=40, device="cuda")
    assert not [w for w in caught if "cuda_graph" in str(w.message)]


class _UserNet(nn.Module):
    """A user's module trainlab runs under vmap (its forward is not a stack of known layers)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x):
        h = self.fc1(x.flatten(1))
        return self.fc2(h * torch.sigmoid(h))  # SiLU written out


@requires_cuda
def test_cuda_graph_steps_of_a_vmap_population_equal_eager_steps():
    cfg = small_config(population={"seeds": [0, 1]})
    torch.manual_seed(0)
    eager, rows_e = _run(cfg, False, model=_UserNet())
    torch.manual_seed(0)
    graphed, rows_g = _run(cfg, True, model=_UserNet())
    assert graphed.pop.mode == "vmap"
    assert graphed._graphs.off is None and graphed._graphs.replays > 0
    for a, b in zip(eager.params, graphed.params, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
