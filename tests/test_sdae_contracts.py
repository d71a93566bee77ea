"""Review of the stacked denoising autoencoder, the DBN's unrolled modules and their
fine-tuning through the trainer: contracts that the current code does not keep."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from trainlab.errors import UserError
from trainlab.pretrain import (
    BernoulliRBM,
    StackedDenoisingAutoencoder,
    arrays_dataset,
    fine_tune,
)


def _float16_minmax_scaled() -> np.ndarray:
    """``MinMaxScaler().fit_transform`` of float16 data: it keeps float16 and puts a value one
    float16 ulp above 1 (1.001), the rounding that ``outside_unit_interval`` documents."""
    from sklearn.preprocessing import MinMaxScaler

    x = (np.random.default_rng(1).normal(size=(50, 8)) * 30 + 7).astype(np.float16)
    z = MinMaxScaler().fit_transform(x)
    assert z.dtype == np.float16 and 1.0 < z.max() < 1.01  # the premise
    return z


def test_sdae_accepts_float16_minmax_scaled_data_as_the_rbms_do():
    """``outside_unit_interval`` documents that ``MinMaxScaler`` output a few ulps above 1 *is*
    [0, 1] data, with the tolerance set by the user's dtype before conversion
    (``source_dtype``); the RBMs and the DBN pass it, and the SDAE's own error message tells
    the user to scale with ``MinMaxScaler``. ``StackedDenoisingAutoencoder._check_input`` calls
    ``outside_unit_interval(X)`` on the float64 copy without ``source_dtype``, so float16 data
    straight from ``MinMaxScaler`` (max 1.001) is refused with "needs inputs in [0, 1] ...
    scale them, e.g. with MinMaxScaler" -- the advice it gives is what it refuses."""
    z = _float16_minmax_scaled()
    BernoulliRBM(4, n_iter=1, random_state=0).fit(z)  # the RBM takes it
    sdae = StackedDenoisingAutoencoder([4], n_iter=1, random_state=0).fit(z)
    assert sdae.transform(z).shape == (50, 4)


def test_sdae_range_error_on_held_out_data_names_the_fix_that_works(digits):
    """The SDAE refuses values outside [0, 1] at ``transform`` too. Its message says "scale
    them, e.g. with MinMaxScaler"; but in the standard scikit-learn use -- ``make_pipeline(
    MinMaxScaler(), sdae, clf)`` under ``cross_val_score`` -- a plain ``MinMaxScaler`` fitted
    on the training folds puts held-out folds outside [0, 1], so following the advice fails
    with the same error. The RBMs' message names the fix that works
    (``MinMaxScaler(clip=True)``, "also keeps held-out data ... within [0, 1]"); the SDAE's must
    too, or the user is sent in a circle."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(
        MinMaxScaler(),
        StackedDenoisingAutoencoder([8], n_iter=1, random_state=0),
        LogisticRegression(max_iter=50),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"\[0, 1\]") as err:  # the premise
            cross_val_score(pipe, X[:300], y[:300], cv=3, error_score="raise")
    assert "clip=True" in str(err.value), str(err.value)


def _two_stacks(digits):
    X, y = digits
    ds = arrays_dataset(X[:300], y[:300], X[300:400], y[300:400])

    def gen():
        return torch.Generator().manual_seed(0)

    s0 = StackedDenoisingAutoencoder([16], n_iter=1, random_state=0).fit(X[:300])
    s1 = StackedDenoisingAutoencoder([16], n_iter=1, random_state=1).fit(X[:300])
    return ds, s0, s1, gen


def test_resumed_fine_tune_starts_each_model_from_its_own_pretrained_module(
    digits, tmp_path, monkeypatch
):
    """``fine_tune(modules, ...)``: "model ``i`` starts from ``modules[i]``'s weights", and a
    run written with ``out=`` is resumed with ``trainlab.train.resume(dir, model=...,
    dataset=...)``, which promises "the same final weights as an uninterrupted one". A
    fine-tune of two different pre-trained stacks (two SDAE seeds) interrupted in its first
    epoch (Ctrl-C in a notebook, or a kill) has no checkpoint yet, so ``resume`` rebuilds the
    population from the one module it is given with ``init.scheme: keep``: model 1 then
    starts from model 0's pre-trained weights and silently ends elsewhere. Resume must reach
    the uninterrupted result or refuse in one line; it may not train another experiment."""
    from trainlab.train import Trainer, resume

    ds, s0, s1, gen = _two_stacks(digits)
    m0, m1 = s0.to_module(10, generator=gen()), s1.to_module(10, generator=gen())
    want = fine_tune([m0, m1], ds, seeds=[0, 1], epochs=2, lr=1e-2)

    real = Trainer.train_epoch
    calls = []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # during the first epoch: before any checkpoint
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train_epoch", interrupted)
    run = tmp_path / "ft"
    with pytest.raises(KeyboardInterrupt):
        fine_tune([m0, m1], ds, seeds=[0, 1], epochs=2, lr=1e-2, out=str(run))
    monkeypatch.setattr(Trainer, "train_epoch", real)

    try:
        got = resume(run, model=m0, dataset=ds, progress=False, device="cpu")
    except UserError:
        return  # a clear refusal keeps the contract
    for i in range(2):
        g, w = got.summary["models"][i]["final"], want["models"][i]["final"]
        assert g["train_loss"] == pytest.approx(w["train_loss"], rel=1e-5), (i, g, w)


def test_fine_tune_trains_each_module_as_the_module_it_is(digits):
    """``fine_tune`` takes one module per model ("every module must have the same
    architecture") and builds the population from ``modules[0]`` alone, copying only the
    others' ``state_dict``. Two unrolled stacks that differ in their activation (the study's
    sigmoid-vs-ReLU comparison: ``to_module(10, "sigmoid")`` and ``to_module(10, "relu")``)
    have the same state-dict keys and shapes, so the ReLU net is silently fine-tuned as a
    sigmoid net. A model's result must depend only on its own module and seed, never on its
    neighbours (DESIGN.md principle 2): fine-tuned in slot 1 beside a sigmoid net, the ReLU
    net must end where it ends alone -- or ``fine_tune`` must refuse the mix clearly."""
    ds, s0, _, gen = _two_stacks(digits)
    sig = s0.to_module(10, "sigmoid", generator=gen())
    relu = s0.to_module(10, "relu", generator=gen())
    alone = fine_tune([relu], ds, seeds=[1], epochs=1, lr=1e-2)["models"][0]["final"]
    try:
        mixed = fine_tune([sig, relu], ds, seeds=[0, 1], epochs=1, lr=1e-2)
    except UserError:
        return  # refusing modules of different architectures keeps the contract
    got = mixed["models"][1]["final"]
    assert got["train_loss"] == pytest.approx(alone["train_loss"], rel=1e-5), (got, alone)


def test_unroll_refuses_layers_of_the_wrong_shape_instead_of_broadcasting_them():
    """``unroll`` copies each ``(weight (H_i, D_i), bias (H_i,))`` into ``fc{i}``; a weight of
    shape (H, 1) or a bias of shape (1,) would be broadcast by ``Tensor.copy_`` into a layer
    of repeated columns. It must be one clear error naming the layer and the shapes."""
    import numpy as np

    from trainlab.errors import UserError
    from trainlab.pretrain import unroll

    good = [(np.zeros((4, 6)), np.zeros(4))]
    unroll(good, n_visible=6, n_classes=3)
    with pytest.raises(UserError, match="layer 1"):
        unroll([(np.zeros((4, 1)), np.zeros(4))], n_visible=6, n_classes=3)
    with pytest.raises(UserError, match="layer 1"):
        unroll([(np.zeros((4, 6)), np.zeros(1))], n_visible=6, n_classes=3)


@pytest.mark.parametrize("layers", [[True], True, [8, False]])
def test_a_boolean_is_not_a_layer_width(layers):
    """``layers=[True]`` is a mistake (a flag where a width belongs), not a width of 1: refused
    in one line, as ``models.create`` refuses a boolean width."""
    from trainlab.pretrain.dbn import layer_widths

    with pytest.raises(UserError, match="layers must be"):
        layer_widths(layers)
