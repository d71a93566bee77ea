"""Adversarial review: ``watch`` on convolutional / residual models and populations of them.

Each test states the contract it checks; each failed on the code it was written against.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.models import create
from trainlab.population import Population


class _Wrap(nn.Module):
    """A container that is neither nn.Sequential nor population-safe: a population of it
    takes the vmap path (the watch then re-runs the sampled batch through the template)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.m = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.m(x)


class _InPlaceStandardize(nn.Module):
    """A small convnet that standardizes its input in place before the first conv, the kind
    of forward trainlab itself expects from users ("a forward may edit its input in place",
    train.py's _check_fits and evaluate)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(0.5))
        self.register_buffer("std", torch.tensor(2.0))
        self.body = create("convnet", input_shape=(2, 6, 6), num_classes=3, channels=(4,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.sub_(self.mean).div_(self.std)
        return self.body(x)


def _ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)


def test_vmap_population_statistics_use_the_batch_the_forward_saw():
    """In the vmap mode the watch measures a sampled step by running "the sampled step's batch
    ... again, model by model ... through the plain template" (watch.py module doc). The
    batch it re-runs is the population's input *after* the real forward ran, so a model whose
    forward edits its input in place (trainlab's own trainer guards against such forwards) is
    measured on an input edited twice: every layer's act_mean/act_std is wrong, silently
    (training itself is unaffected), and the caller's batch is edited a second time by the
    watch. Per-model records must equal the true statistics of each model's layers (the plain
    model on the same batch), and watching must not change the batch the caller passed in."""
    torch.manual_seed(0)
    plains = [_InPlaceStandardize() for _ in range(2)]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 5, 2, 6, 6, generator=g)
    y = torch.randint(0, 3, (2, 5), generator=g)

    # the reference: each plain model alone, its layer outputs captured by plain hooks
    ref: dict[tuple[int, str], torch.Tensor] = {}
    for i, m in enumerate(plains):
        probe = copy.deepcopy(m)
        hooks = [
            mod.register_forward_hook(
                lambda _m, _a, o, n=n, i=i: ref.__setitem__((i, n), o.detach().double().clone())
            )
            for n, mod in probe.named_modules()
            if n in ("body.conv1", "body.act1", "body.out")
        ]
        probe(x[i].clone())
        for h in hooks:
            h.remove()

    pop = Population.from_models([_Wrap(copy.deepcopy(m)) for m in plains])
    assert pop.mode == "vmap"
    unwatched = copy.deepcopy(pop)
    x_plain = x.clone()
    _ce(unwatched(x_plain), y).backward()
    x_watched = x.clone()
    with watch(pop) as w:
        _ce(pop(x_watched), y).backward()
    recs = {(r["model"], r["layer"].removeprefix("m.")): r for r in w.records()}
    wrong = []
    for (i, name), a in ref.items():
        r = recs[(i, name)]
        want_mean, want_std = a.mean().item(), a.std(correction=0).item()
        if not (_close(r["act_mean"], want_mean) and _close(r["act_std"], want_std)):
            wrong.append((i, name, r["act_mean"], want_mean, r["act_std"], want_std))
    assert not wrong, f"(model, layer, recorded mean, true mean, recorded std, true std): {wrong}"
    assert torch.equal(x_watched, x_plain), "watching edited the caller's batch a second time"


def test_vmap_population_called_with_a_keyword_argument_is_watched():
    """``Population.forward(self, x)``: ``pop(x=batch)`` is a valid call and trains the same
    as ``pop(batch)``. Under ``watch`` a vmap-mode population of a convnet crashes on it with
    ``IndexError: tuple index out of range`` raised from the watch's forward hook
    (``_rerun_vmap`` reads ``args[0]``; a keyword input is not in ``args``): the user's
    training step fails only because it is watched. It must record the same statistics as
    the positional call."""
    torch.manual_seed(0)
    models = [
        _Wrap(create("convnet", input_shape=(1, 8, 8), num_classes=3, channels=(4,)))
        for _ in range(2)
    ]
    x = torch.randn(2, 5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    pos = Population.from_models([copy.deepcopy(m) for m in models])
    kw = Population.from_models([copy.deepcopy(m) for m in models])
    assert kw.mode == "vmap"
    with watch(pos) as wp:
        pos(x).sum().backward()
    with watch(kw) as wk:
        kw(x=x).sum().backward()  # IndexError inside the watch's hook
    a = {(r["model"], r["layer"]): r for r in wp.records()}
    b = {(r["model"], r["layer"]): r for r in wk.records()}
    assert a.keys() == b.keys()
    for key, r in a.items():
        assert _close(b[key]["act_mean"], r["act_mean"]), key
        assert _close(b[key]["act_std"], r["act_std"]), key


def test_a_copy_of_the_model_made_inside_the_block_keeps_no_watch_hooks():
    """Issue 4: "Hooks always remove themselves" (DESIGN: hooks are context managers that
    always remove themselves). Copying the model inside the block is ordinary training code
    (``best = copy.deepcopy(model)`` for early stopping, an EMA / SWA ``AveragedModel``, a
    snapshot ensemble), but the copy inherits the watch's forward hooks (deepcopy copies the
    hook dicts and, through the bound methods, a whole copy of the Watch with its buffers),
    and no ``with`` block ever removes them: after the block the copy still runs the watch's
    hooks on every forward. After the block, neither the model nor any copy of it made inside
    the block may carry a watch hook."""
    torch.manual_seed(0)
    model = create("resnet", input_shape=(1, 8, 8), num_classes=3, widths=(4,))
    fresh = copy.deepcopy(model)

    def hooks(m: nn.Module) -> int:
        return sum(len(s._forward_hooks) + len(s._forward_pre_hooks) for s in m.modules())

    x = torch.randn(4, 1, 8, 8)
    with watch(model, every=1):
        model(x).sum().backward()
        best = copy.deepcopy(model)
    assert hooks(model) == hooks(fresh) == 0
    assert hooks(best) == 0, f"the copy made inside the block carries {hooks(best)} hooks"


@pytest.mark.parametrize(
    "make, shape",
    [
        (
            lambda: create(
                "convnet", input_shape=(2, 8, 8), num_classes=3, channels=(4,), batch_norm=True
            ),
            (2, 8, 8),
        ),  # fmt: skip
        (lambda: create("resnet", input_shape=(1, 12), num_classes=3, widths=(4, 6)), (1, 12)),
    ],
    ids=["convnet2d_bn", "resnet1d"],
)
def test_population_records_describe_layers_as_the_plain_model_does(make, shape):
    """A population's records are those of each model trained alone (DESIGN principle 2: a
    model's results do not depend on K or on being in a population). ``kind`` is part of
    every record (RECORD_FIELDS) and ``_kind`` strips the twin's ``Stacked`` prefix precisely
    so that a stacked twin reads like its plain layer (``_StackedLinear -> linear``). For
    conv and batch-norm layers it does not: a stacked population writes ``conv`` and
    ``batchnorm`` where the same model alone (or the same population in vmap mode) writes
    ``conv2d``/``conv1d`` and ``batchnorm2d``/``batchnorm1d``, so diagnostics.jsonl of
    ``trainlab train`` (always a population) and ``watch(model)`` disagree about the same
    layer. Low severity: only the label differs."""
    torch.manual_seed(0)
    plain = make()
    pop = Population.from_models([copy.deepcopy(plain)])
    assert pop.mode == "stacked"
    x = torch.randn(1, 4, *shape)
    with watch(pop) as w:
        pop(x).sum().backward()
    with watch(plain) as wp:
        plain(x[0]).sum().backward()
    mine = {r["layer"]: r["kind"] for r in w.records()}
    ref = {r["layer"]: r["kind"] for r in wp.records()}
    assert mine.keys() == ref.keys()
    diff = {n: (mine[n], k) for n, k in ref.items() if mine[n] != k}
    assert not diff, f"layer: (population kind, plain kind): {diff}"


def test_a_loop_population_whose_forward_edits_its_input_in_place_trains():
    """A loop-mode population (a GRU) whose forward scales its input in place: the models ran
    on views of one input tensor, which share a version counter, so model 1's edit invalidated
    what model 0's first Linear had saved, and ``backward`` failed ("modified by an inplace
    operation"). Each model alone trains; so must the population, to the same gradients."""
    import warnings

    from trainlab.population import Population

    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp, self.rnn, self.fc = (
                nn.Linear(4, 4),
                nn.GRU(4, 5, batch_first=True),
                nn.Linear(5, 3),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x.mul_(2.0)
            return self.fc(self.rnn(self.inp(x))[0][:, -1])

    torch.manual_seed(0)
    tpl = Scaled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(tpl, 3)
    assert pop.mode == "loop"
    x = torch.randn(3, 2, 6, 4)
    pop(x.clone()).sum().backward()
    alone = copy.deepcopy(tpl)
    alone(x[1].clone()).sum().backward()
    torch.testing.assert_close(pop.net.fc.weight.grad[1] if hasattr(pop.net, "fc") else
                               dict(pop.net.named_parameters())["fc.weight"].grad[1],
                               alone.fc.weight.grad)  # fmt: skip


def test_custom_bins_with_a_strided_histogram_sample_raise_no_torch_warning():
    """Custom bin edges with a strided histogram sample (hist_values below the output size)
    made torch warn that bucketize got a non-contiguous input."""
    import warnings

    from trainlab.diagnostics import watch as watch_fn

    m = nn.Sequential(nn.Linear(4, 300), nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with watch_fn(m, every=1, bins=[-1.0, 0.0, 1.0], hist_values=50) as w:
            m(torch.randn(64, 4)).sum().backward()
    assert len(w.records()) == 2
