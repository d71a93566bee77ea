"""trainlab.init, second pass: LSUV keeps integer token ids and checks its options, expected_std
refuses what apply refuses, torch's conv_transpose gains, QR schemes on 16-bit models, and no
"did you mean" pointing at the refused name itself."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab import init
from trainlab.errors import UserError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_lsuv_keeps_integer_token_ids_for_an_embedding_model() -> None:
    """LSUV on a model whose input is integer token ids (an ``nn.Embedding`` first, which
    ``apply`` documents it leaves alone and warns about) must feed the batch to the model as
    the user gave it. ``lsuv_`` casts ``data`` to the dtype of the model's first parameter,
    turning the ids into floats, and then tells the user their (correct) batch is one "the
    model does not accept": LSUV cannot be used at all on any text/embedding model."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Embedding(10, 8), nn.Flatten(), nn.Linear(40, 16), nn.ReLU(), nn.Linear(16, 3)
    )
    ids = torch.randint(0, 10, (64, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the embedding is left unchanged: apply says so
        init.apply(model, "lsuv", generator=gen(0), data=ids, tol=0.05)
    with torch.no_grad():
        h = model[2](model[1](model[0](ids)))
        assert abs(float(h.var()) - 1.0) < 0.05
        assert abs(float(model(ids).var()) - 1.0) < 0.05


@pytest.mark.parametrize(
    ("scheme", "kwargs"),
    [
        ("normal", {"std": -0.5}),
        ("uniform", {"a": -0.5}),
        ("xavier_normal", {"gain": -2.0}),
    ],
)
def test_expected_std_refuses_the_values_apply_refuses(scheme, kwargs) -> None:
    """``expected_std`` is "the standard deviation that ``scheme`` gives the entries": for an
    option value the scheme itself refuses (``apply`` raises a UserError for std < 0, a < 0,
    gain < 0) there is no such distribution, yet ``expected_std`` returns a *negative*
    standard deviation (-0.5, -0.29, -1.0). A user tabulating expected stds against empirical
    ones gets an impossible number instead of the one-line error."""
    layer = nn.Linear(8, 8)
    with pytest.raises(UserError):
        init.apply(layer, scheme, generator=gen(0), **kwargs)
    with pytest.raises(UserError):
        init.expected_std(scheme, layer, **kwargs)


@pytest.mark.parametrize("module", [nn.ReLU(), nn.LayerNorm(4, elementwise_affine=False)])
def test_expected_std_of_a_layer_without_a_weight_is_a_user_error(module) -> None:
    """``expected_std`` takes "a tensor or a layer" and computes its fans; ``fans(nn.ReLU())``
    is a one-line UserError ("ReLU has no weight tensor ..."), but ``expected_std`` on the same
    layer (as a user looping over ``model.modules()`` would call it) crashes with an
    AttributeError traceback (``'ReLU' object has no attribute 'weight'`` /
    ``'NoneType' object has no attribute 'dim'``)."""
    with pytest.raises(UserError, match="weight"):
        init.expected_std("he_normal", module)


@pytest.mark.parametrize("name", ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"])
def test_gain_accepts_every_name_torch_calculate_gain_accepts(name: str) -> None:
    """``init.gain`` is documented as ``torch.nn.init.calculate_gain`` (NONLINEARITIES:
    "nonlinearity -> gain, as torch.nn.init.calculate_gain") and the He schemes as drawing
    exactly what ``kaiming_*_`` draws; torch accepts the linear names ``conv_transpose1d/2d/3d``
    (gain 1), trainlab refuses them as an "unknown nonlinearity". A user initializing a
    ``ConvTranspose`` with the name torch documents gets an error."""
    assert init.gain(name) == torch.nn.init.calculate_gain(name) == 1
    w = torch.empty(6, 4, 3, 3)
    ours = init.init_tensor(w.clone(), "he_normal", generator=gen(5), nonlinearity=name)
    theirs = nn.init.kaiming_normal_(w.clone(), nonlinearity=name, generator=gen(5))
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("scheme", ["orthogonal", "lsuv"])
def test_qr_based_schemes_work_on_a_half_precision_model(dtype, scheme) -> None:
    """``apply`` initializes "every Linear and Conv weight of a plain nn.Module", and every
    other scheme (he_normal, xavier_uniform, ...) works on a bfloat16/float16 model; but
    ``orthogonal`` and ``lsuv`` crash with ``NotImplementedError: "geqrf_cpu" not implemented
    for 'BFloat16'`` because the QR runs in the weight's own dtype on the (CPU) generator's
    device. Half-precision models are common; the draw could be made in float32 and cast."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 4)).to(dtype)
    data = torch.randn(64, 16) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init.apply(model, scheme, generator=gen(1), data=data if scheme == "lsuv" else None)
    w = model[0].weight.float()
    assert torch.isfinite(w).all()
    if scheme == "orthogonal":
        torch.testing.assert_close(w @ w.T, torch.eye(8), atol=0.05, rtol=0)


def test_option_error_does_not_suggest_the_refused_name_itself() -> None:
    """An unknown option's error names a fix. ``init_tensor``/``expected_std`` take no ``bias``
    (only ``apply`` does), but the error for ``bias=`` reads "has no option 'bias' (did you
    mean 'bias'?)": the suggested fix is the very name just refused, which sends the user in
    a circle. (The hint list always includes the config keys 'scheme' and 'bias'.)"""
    with pytest.raises(UserError) as err:
        init.init_tensor(torch.empty(4, 3), "he_normal", generator=gen(0), bias=0.01)
    assert "did you mean 'bias'" not in str(err.value), str(err.value)
    with pytest.raises(UserError) as err:
        init.expected_std("xavier_uniform", nn.Linear(3, 2), bias=0.01)
    assert "did you mean 'bias'" not in str(err.value), str(err.value)


@pytest.mark.parametrize(
    "kwargs", [{"max_iter": 2.5}, {"tol": float("nan")}, {"max_iter": 3.0, "tol": "0.1"}]
)
def test_lsuv_direct_call_checks_tol_and_max_iter_like_apply(kwargs) -> None:
    """``lsuv_`` is public (``apply`` documents calling it after an orthogonal init). Through
    ``apply``, max_iter 2.5 and tol NaN are one-line UserErrors and "3.0"/"0.1" are read as
    numbers; called directly, max_iter=2.5 or 3.0 crashes with ``TypeError: 'float' object
    cannot be interpreted as an integer``, tol="0.1" with a TypeError from ``<=``, and tol=NaN
    is silently accepted (no variance is ever "within NaN": every layer gets max_iter useless
    rescalings and a warning). Either a clear UserError or the same reading as apply's."""
    torch.manual_seed(0)
    layer = nn.Linear(8, 8)
    init.apply(layer, "orthogonal", generator=gen(0))
    data = torch.randn(32, 8) * 3
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NaN tol: "not within tol=nan" must not happen
            (v,) = init.lsuv_(layer, data, **kwargs)
    except UserError:
        return
    assert abs(v - 1.0) < 0.1
