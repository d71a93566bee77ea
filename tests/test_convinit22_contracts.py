"""Review convinit22: trainlab.init on convolutional models and unusual layers."""

import math
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import orthogonal

from trainlab import init, models
from trainlab.errors import UserError
from trainlab.population import Population


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class _ConvHead(nn.Module):
    """A plain user module (not population_safe): a Population stacks it in vmap mode."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(16, 32, 3)
        self.out = nn.Linear(32, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.c(x).mean((2, 3)))


# Wrong: init.apply(pop, "he_normal") on a vmap-mode Population (any user module) silently
# draws the stacked weights (K, out, in, kh, kw) as if K were the output channels and the
# model's `out` a kernel axis: fan_in = 32*16*3*3 = 4608, so each model's conv weight gets
# std sqrt(2/4608) = 0.021 instead of He's sqrt(2/(16*3*3)) = 0.118 (and the Linear
# sqrt(2/(64*32)) instead of sqrt(2/32)), with no warning. init.apply takes "any nn.Module" and
# a Population is one. Right: each model's weight has He's std for its own layer (fan_in of
# one model), or apply refuses with a UserError naming the way to init a population.
def test_apply_on_a_vmap_population_uses_each_models_fans_or_refuses() -> None:
    pop = Population(_ConvHead(), 3)
    assert pop.mode == "vmap"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            init.apply(pop, "he_normal", generator=gen(0))
    except UserError:
        return  # refusing clearly is fine
    for i in range(3):
        state = pop.member_state(i)
        conv_std = float(state["c.weight"].std())
        lin_std = float(state["out.weight"].std())
        assert conv_std == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.1), conv_std
        assert lin_std == pytest.approx(math.sqrt(2 / 32), rel=0.1), lin_std


# Wrong: on a stacked-mode Population (a built-in convnet) init.apply raises "Population has no
# Linear or Conv layer", which is false (it has a conv and a Linear, stacked per model) and
# gives no fix. Right: each model initialized with its own fans, or an error that does not
# claim the layers are missing.
def test_apply_on_a_stacked_population_does_not_claim_it_has_no_conv_layer() -> None:
    tpl = models.create("convnet", input_shape=(1, 8, 8), num_classes=3, channels=[16])
    pop = Population(tpl, 2)
    assert pop.mode == "stacked"
    try:
        init.apply(pop, "he_normal", generator=gen(0))
    except UserError as err:
        assert "no Linear or Conv layer" not in str(err), str(err)
        return
    for i in range(2):
        w = pop.member_state(i)["conv1.weight"]
        assert float(w.std()) == pytest.approx(math.sqrt(2 / 9), rel=0.15)


class _Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(8, 16)
        self.att = nn.MultiheadAttention(16, 2, batch_first=True)
        self.out = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        a, _ = self.att(h, h, h)
        self.last_att = a
        return self.out(a.mean(1))


# Wrong: lsuv draws every Linear orthogonal and then rescales "each layer on a data batch to
# unit output variance" (issue 4), finding the layers with forward hooks. nn.MultiheadAttention
# uses its `out_proj` Linear's weight without calling the module, so the hook never fires:
# out_proj keeps its orthogonal draw (output variance ~0.13 here, not 1) and no warning names it
# (apply's warning names only att.in_proj_weight/bias). Right: out_proj's output has unit
# variance, or a UserWarning names 'att.out_proj' as a layer LSUV could not rescale.
def test_lsuv_does_not_silently_skip_a_linear_the_forward_uses_without_calling_it() -> None:
    torch.manual_seed(0)
    m = _Attention()
    x = torch.randn(32, 5, 8, generator=gen(1)) * 4
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        init.apply(m, "lsuv", generator=gen(0), data=x)
    named = any("out_proj" in str(w.message) for w in record)
    m.eval()
    with torch.no_grad():
        m(x)
    var = float(m.last_att.var())
    assert named or abs(var - 1) < 0.1, (var, [str(w.message) for w in record])


# Wrong: a Linear under parametrizations.orthogonal has a weight whose scale LSUV cannot change
# (assigning W/s stores an orthogonal matrix again). lsuv notices that the variance did not move
# and leaves the layer, but its warning blames "a constant input? the bias alone sets it" -
# here the input is random and the bias 0. Right: the warning names the real cause, the
# layer's parametrization (Orthogonal), that fixes the weight's scale.
def test_lsuv_warning_for_a_scale_fixed_parametrized_layer_names_the_parametrization() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Linear(16, 32), nn.ReLU(), orthogonal(nn.Linear(32, 32)), nn.ReLU(), nn.Linear(32, 4)
    )
    x = torch.randn(64, 16, generator=gen(1)) * 3
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        init.apply(m, "lsuv", generator=gen(0), data=x)
    msgs = [str(w.message) for w in record if "'2'" in str(w.message)]
    assert msgs, [str(w.message) for w in record]
    assert all("rthogonal" in s or "parametriz" in s for s in msgs), msgs


# Wrong: init.fans' docstring says that for a stride-1 ConvTranspose, He's mode="fan_out" "is
# the one that counts the layer's inputs". With groups=g, "fan_out" is in*prod(kernel) but each
# output receives only in/g*prod(kernel) inputs, so following the advice leaves the output
# variance g times too small (measured: 0.25 for ConvTranspose2d(64, 64, 3, padding=1,
# groups=4); 1/64 for a depthwise one). Right: the transposed-conv paragraph states the groups
# correction (in/g inputs per output) as it states the stride one.
def test_fans_docstring_transposed_advice_accounts_for_groups() -> None:
    layer = nn.ConvTranspose2d(64, 64, 3, padding=1, groups=4, bias=False)
    init.apply(layer, "he_normal", generator=gen(0), mode="fan_out", nonlinearity="linear")
    with torch.no_grad():
        out = layer(torch.randn(32, 64, 16, 16, generator=gen(1)))
    assert float(out[..., 2:-2, 2:-2].var()) == pytest.approx(0.25, rel=0.15)  # the fact
    transposed = init.fans.__doc__.split("transposed convs", 1)[1]
    assert "in/g" in transposed or "groups" in transposed, transposed
