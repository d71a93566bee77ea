"""Mutation review of src/trainlab/init.py (mut36r): defaults and LSUV boundaries the suite
did not pin. Expected values come from torch.nn.init (same generator), hand arithmetic, or
Mishkin & Matas 2016 (Alg. 1: |Var - 1| < Tol_var = 0.1, T_max = 10)."""

import math
import warnings

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from trainlab import init
from trainlab.errors import UserError


# kills init.py:312 _normal default std 0.01 -> 0.02. The docstring/description promise
# "CS231n's small random numbers use std 0.01": torch.nn.init.normal_(std=0.01) with the same
# generator is the reference.
def test_normal_default_std_is_cs231n_001():
    lin = nn.Linear(30, 20)
    init.apply(lin, "normal", generator=torch.Generator().manual_seed(3))
    ref = torch.empty(20, 30)
    torch.nn.init.normal_(ref, mean=0.0, std=0.01, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(lin.weight.detach(), ref, rtol=0, atol=0)


# kills init.py:362/383 (he_normal / he_uniform) default negative_slope 0.01 -> 0.02.
# leaky_relu's default slope is 0.01 (torch.nn.LeakyReLU, torch.nn.init.calculate_gain; the
# gain() docstring says "default 0.01"): torch's kaiming_*_(a=0.01) is the reference.
@pytest.mark.parametrize(
    "scheme,ref_fn",
    [("he_normal", torch.nn.init.kaiming_normal_), ("he_uniform", torch.nn.init.kaiming_uniform_)],
)
def test_he_leaky_relu_default_slope_is_001(scheme, ref_fn):
    lin = nn.Linear(40, 10)
    init.apply(lin, scheme, generator=torch.Generator().manual_seed(5), nonlinearity="leaky_relu")
    ref = torch.empty(10, 40)
    ref_fn(ref, a=0.01, nonlinearity="leaky_relu", generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(lin.weight.detach(), ref, rtol=0, atol=0)


def _one_unit(w: float) -> nn.Linear:
    lin = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(w)
    return lin


# kills init.py lsuv_ `abs(v - 1.0) < tol` -> `<= tol`. The paper stops when |Var - 1| < Tol.
# Data [0, 2] through weight 1: unbiased variance (1 + 1)/1 = 2 exactly, |2 - 1| = 1 = tol, so
# the layer is NOT yet within tol and is rescaled once to variance 2/2 = 1.
def test_lsuv_tol_is_strict():
    lin = _one_unit(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = init.lsuv_(lin, torch.tensor([[0.0], [2.0]]), tol=1.0)
    assert v[0] == pytest.approx(1.0, abs=1e-5)
    assert lin.weight.item() == pytest.approx(1 / math.sqrt(2), rel=1e-5)


# kills init.py:428 _MODEL_LEVEL_OPTIONS tol 0.1 -> 0.2 (apply's default) and lsuv_'s own
# default tol (paper: Tol_var = 0.1). Output variance 1.15 (|1.15 - 1| = 0.15 >= 0.1) must be
# rescaled to 1; with tol 0.2 it would be left at 1.15. Data [0, d] with d^2/2 = 1.15.
def test_lsuv_default_tol_is_01_apply_and_lsuv_():
    d = math.sqrt(2 * 1.15)
    data = torch.tensor([[0.0], [d]])
    lin = nn.Linear(1, 1, bias=False)
    init.apply(lin, "lsuv", data=data, generator=torch.Generator().manual_seed(0))
    # orthogonal 1x1 is +-1; after LSUV the output variance is 1 (hand: w^2 * d^2 / 2)
    assert lin.weight.item() ** 2 * d**2 / 2 == pytest.approx(1.0, abs=1e-4)
    lin2 = _one_unit(1.0)
    v = init.lsuv_(lin2, data)
    assert v[0] == pytest.approx(1.0, abs=1e-4)


class _SqrtLinear(nn.Linear):
    """A Linear whose effective weight is sign(W)*sqrt(|W|): dividing W by sqrt(v) only divides
    the output variance by sqrt(v), so LSUV needs several rescalings: v_n = v_0^(1/2^n)."""

    def forward(self, x):
        return F.linear(x, self.weight.sign() * self.weight.abs().sqrt())


# kills init.py:428 max_iter 10 -> 5 (apply) and lsuv_'s default max_iter 10 -> 3 (paper:
# T_max = 10). Starting variance e^18: v_n = e^(18/2^n); v_7 = e^0.14 = 1.15 (not within 0.1),
# v_8 = e^0.07 = 1.073 (within): 8 rescalings, so the default 10 converges without a warning.
def test_lsuv_default_max_iter_is_10_apply_and_lsuv_():
    lin = _SqrtLinear(1, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(math.exp(18))
    data = torch.tensor([[0.0], [math.sqrt(2)]])  # variance |w| * 2/2 = e^18
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = init.lsuv_(lin, data)
    assert v[0] == pytest.approx(math.exp(18 / 256), rel=1e-3)
    # through apply: orthogonal 1x1 gives |w| = 1, data variance d^2/2 = e^18
    lin2 = _SqrtLinear(1, 1, bias=False)
    data2 = torch.tensor([[0.0], [math.sqrt(2) * math.exp(9)]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.apply(lin2, "lsuv", data=data2, generator=torch.Generator().manual_seed(0))
    assert lin2.weight.abs().item() * math.exp(18) == pytest.approx(math.exp(18 / 256), rel=1e-3)


# kills init.py lsuv_ `tol <= 0` -> `tol < 0`: |v - 1| < 0 can never hold, so tol=0 must be
# refused up front (the message: "lsuv needs tol > 0").
def test_lsuv_tol_zero_refused():
    with pytest.raises(UserError, match="tol > 0"):
        init.lsuv_(_one_unit(1.0), torch.tensor([[0.0], [2.0]]), tol=0.0)


# kills init.py lsuv_ `data.shape[0] < 2` -> `< 1`: the documented contract is a batch with
# B >= 2 (one sample gives no batch statistics).
def test_lsuv_single_sample_batch_refused():
    with pytest.raises(UserError, match="B >= 2"):
        init.lsuv_(nn.Linear(4, 3), torch.randn(1, 4, generator=torch.Generator().manual_seed(0)))


# kills init.py _check_gain `gain < 0` -> `gain <= 0`: the rule is "gain >= 0"; gain 0 is a
# valid scale giving W = 0, as torch.nn.init.xavier_normal_(gain=0) does.
def test_xavier_gain_zero_allowed_gives_zeros():
    lin = nn.Linear(6, 4)
    init.apply(lin, "xavier_normal", gain=0.0, generator=torch.Generator().manual_seed(1))
    ref = torch.empty(4, 6)
    torch.nn.init.xavier_normal_(ref, gain=0.0, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(lin.weight.detach(), ref, rtol=0, atol=0)
    assert not lin.weight.any()


# kills init.py _refuse_too_wide `2 * bound > biggest` -> `bound > biggest`. float16's largest
# number is 65504 (torch.finfo); xavier_uniform on a 1x1 weight has bound gain*sqrt(6/2), so
# gain 40000/sqrt(3) gives U(+-40000), width 80000 > 65504: a UserError naming the option,
# not torch's RuntimeError from uniform_.
def test_xavier_uniform_width_beyond_float16_range_is_user_error():
    lin = nn.Linear(1, 1).half()
    with pytest.raises(UserError, match="gain"):
        init.apply(
            lin,
            "xavier_uniform",
            gain=40000 / math.sqrt(3),
            generator=torch.Generator().manual_seed(0),
        )


# kills init.py apply `isinstance(m, _NormBase)` -> `isinstance(m, nn.BatchNorm2d)`: a
# BatchNorm1d's running statistics are reset too, to torch's reset_running_stats values
# (mean 0, var 1, num_batches_tracked 0).
def test_apply_resets_batchnorm1d_running_stats():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with torch.no_grad():
        model[1].running_mean.fill_(5.0)
        model[1].running_var.fill_(7.0)
        model[1].num_batches_tracked.fill_(9)
    init.apply(model, "he_normal", generator=torch.Generator().manual_seed(0))
    assert torch.equal(model[1].running_mean, torch.zeros(4))
    assert torch.equal(model[1].running_var, torch.ones(4))
    assert model[1].num_batches_tracked.item() == 0


class _UnitNormLinear(nn.Linear):
    """Effective weight W/|W|: the output variance does not depend on W's scale at all."""

    def forward(self, x):
        return F.linear(x, self.weight / self.weight.norm())


# kills init.py lsuv_ undo step `_divide_weight(layer, 1/sqrt(before))` -> `pass`. The
# output variance here is 8/2 = 4 whatever W's scale (hand: effective weight +-1, data [0, sqrt 8]);
# the rescaling by 1/2 changes nothing, so LSUV must warn and leave the weight as it was (3.0),
# not at 1.5.
def test_lsuv_undoes_rescaling_that_does_not_move_variance():
    lin = _UnitNormLinear(1, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(3.0)
    with pytest.warns(UserWarning, match="does not change with the weight's scale"):
        init.lsuv_(lin, torch.tensor([[0.0], [math.sqrt(8.0)]]))
    assert lin.weight.item() == pytest.approx(3.0, rel=1e-6)


# Kills: init.py `_constant(value=0.1)` -> 0.01 and `_uniform(a=0.01)` -> 0.05. The README
# states the defaults (constant 0.1, uniform U(±0.01)); the uniform draw equals
# torch.nn.init.uniform_(-0.01, 0.01) with the same generator.
def test_constant_and_uniform_defaults_are_the_readmes():
    import torch
    from torch import nn

    from trainlab import init as tinit

    lin = nn.Linear(30, 20)
    tinit.apply(lin, "constant")
    assert torch.equal(lin.weight, torch.full_like(lin.weight, 0.1))
    tinit.apply(lin, "uniform", generator=torch.Generator().manual_seed(3))
    ref = torch.empty_like(lin.weight)
    torch.nn.init.uniform_(ref, -0.01, 0.01, generator=torch.Generator().manual_seed(3))
    assert torch.equal(lin.weight, ref)
