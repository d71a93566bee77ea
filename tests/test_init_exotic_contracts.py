"""Adversarial review: trainlab.init.apply on modules beyond plain Linear/Conv (transposed convs,
parametrized layers, lazy modules, meta-device models) and LSUV on data a model does not
accept."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

from trainlab import init
from trainlab.errors import UserError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _orthogonal_net() -> nn.Module:
    torch.manual_seed(0)  # the template's own default init (and the parametrization's)
    return nn.Sequential(
        nn.Flatten(), parametrizations.orthogonal(nn.Linear(64, 16)), nn.Tanh(), nn.Linear(16, 10)
    )


def test_orthogonal_parametrization_init_depends_only_on_the_generator() -> None:
    """``apply``'s docstring: "Each scheme draws from the ``torch.Generator`` it is given", and
    weights under a ``parametrize`` parametrization "are set through it". For a non-square
    ``parametrizations.orthogonal`` layer, torch's ``right_inverse`` completes the drawn matrix
    with ``torch.randn`` from the *global* generator and stores it in the ``base`` buffer, which
    the forward uses as soon as the layer trains. So the same ``generator`` seed gives a
    different model (and a different training trajectory) depending on whatever the global RNG
    happened to hold: a user seeding ``generator=`` for reproducibility does not get it, and
    the global stream is consumed behind their back."""
    models = []
    for global_seed in (1, 2):
        m = _orthogonal_net()
        torch.manual_seed(global_seed)
        init.apply(m, "he_normal", generator=gen(0))
        models.append(m)
    a, b = (dict(m.state_dict()) for m in models)
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} depends on the global RNG"
    # the buffer matters: one SGD step on the same batch gives different weights
    x = torch.randn(32, 1, 8, 8, generator=gen(3))
    y = torch.randint(0, 10, (32,), generator=gen(4))
    for m in models:
        opt = torch.optim.SGD(m.parameters(), lr=0.5)
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    with torch.no_grad():
        torch.testing.assert_close(models[0][1].weight, models[1][1].weight)


def test_population_member_with_orthogonal_parametrization_starts_as_it_does_alone() -> None:
    """DESIGN.md principle 2: "A model's result depends only on its own config and seed —
    never on K or on its slot". The seed-1 model of a population with seeds [0, 1] must start
    from the same state as the seed-1 model trained alone. With a user model holding a
    (non-square) ``parametrizations.orthogonal`` layer it does not: ``init.apply`` sets the
    weight through torch's ``right_inverse``, which draws the ``base`` buffer from the global
    RNG, so member 1's buffer depends on what member 0 drew before it. (Measured: after 2
    epochs the two seed-1 models differ by 0.44 in that weight, val_acc 0.931 vs 0.924.)"""
    from trainlab.config import parse_config
    from trainlab.train import Trainer

    def start(seeds: list[int]) -> Trainer:
        cfg = parse_config(
            {"init": {"scheme": "he_normal"}, "population": {"seeds": seeds},
             "train": {"epochs": 1, "batch_size": 64}}
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Trainer(cfg, device="cpu", model=_orthogonal_net())

    pair, alone = start([0, 1]), start([1])
    for name, tensor in alone.pop.member_state(0).items():
        assert torch.equal(pair.pop.member_state(1)[name], tensor), name


@pytest.mark.parametrize(
    ("layer", "shrink"),
    [
        (nn.ConvTranspose2d(64, 64, 3, stride=1, padding=1, bias=False), 1),
        (nn.ConvTranspose2d(64, 64, 2, stride=2, bias=False), 4),  # the usual 2x upsampling
        (nn.ConvTranspose1d(64, 64, 4, stride=2, padding=1, bias=False), 2),  # DCGAN-style
    ],
)
def test_he_fan_out_on_a_conv_transpose_keeps_the_variance_as_fans_documents(layer, shrink):
    """``init.fans``' docstring: He init with ``mode="fan_out"`` keeps the forward variance of a
    stride-1 ``ConvTranspose``; with stride s each output receives ``in * prod(kernel) /
    prod(s)`` inputs, so the variance is ``prod(s)`` times too small, and scaling the drawn
    weight by ``sqrt(prod(s))`` keeps it. (The docstring used to promise the variance for every
    stride: a decoder built on that advice had activations vanishing layer after layer.)"""
    init.apply(layer, "he_normal", generator=gen(0), mode="fan_out", nonlinearity="linear")
    x = torch.randn((32, 64) + (16,) * (layer.weight.dim() - 2), generator=gen(1))

    def inner_var() -> float:
        with torch.no_grad():
            out = layer(x)
        return float(out[(...,) + (slice(2, -2),) * (out.dim() - 2)].var())  # off the borders

    assert inner_var() == pytest.approx(1.0 / shrink, rel=0.15)
    with torch.no_grad():
        layer.weight.mul_(math.sqrt(shrink))
    assert inner_var() == pytest.approx(1.0, rel=0.15)


def _uint8_images() -> torch.Tensor:
    return torch.randint(0, 256, (32, 1, 8, 8), dtype=torch.uint8, generator=gen(0))


@pytest.mark.parametrize(
    ("make", "data"),
    [
        # raw uint8 pixels, as torchvision's MNIST .data holds them
        (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10)),
         _uint8_images),
        # a net that normalizes its input first, given a batch of the wrong width
        (lambda: nn.Sequential(nn.BatchNorm1d(8), nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)),
         lambda: torch.randn(32, 4, generator=gen(0))),
        # token ids past the vocabulary
        (lambda: nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(20, 3)),
         lambda: torch.randint(0, 50, (32, 5), generator=gen(0))),
    ],
    ids=["uint8-pixels", "batchnorm-first-wrong-width", "token-ids-out-of-vocabulary"],
)  # fmt: skip
def test_lsuv_data_the_model_does_not_accept_is_a_user_error(make, data) -> None:
    """``lsuv_``'s docstring: "Data the model does not accept is a UserError." Only torch errors
    whose text holds "shape"/"size"/"expected" are converted; a uint8 image batch (the dtype
    torchvision and IDX files give) crashes with ``RuntimeError: Input type (unsigned char) and
    bias type (float) should be the same``, a batch of the wrong width for a net starting with
    BatchNorm with ``RuntimeError: running_mean should contain 4 elements not 8``, token ids
    outside the vocabulary with ``IndexError: index out of range in self`` -- tracebacks from
    deep inside torch instead of the promised one-line error naming the batch. (LSUV may also
    simply cast the pixels and succeed; that is fine too.)"""
    model = make()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an embedding is left unchanged: apply says so
            init.apply(model, "lsuv", generator=gen(0), data=data())
    except UserError as err:
        assert "\n" not in str(err).strip()
        return


def test_trainer_with_a_lazy_user_model_trains_or_refuses_in_one_line() -> None:
    """Issue 3: "Any user nn.Module must also be trainable"; ``init.apply``: "A model with lazy
    (uninitialized) parameters is a UserError" naming the fix. A conv net ending in
    ``nn.LazyLinear`` (the common way to skip computing the flattened size) passed to
    ``trainlab.train(..., model=...)`` crashes instead with torch's ``RuntimeError: Can't
    access the shape of an uninitialized parameter`` from ``train._module_record``, before
    the trainer's own probe forward (which would materialize it) or init's clear refusal."""
    import trainlab

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.LazyLinear(16), nn.ReLU(), nn.Linear(16, 10))
    cfg = {"init": {"scheme": "he_normal"}, "population": {"seeds": [0]},
           "train": {"epochs": 1, "batch_size": 256}}  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = trainlab.train(cfg, model=model, device="cpu", write=False, progress=False)
    except UserError as err:
        assert "lazy" in str(err).lower() or "uninitialized" in str(err).lower(), str(err)
        return
    assert result.summary["models"][0]["final"]["train_loss"] < 2.5


def test_apply_refuses_a_model_with_lazy_buffers_before_changing_anything() -> None:
    """``apply``: "A model with lazy (uninitialized) parameters is a UserError: run one forward
    pass on a batch first". The check looks at ``parameters()`` only, so a
    ``LazyBatchNorm1d(affine=False)`` (uninitialized *buffers*, no parameters) passes it; apply
    then re-draws the model's Linear weights and only afterwards crashes in
    ``reset_running_stats`` with torch's ``ValueError: Attempted to use an uninitialized
    parameter in <method 'zero_' ...>``: a half-initialized model and no trainlab message."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 8), nn.LazyBatchNorm1d(affine=False), nn.ReLU(), nn.Linear(8, 3)
    )
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(UserError, match="lazy|uninitialized"):
        init.apply(model, "he_normal", generator=gen(0))
    for old, new in zip(before, model.parameters(), strict=True):
        assert torch.equal(old, new)


@pytest.mark.parametrize(
    "wrap", [parametrizations.weight_norm, parametrizations.spectral_norm],
    ids=["weight_norm", "spectral_norm"],
)  # fmt: skip
def test_apply_on_a_model_off_the_generators_device_with_a_parametrized_layer(wrap) -> None:
    """The module docstring: each scheme draws "on the generator's device (CPU by default), so a
    seed gives the same weights on every device" and parametrized weights "are set through" the
    parametrization. For a plain layer the CPU draw is copied onto the weight's device; for a
    parametrized one ``_assign`` hands the CPU tensor to torch's ``right_inverse``, which
    ``set_``s the parameter's storage to it and fails: ``RuntimeError: Attempted to set the
    storage of a tensor on device "meta" to a storage on different device "cpu"``. The same
    path breaks every CUDA model with ``weight_norm``/``spectral_norm`` initialized with the
    default (CPU) generator ("cuda" vs "cpu"); on this CPU-only machine the meta device shows
    it. Either it works as for the plain layer next to it (which stays on meta), or it is one
    UserError."""
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), wrap(nn.Linear(8, 3)))
    try:
        init.apply(model, "he_normal", generator=gen(0))
    except UserError:
        return
    assert all(p.device.type == "meta" for p in model.parameters())
