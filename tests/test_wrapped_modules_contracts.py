"""Contracts from a review of models wrapped or transformed by other PyTorch machinery."""

import contextlib
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils import prune
from torch.optim.optimizer import _global_optimizer_post_hooks
from torch.utils.checkpoint import checkpoint

from conftest import small_config
from trainlab import init
from trainlab.diagnostics import watch
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import train


def _mlp(d_in=4):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d_in, 8), nn.ReLU(), nn.Linear(8, 3))


def _digits_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))


def _hooks(m):
    return sum(len(x._forward_hooks) + len(x._forward_pre_hooks) for x in m.modules())


@pytest.mark.slow
@pytest.mark.parametrize("watched", ["compiled", "module"])
def test_watch_every_step_leaves_compiled_model_compiled(watched):
    # watch(torch.compile(m), every<=8) makes dynamo recompile each step (guards on watch state)
    # until its recompile limit, after which the model runs uncompiled for good; it must not
    calls = [0]

    def backend(gm, _inputs):
        def run(*args):
            calls[0] += 1
            return gm.forward(*args)

        return run

    torch._dynamo.reset()
    m = _mlp()
    cm = torch.compile(m, backend=backend)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(cm(x), y).backward()
        opt.step()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with watch(cm if watched == "compiled" else m, every=1):
            for _ in range(12):
                step()
        before = calls[0]
        for _ in range(3):
            step()
    torch._dynamo.reset()
    assert calls[0] > before


@pytest.mark.parametrize("how", ["script", "trace"])
def test_watch_refuses_torchscript_model(how):
    # a ScriptModule runs no module hooks: watch raises torch's RuntimeError (script) or
    # silently records no activations (trace); it should refuse with one UserError
    m = _mlp()
    sm = torch.jit.script(m) if how == "script" else torch.jit.trace(m, torch.randn(2, 4))
    with pytest.raises(UserError), watch(sm, every=1):
        sm(torch.randn(8, 4)).sum().backward()


def test_watch_failed_attach_removes_its_hooks():
    # attach() raising (a scripted submodule) leaves the root hooks and the global optimizer
    # hook registered for good (__exit__ never runs); a failed attach must remove them
    m = nn.Sequential(torch.jit.script(_mlp()), nn.Tanh())
    before = set(_global_optimizer_post_hooks)
    try:
        with pytest.raises((UserError, RuntimeError)), watch(m, every=1):
            pass
        assert _hooks(m) == 0
        assert set(_global_optimizer_post_hooks) == before
    finally:  # (do not leak the watch's global hook into other tests)
        for key in set(_global_optimizer_post_hooks) - before:
            del _global_optimizer_post_hooks[key]


def test_train_diagnose_dataparallel_model():
    # Population trains an nn.DataParallel model, but --diagnose's re-run uses
    # torch.func.functional_call, which raises a raw RuntimeError mid-training
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1, "diagnose_every": 5})
    try:
        r = train(cfg, model=nn.DataParallel(_digits_mlp()), write=False, progress=False,
                  device="cpu")  # fmt: skip
    except UserError as err:
        assert "DataParallel" in str(err)
    else:
        assert any(d["act_mean"] is not None for d in r.diagnostics)


def test_train_diagnose_scripted_model():
    # training a torch.jit.script model works, but diagnose_every crashes with torch's
    # "register_forward_hook is not supported on ScriptModules"; refuse in one line or skip
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1, "diagnose_every": 5})
    with contextlib.suppress(UserError):
        train(cfg, model=torch.jit.script(_digits_mlp()), write=False, progress=False,
              device="cpu")  # fmt: skip


def test_population_unstack_after_forward_hook_caches_tensor():
    # a forward (here a user hook) storing a tensor on a module leaks a vmap BatchedTensor into
    # the template; unstack() then fails deep in deepcopy ("Cannot access storage of
    # BatchedTensorImpl"); the template must not keep tensors from inside vmap
    m = _mlp()
    m[1].register_forward_hook(lambda mod, a, o: setattr(mod, "last", o.detach()))
    pop = Population(m, 2)
    x = torch.randn(2, 16, 4)
    out = pop(x)
    u = pop.unstack(1)
    torch.testing.assert_close(u(x[1]), out[1].detach())


def test_population_of_pruned_model():
    # torch.nn.utils.prune (weight = weight_orig * weight_mask, a non-leaf attribute): the
    # population's deepcopy raises a raw RuntimeError; train it (unstack works) or refuse it
    m = _mlp()
    prune.l1_unstructured(m[0], "weight", amount=0.5)
    try:
        pop = Population(m, 2)
    except UserError as err:
        assert "prune" in str(err)
        return
    x = torch.randn(2, 16, 4)
    out = pop(x)
    torch.testing.assert_close(pop.unstack(1)(x[1]), out[1].detach())


class _DigitsCkpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh())
        self.b = nn.Linear(16, 10)

    def forward(self, x):
        return self.b(checkpoint(self.a, x, use_reentrant=False))


def test_train_checkpoint_in_forward_is_one_clear_error():
    # torch.utils.checkpoint(use_reentrant=False) inside forward: the vmap forward passes, the
    # backward crashes in functorch ("tensor may have escaped"); the trainer must say what to do
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1})
    torch.manual_seed(0)
    with pytest.raises(
        UserError, match="remove the checkpointing"
    ):  # (use_reentrant=True: refused too, test_dropout32)
        train(cfg, model=_DigitsCkpt(), write=False, progress=False, device="cpu")


def test_init_apply_pruned_layer_initializes_weight_orig():
    # init.apply skips a pruned Linear's weight_orig (warning it is "neither a Linear/Conv
    # weight"); it should draw it as the plain layer's weight (the mask then applies)
    ref = init.apply(_mlp(), "xavier_uniform", generator=torch.Generator().manual_seed(3))
    m = _mlp()
    with torch.no_grad():
        prune.random_unstructured(m[0], "weight", amount=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.apply(m, "xavier_uniform", generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(m[0].weight_orig, ref[0].weight)
