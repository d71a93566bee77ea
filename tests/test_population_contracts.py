"""The population engine's promise (DESIGN.md principle 2: a model's result depends only on its
own config and seed, never on K, its slot or its neighbours) and the trainer's other contracts
(early stopping and NaN stops with batch norm, per-model overrides, dropout streams, evaluation
chunks): bitwise independence from a neighbour in the same slot, float64 agreement of a stacked
ResNet alone and in slot 3 of 5, and per-model overrides the other suites leave out."""

import copy

import pytest
import torch
from torch import nn

from conftest import batch_stats_net, small_config
from test_population import _NormCustom
from trainlab import rng
from trainlab.config import parse_config
from trainlab.population import Population
from trainlab.train import Trainer, train


def _run(cfg, **kw):
    return train(cfg, write=False, progress=False, device="cpu", **kw)


def _assert_same_weights(got: dict, want: dict, *, exact: bool = False, tol: float = 1e-5):
    assert list(got) == list(want)
    for n, t in want.items():
        if exact:
            assert torch.equal(got[n], t), n
        else:
            torch.testing.assert_close(got[n], t, rtol=tol, atol=tol, msg=n)


# -- stopped models with batch norm, optimizer defaults, dropout calls, evaluation -------------


@pytest.mark.parametrize(
    "factory, mode",
    [(lambda: nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), "stacked"), (_NormCustom, "vmap")],
    ids=["stacked", "vmap"],
)
def test_frozen_batchnorm_models_can_still_backpropagate(factory, mode):
    """set_frozen (the trainer's stopped models) + a training forward + backward: batch norm
    updates copies of the statistics, so restoring the frozen models' rows does not modify a
    tensor its backward saved."""
    pop = Population(factory(), 3).train()
    assert pop.mode == mode
    pop.set_frozen(torch.tensor([True, False, False]))
    pop(torch.randn(3, 5, 4)).square().sum().backward()
    assert (
        pop.net.state_dict(keep_vars=True)["1.weight" if mode == "stacked" else "bn.weight"].grad
        is not None
    )


def test_early_stopping_a_batchnorm_model_does_not_crash_its_neighbours():
    """The user-visible symptom of the test above: trainlab's own MLP with batch norm and early
    stopping. Model 1 (lr 1.0) stops after epoch 2; the next training step crashes instead of
    training model 0 on, as it trains alone."""
    base = dict(
        model={"batch_norm": True},
        optim={"name": "sgd", "lr": 0.05},
        train={"epochs": 3, "early_stopping_patience": 1},
    )
    both = _run(
        small_config(**base, population={"seeds": [0], "variants": [{}, {"optim.lr": 1.0}]})
    )
    assert [m["status"] for m in both.summary["models"]] == ["ok", "early_stopped"]
    alone = _run(small_config(**base, population={"seeds": [0]}))
    _assert_same_weights(both.population.member_state(0), alone.population.member_state(0))


def test_a_nan_model_keeps_its_batchnorm_statistics_after_it_stopped():
    """Trainer.step_on: "a stopped model gets no update at all": a NaN-stopped model's running
    statistics and ``num_batches_tracked`` stay put, as an early-stopped model's do."""
    cfg = small_config(
        model={"batch_norm": True},
        optim={"name": "sgd", "lr": 0.1},
        population={"seeds": [0], "variants": [{}, {"optim.lr": 1e30}]},
    )
    tr = Trainer(cfg, device="cpu")
    perm = rng.permutations(tr.pop.seeds, 0, tr.data.x_train.shape[0])
    b = tr.batch_size
    s = 0
    while bool(tr.alive[1]):
        tr.step_on(perm[:, s * b : (s + 1) * b])
        s += 1
        assert s < 5, "model 1 should blow up within a few steps"
    stopped = tr.pop.member_state(1)
    for t in range(s, s + 3):
        tr.step_on(perm[:, t * b : (t + 1) * b])
    after = tr.pop.member_state(1)
    assert bool(tr.alive[0])
    for n in ("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"):
        torch.testing.assert_close(after[n], stopped[n], rtol=0, atol=0, equal_nan=True, msg=n)


@pytest.mark.parametrize(
    "optim, variant, alone",
    [
        ({"name": "sgd", "lr": 0.1}, {"optim.momentum": 0.9}, {"momentum": 0.9}),
        ({"name": "adam"}, {"optim.betas": [0.8, 0.99]}, {"betas": [0.8, 0.99]}),
    ],
    ids=["sgd-momentum", "adam-betas"],
)
def test_a_variant_may_override_an_optimizer_value_the_base_config_leaves_default(
    optim, variant, alone
):
    """``variants: [{}, {optim.momentum: 0.9}]`` (README: any optim.* number varies per model):
    the members that leave the key unset get the optimizer's default."""
    both = _run(
        small_config(
            optim=optim, train={"epochs": 1}, population={"seeds": [0], "variants": [{}, variant]}
        )
    )
    plain = _run(small_config(optim=optim, train={"epochs": 1}, population={"seeds": [0]}))
    tuned = _run(
        small_config(optim={**optim, **alone}, train={"epochs": 1}, population={"seeds": [0]})
    )
    _assert_same_weights(both.population.member_state(0), plain.population.member_state(0))
    _assert_same_weights(both.population.member_state(1), tuned.population.member_state(0))


class _TwoCalls(nn.Module):
    """A user module (vmap path) that applies one nn.Dropout twice, as a forward often does
    (``self.drop`` after every layer)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 200)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.ones_like(self.fc(x))
        return torch.stack([self.drop(h), self.drop(h)], 1)  # (B, 2, 200)


def _twice_used_sequential() -> nn.Module:
    shared = nn.Dropout(0.5)  # one module at two places of a stackable nn.Sequential
    return nn.Sequential(nn.Linear(4, 200), shared, nn.Linear(200, 200), shared)


@pytest.mark.parametrize("mode", ["vmap", "stacked"])
def test_a_dropout_module_called_twice_draws_two_masks(mode):
    """torch draws a fresh mask at every call of a dropout module; so does SeededDropout (its
    stream is keyed by seed, step, site and the call since set_step)."""
    pop = Population(_TwoCalls() if mode == "vmap" else _twice_used_sequential(), 2).train()
    assert pop.mode == mode
    pop.set_step(0)
    masks = []
    if mode == "vmap":
        y = pop(torch.randn(2, 3, 4))  # (K, B, 2, 200)
        masks = [y[:, :, 0] == 0, y[:, :, 1] == 0]
    else:
        handle = pop.net[1].register_forward_hook(lambda m, i, o: masks.append(o == 0))
        pop(torch.randn(2, 3, 4))
        handle.remove()
    assert 0.4 < masks[0].float().mean() < 0.6
    assert not torch.equal(masks[0], masks[1])


def test_evaluation_of_a_batch_statistics_model_does_not_depend_on_k():
    """A model whose evaluation uses the batch (BatchNorm with track_running_stats=False) gets
    the same val/test metrics in a population of 32 as alone (the evaluation chunk does not
    shrink with K for it)."""

    def net():
        torch.manual_seed(0)
        return batch_stats_net()

    def cfg(seeds):
        return small_config(
            init={"scheme": "keep"},
            train={"eval_batch_size": 64},
            population={"seeds": seeds},
        )

    alone = Trainer(cfg([0]), device="cpu", model=net())
    many = Trainer(cfg(list(range(32))), device="cpu", model=net(), dataset=alone.data)
    for split in ("val", "test"):
        (la, aa), (lm, am) = alone.evaluate(split), many.evaluate(split)
        torch.testing.assert_close(lm[0], la[0], msg=split)
        torch.testing.assert_close(am[0], aa[0], msg=split)


def test_a_nan_neighbour_leaves_the_other_model_bitwise_unchanged():
    """README: a NaN/Inf model "is stopped ...; the others go on untouched". Same K, same slot,
    only the neighbour's init differs (std 0.2 vs 1e30: NaN at step 0): the other model is
    bitwise unchanged with the default (fused) CPU optimizer, whose kernel path a stopped
    model's lr of 0 would change."""
    base = dict(
        optim={"name": "sgd", "lr": 0.1, "momentum": 0.9},
        init={"scheme": "normal", "std": 0.1},
        train={"epochs": 1},
    )
    sane = _run(
        small_config(**base, population={"seeds": [0], "variants": [{}, {"init.std": 0.2}]})
    )
    bad = _run(
        small_config(**base, population={"seeds": [0], "variants": [{}, {"init.std": 1e30}]})
    )
    assert [m["status"] for m in sane.summary["models"]] == ["ok", "ok"]
    assert [m["status"] for m in bad.summary["models"]] == ["ok", "nan"]
    _assert_same_weights(
        bad.population.member_state(0), sane.population.member_state(0), exact=True
    )


# ------------------------------------------------------------------------- passing checks


@pytest.mark.parametrize(
    "extra",
    [
        {"train": {"clip_norm": 0.5}},
        {"train": {"clip_value": 0.01}},
        {
            "schedule": {"name": "cosine", "warmup_steps": 5},
            "model": {"batch_norm": True, "dropout": 0.3},
        },
    ],
    ids=["clip-norm", "clip-value", "bn-dropout-warmup-cosine"],
)
def test_a_neighbour_changes_nothing_in_the_same_slot_bitwise(extra):
    """With K and the slot fixed, a neighbour whose gradients are clipped hard (init std 3.0)
    or not at all leaves model 0 bitwise the same: clipping, schedules, batch-norm statistics
    and dropout masks are per model. (Across K the stacked forward's batched matmul rounds
    differently, so alone-vs-population agrees only to float rounding, as the docs say.)"""
    sections = {**extra, "train": {"epochs": 1, **extra.get("train", {})}}
    cfgs = [
        small_config(
            **sections,
            init={"scheme": "normal", "std": 0.1},
            population={"seeds": [0], "variants": [{}, {"init.std": std}]},
        )
        for std in (0.1001, 3.0)
    ]
    a, b = (_run(c) for c in cfgs)
    _assert_same_weights(b.population.member_state(0), a.population.member_state(0), exact=True)
    assert b.summary["models"][0]["final"] == a.summary["models"][0]["final"]


def test_float64_stacked_resnet_alone_equals_slot_3_of_5():
    """In float32 a BN + dropout ResNet (default widths) alone and in slot 3 of 5 drift apart
    after ~15 SGD steps (a 1-ulp difference flips a unit; 7e-4 after one epoch). In float64 they
    agree to 1e-12: the drift is the batched convolutions' rounding, not a per-model leak."""
    raw = {
        "name": "t",
        "model": {"name": "resnet", "widths": [4, 8], "dropout": 0.2},
        "init": {"scheme": "he_normal"},
        "optim": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "fused": False},
        "train": {"epochs": 1, "batch_size": 64},
    }
    trainers = []
    for seeds in ([3], [5, 6, 7, 3, 8]):
        tr = Trainer(parse_config({**raw, "population": {"seeds": seeds}}), device="cpu")
        tr.pop.double()
        tr.data = copy.copy(tr.data)
        tr.data.x_train = tr.data.x_train.double()
        trainers.append(tr)
    n = trainers[0].data.x_train.shape[0]
    perms = [rng.permutations(tr.pop.seeds, 0, n) for tr in trainers]
    for s in range(16):
        for tr, perm in zip(trainers, perms, strict=True):
            tr.step_on(perm[:, s * 64 : (s + 1) * 64])
    got, want = trainers[1].pop.member_state(3), trainers[0].pop.member_state(0)
    _assert_same_weights(got, want, tol=1e-12)


@pytest.mark.parametrize(
    "section, key, value, others",
    [
        ("optim", "weight_decay", 0.01, [0.0, 0.1]),
        ("optim", "eps", 1e-4, [1e-8]),
        ("init", "std", 0.2, [0.01]),
        ("init", "bias", 0.01, [0.0]),
    ],
)
def test_per_model_override_equals_the_value_set_globally(section, key, value, others):
    """A per-model value (in slot 3 of 4, other seeds and values around it) trains the model as
    the same value set globally for that model alone does (to float rounding)."""
    init = {"scheme": "normal", "std": 0.05}
    glob = {"init": init, "train": {"epochs": 1}}
    glob[section] = {**glob.get(section, {}), key: value}
    alone = _run(small_config(**glob, population={"seeds": [3]}))
    pop = _run(
        small_config(
            init=init,
            train={"epochs": 1},
            population={"seeds": [5, 3], "grid": {f"{section}.{key}": [*others, value]}},
        )
    )
    slot = [
        m.index for m in pop.members if m.seed == 3 and m.overrides[f"{section}.{key}"] == value
    ]
    assert slot == [len(pop.members) - 1]
    _assert_same_weights(pop.population.member_state(slot[0]), alone.population.member_state(0))
