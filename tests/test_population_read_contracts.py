"""Review of trainlab.population by a code read: less-exercised branches of the stacked, vmap
and loop modes, each compared with K plain torch modules run one by one."""

import copy
import warnings

import pytest
import torch
from torch import nn

from trainlab.population import Population


def _plain_outputs(models, x):
    return torch.stack([m(x[i]) for i, m in enumerate(models)])


# -- a module registered under two names (vmap / loop modes) ---------------------------------
class _TiedAndAliased(nn.Module):
    """``b.weight`` is tied to ``a.weight`` and ``a`` is also registered as ``alias``: a user
    module (its own parameter ``scale``), so the population runs it under vmap."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
        self.b.weight = self.a.weight
        self.alias = self.a
        self.scale = nn.Parameter(torch.randn(4))

    def forward(self, x):
        return self.b(torch.tanh(self.alias(x))) * self.scale


def test_tied_weights_with_an_aliased_module_stay_per_model_after_the_first_forward():
    """The module docstring promises that in every mode "a module used at several places, a
    parameter tied between modules ... are as in the plain model". For a module with a tied
    weight and a submodule registered under two names, the first vmap forward leaves a
    batched tensor on the template's ``a.weight`` and un-ties ``b.weight`` from it (the
    functional call does not put the template back as it found it); from the second forward
    on, every model silently uses model 0's ``b.weight``: models 1..K-1 compute wrong outputs
    and their gradients go to the wrong place. A user training such a model gets K copies of
    a mix of model 0 and their own weights, with no error."""
    torch.manual_seed(0)
    models = [_TiedAndAliased() for _ in range(3)]
    pop = Population.from_models([copy.deepcopy(m) for m in models])
    x = torch.randn(3, 2, 4)
    for step in range(2):
        out = pop(x)
        torch.testing.assert_close(
            out, _plain_outputs(models, x), msg=lambda m, step=step: f"forward {step}: {m}"
        )


class _Aliased(nn.Module):
    """A linear layer and a dropout module each registered under two names (``a``/``first``,
    ``drop``/``drop_again``); a parameter of its own sends it to the vmap mode (with a GRU
    cell: the loop)."""

    def __init__(self, loop=False):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.first = self.a
        self.drop = nn.Dropout(0.2)
        self.drop_again = self.drop
        self.scale = nn.Parameter(torch.ones(4))
        self.cell = nn.GRUCell(4, 4) if loop else None

    def forward(self, x):
        h = self.drop_again(self.drop(self.first(x))) * self.scale
        return self.cell(h) if self.cell is not None else h


@pytest.mark.parametrize("loop", [False, True], ids=["vmap", "loop"])
def test_unstack_after_a_forward_of_a_model_with_an_aliased_module(loop):
    """``pop.unstack(i)`` gives model i back as a plain module "in every path" — the normal
    end of training (``pop.unstack(acc.argmax())``). For a model in which one module is
    registered under two names (``self.first = self.a``, one dropout as ``drop`` and
    ``drop_again``), any
    forward leaves tensors of the functional call (a vmap BatchedTensor; in the loop, a
    non-leaf slice) on the population's template, and ``unstack`` — which deep-copies the
    template — raises ``NotImplementedError: Cannot access storage of BatchedTensorImpl`` (or
    "Only Tensors created explicitly by the user ... support the deepcopy protocol"): the
    trained models cannot be taken out."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(_Aliased(loop), 2).eval()
        pop(torch.randn(2, 3, 4))
    member = pop.unstack(1)
    state = pop.member_state(1)
    assert set(member.state_dict()) == set(state)
    for n, t in member.state_dict().items():
        torch.testing.assert_close(t, state[n])


# -- BatchNorm whose track_running_stats is changed after construction -----------------------
def _bn_with_statistics_then_untracked():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5))
    m.train()(torch.randn(64, 4) * 3 + 1)  # running statistics far from a batch's
    m[1].track_running_stats = False  # buffers kept: torch still evaluates with them
    return m


def test_batchnorm_untracked_after_construction_evaluates_as_torch():
    """Setting ``bn.track_running_stats = False`` on a trained BatchNorm keeps its running
    buffers, and torch's evaluation keeps normalizing with them (``bn_training`` is
    ``running_mean is None and running_var is None``). The stacked twin reads only the flag,
    drops the buffers and normalizes evaluation batches with their own statistics: the
    population's evaluation output differs from the plain model's (max diff ~1.6)."""
    m = _bn_with_statistics_then_untracked()
    pop = Population(copy.deepcopy(m), 2).eval()
    m.eval()
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(pop(x), _plain_outputs([m, m], x))


def test_batchnorm_untracked_after_construction_keeps_its_state_keys():
    """ "In every mode, ``pop.net.state_dict()`` has the plain model's keys with a leading K
    axis, so ``pop.member_state(k)`` / ``pop.unstack(k)`` give model k back". A BatchNorm
    whose ``track_running_stats`` was switched off after construction still has
    ``running_mean``/``running_var``/``num_batches_tracked`` in its state_dict, but the
    population drops them: ``unstack`` raises "Missing key(s) in state_dict" and
    ``from_models`` refuses the same model with "unexpected ['1.running_mean', ...]"."""
    m = _bn_with_statistics_then_untracked()
    pop = Population(copy.deepcopy(m), 2)
    assert set(pop.member_state(0)) == set(m.state_dict())
    back = pop.unstack(0)
    torch.testing.assert_close(back[1].running_mean, m[1].running_mean)
    Population.from_models([copy.deepcopy(m), copy.deepcopy(m)])


def test_batchnorm_tracked_after_construction_without_buffers_is_taken():
    """``BatchNorm1d(5, track_running_stats=False)`` with the flag later set to True has no
    running buffers (None); torch runs it (batch statistics in training and evaluation,
    ``num_batches_tracked`` guarded by ``is not None``). ``Population`` crashes while building
    its stacked twin with a raw ``AttributeError: 'NoneType' object has no attribute
    'detach'`` — a traceback instead of either running it as torch does or a clear error."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, track_running_stats=False))
    m[1].track_running_stats = True
    pop = Population(copy.deepcopy(m), 2).train()
    x = torch.randn(2, 6, 4)
    torch.testing.assert_close(pop(x), _plain_outputs([m.train(), m], x))


# -- from_models: settings that a module's extra_repr does not show ---------------------------
class _Attention(nn.Module):
    def __init__(self, heads):
        super().__init__()
        self.att = nn.MultiheadAttention(8, heads, batch_first=True)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.att(x, x, x, need_weights=False)[0].mean(1))


def _attention(setting):
    return _Attention(setting)


def _encoder(setting):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=setting)
    return nn.Sequential(layer, nn.Flatten())


def _avgpool(setting):
    return nn.Sequential(
        nn.Conv1d(2, 3, 3), nn.AvgPool1d(3, padding=1, count_include_pad=setting), nn.Flatten()
    )


def _upsample(setting):
    return nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=setting),
        nn.Flatten(),
    )


@pytest.mark.parametrize(
    "make, settings, xshape",
    [
        (_attention, (2, 4), (3, 5, 8)),
        (_encoder, (False, True), (3, 5, 8)),
        (_avgpool, (True, False), (4, 2, 7)),
        (_upsample, (False, True), (3, 1, 5, 5)),
    ],
    ids=["mha-num_heads", "encoder-norm_first", "avgpool-count_include_pad", "upsample-align"],
)
def test_from_models_does_not_silently_run_every_model_with_model_0s_settings(
    make, settings, xshape
):
    """``from_models`` promises: "models that differ in anything else (a layer's type or
    settings) are refused". Its architecture check compares each module's ``extra_repr``,
    which leaves out settings that change the result without changing any parameter shape:
    ``MultiheadAttention``'s ``num_heads``, ``TransformerEncoderLayer``'s ``norm_first``,
    ``AvgPool1d``'s ``count_include_pad``, ``Upsample``'s ``align_corners``. Two such models
    are stacked without a word and model 1 then computes with model 0's setting (outputs off
    by 0.02–1.6): a sweep over heads or norm placement built with ``from_models`` measures one
    configuration K times. Either refuse them or run each model as itself."""
    torch.manual_seed(0)
    models = [make(s) for s in settings]
    try:
        pop = Population.from_models([copy.deepcopy(m) for m in models])
    except Exception as err:  # a refusal that names the difference is fine
        assert type(err).__name__ == "UserError"
        return
    pop.eval()
    x = torch.randn(len(models), *xshape)
    with torch.no_grad():
        out = pop(x)
        ref = _plain_outputs([m.eval() for m in models], x)
    torch.testing.assert_close(out, ref)


# -- the vmap -> loop fallback and the dropout streams ----------------------------------------
class _DropoutThenBranch(nn.Module):
    """Dropout before a Python branch on a tensor: vmap refuses the forward, the population
    falls back to the loop mode at its first training forward."""

    def __init__(self):
        super().__init__()
        self.a, self.drop, self.b = nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2)

    def forward(self, x):
        h = self.drop(self.a(x))
        if h.sum() > 1e9:  # never true
            h = h * 0
        return self.b(h)


def test_the_fallback_forward_draws_the_same_dropout_masks_as_any_other():
    """A dropout mask is a function of (model seed, step, site, call number since
    ``set_step``): "the n-th call since set_step draws stream (site, n)". The first training
    forward of a module vmap refuses runs the dropout once inside the failed vmap attempt,
    which counts as a call, so the loop that then runs the step draws the *second* call's
    masks. The same step with the same weights gives another output the next time it runs,
    and a population rebuilt from saved weights and set to step s (a user's own resume)
    diverges from the one that ran straight through to step s."""
    torch.manual_seed(0)
    net = _DropoutThenBranch()
    x = torch.randn(2, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        straight = Population(copy.deepcopy(net), 2).train()
        straight.set_step(0)
        straight(x)
        straight.set_step(1)
        at_step_1 = straight(x)  # loop mode, a normal step
        rebuilt = Population(copy.deepcopy(net), 2).train()
        rebuilt.set_step(1)
        first = rebuilt(x)  # the fallback forward
        rebuilt.set_step(1)
        again = rebuilt(x)
    torch.testing.assert_close(again, at_step_1)  # (the loop mode agrees with itself)
    torch.testing.assert_close(first, again, msg="the fallback step drew other dropout masks")
