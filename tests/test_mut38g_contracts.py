"""Mutation review (mut38g) of the DBN and the stacked denoising autoencoder: contracts whose
expected values come from the docstrings and from hand-built numpy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from trainlab.pretrain import (
    DBN,
    BernoulliRBM,
    StackedDenoisingAutoencoder,
    arrays_dataset,
)


def _cross_entropy(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-sample ``-sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)]`` (the module docstring's)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(axis=1)


# ---------------------------------------------------------------------------------------- DBN


def test_dbn_defaults_are_the_documented_ones_and_reach_every_layer(digits):
    """Docstring: layers default (256, 256); "Default CD-1 (method="cd") ... lr 0.1, momentum
    0.5, 30 passes"; batch_size 10, k 1. Each layer is a BernoulliRBM with those settings: it
    reproduces an RBM fitted alone with them on the same input."""
    X, _ = digits
    X = X[:40]
    p = DBN().get_params()
    assert tuple(p["layers"]) == (256, 256)
    assert (p["batch_size"], p["n_iter"], p["k"], p["method"]) == (10, 30, 1, "cd")
    assert p["momentum"] == 0.5 and p["weight_decay"] == 0.0 and p["visible"] == "bernoulli"
    dbn = DBN([3], random_state=0).fit(X)
    (layer,) = dbn.rbms_
    got = {k: layer.get_params()[k] for k in ("learning_rate", "batch_size", "n_iter", "momentum")}
    assert got == {"learning_rate": 0.1, "batch_size": 10, "n_iter": 30, "momentum": 0.5}
    alone = BernoulliRBM(
        3, learning_rate=0.1, batch_size=10, n_iter=30, k=1, method="cd", momentum=0.5,
        random_state=layer.random_state,
    ).fit(X)  # fmt: skip
    np.testing.assert_allclose(layer.components_, alone.components_, atol=1e-12)
    assert len(dbn.history_) == 1


def test_dbn_upper_layer_trains_on_the_lower_layers_hidden_probabilities(digits):
    """ "Train layer 1 on X, layer i+1 on layer i's hidden probabilities" P(h | v) =
    sigmoid(v W^T + c), computed here by hand from layer 1's components_ / intercept_hidden_
    (not binary samples, not a thresholded code)."""
    X, _ = digits
    X = X[:60]
    dbn = DBN([6, 4], n_iter=2, random_state=0).fit(X)
    r0, r1 = dbn.rbms_
    h1 = expit(X @ r0.components_.T + r0.intercept_hidden_)
    ref = BernoulliRBM(
        4, learning_rate=0.1, batch_size=10, n_iter=2, k=1, method="cd", momentum=0.5,
        random_state=r1.random_state,
    ).fit(h1)  # fmt: skip
    np.testing.assert_allclose(r1.components_, ref.components_, atol=1e-6)
    np.testing.assert_allclose(
        dbn.transform(X), expit(h1 @ r1.components_.T + r1.intercept_hidden_), atol=1e-10
    )


def test_dbn_feature_names_count_the_top_layers_units(digits):
    """get_feature_names_out names transform's columns: the top layer's width, dbn0..dbn{H-1}."""
    X, _ = digits
    dbn = DBN([5, 3], n_iter=1, random_state=0).fit(X[:50])
    assert dbn.transform(X[:2]).shape == (2, 3)
    assert list(dbn.get_feature_names_out()) == ["dbn0", "dbn1", "dbn2"]


# ------------------------------------------------------------------------------ arrays_dataset


def test_arrays_dataset_validation_rows_are_the_rounded_fraction():
    """ "the last val_fraction of the training rows become the validation split": 19 rows at 0.1
    is 1.9 rows, i.e. 2 (round, as trainlab.data documents ``round(fraction * N)``), not 1."""
    rng = np.random.default_rng(0)
    x = rng.random((19, 3))
    y = np.arange(19) % 2
    ds = arrays_dataset(x, y, None, None, val_fraction=0.1)
    assert len(ds.x_val) == 2 and len(ds.x_train) == 17
    np.testing.assert_allclose(ds.x_val.numpy(), x[17:].astype(np.float32))


def test_arrays_dataset_takes_val_fraction_zero():
    """val_fraction is documented in [0, 1): 0 keeps every row for training."""
    x = np.random.default_rng(0).random((10, 3))
    y = np.arange(10) % 2
    ds = arrays_dataset(x, y, None, None, val_fraction=0.0)
    assert len(ds.x_train) == 10 and len(ds.x_val) == 0


# -------------------------------------------------------------------------------------- SDAE


def test_sdae_defaults_are_the_documented_ones(digits):
    """Docstring: layers (256, 256), corruption 0.25, learning_rate 1e-3, batch_size 32,
    n_iter 20 passes per layer (history_["loss"] holds one value per layer and pass)."""
    p = StackedDenoisingAutoencoder().get_params()
    assert tuple(p["layers"]) == (256, 256)
    assert p["corruption"] == 0.25 and p["learning_rate"] == 1e-3
    assert p["batch_size"] == 32 and p["n_iter"] == 20
    X, _ = digits
    sdae = StackedDenoisingAutoencoder([3, 2], random_state=0).fit(X[:40])
    assert [len(v) for v in sdae.history_["loss"]] == [20, 20]


def _frozen_sdae(X, corruption, n_iter, layers=(5, 3)):
    """An SDAE whose Adam steps are negligible (lr 1e-10): its weights stay at their
    initialization, so each pass's loss is the loss of the stored layers_."""
    return StackedDenoisingAutoencoder(
        list(layers), corruption=corruption, learning_rate=1e-10, batch_size=7, n_iter=n_iter,
        random_state=0,
    ).fit(X)  # fmt: skip


def test_sdae_clean_loss_history_is_the_mean_cross_entropy_of_each_layer(digits):
    """history_["loss"][i][p]: "mean reconstruction cross-entropy" of layer i in pass p. With
    corruption 0 and frozen weights it is, by hand, mean_n CE(x_n, sigmoid(W^T sigmoid(W x_n +
    c) + b)), where layer 2's x is layer 1's clean code sigmoid(W x + c) (a batch size that
    does not divide N: the mean is over samples, not batches)."""
    X, _ = digits
    X = X[:53]
    sdae = _frozen_sdae(X, 0.0, 2)
    x = X
    for (w, c, b), losses in zip(sdae.layers_, sdae.history_["loss"], strict=True):
        h = expit(x @ w.T + c)
        want = _cross_entropy(x, expit(h @ w + b)).mean()
        assert len(losses) == 2
        np.testing.assert_allclose(losses, [want, want], rtol=1e-4)
        x = h  # the next layer's input: the clean codes


def test_sdae_corrupted_loss_is_the_masking_noise_expectation(digits):
    """Masking noise: each input zeroed with probability ``corruption``; the encoder sees x~
    and the loss reconstructs the *clean* x. With frozen weights the mean pass loss is a Monte
    Carlo estimate of E_mask CE(x, sigmoid(W^T sigmoid(W x~ + c) + b)), estimated here with
    numpy masks; far from the clean loss and from the loss against x~."""
    X, _ = digits
    sdae = _frozen_sdae(X, 0.5, 4, layers=(8,))
    ((w, c, b),) = sdae.layers_
    rng = np.random.default_rng(0)
    ests, clean_target = [], []
    for _ in range(8):
        keep = rng.random(X.shape) >= 0.5
        rec = expit(expit((X * keep) @ w.T + c) @ w + b)
        ests.append(_cross_entropy(X, rec).mean())
        clean_target.append(_cross_entropy(X * keep, rec).mean())
    want = float(np.mean(ests))
    clean = _cross_entropy(X, expit(expit(X @ w.T + c) @ w + b)).mean()
    # the premise: the alternatives are far apart compared with the tolerance below
    assert abs(clean - want) > 1.0 and abs(np.mean(clean_target) - want) > 1.0
    got = float(np.mean(sdae.history_["loss"][0]))
    assert abs(got - want) < 0.3, (got, want, clean)


def test_sdae_initial_weights_are_glorot_uniform_times_four(digits):
    """Docstring: W ~ U(+-sqrt(6 / (fan_in + fan_out))) * 4, biases 0 (n_iter=0: untrained)."""
    X, _ = digits
    sdae = StackedDenoisingAutoencoder([30], n_iter=0, random_state=0).fit(X[:20])
    ((w, c, b),) = sdae.layers_
    bound = 4 * np.sqrt(6 / (64 + 30))
    assert w.shape == (30, 64) and np.abs(w).max() <= bound
    assert w.min() < -0.9 * bound and w.max() > 0.9 * bound
    assert abs(w.mean()) < 0.05 * bound  # symmetric about 0
    assert not c.any() and not b.any()


def test_sdae_transform_and_reconstruct_by_hand(digits):
    """transform: sigmoid(W x + c) layer by layer; reconstruct: back down with tied weights,
    sigmoid(W^T h + b) -- computed by hand from layers_ of a trained stack."""
    X, _ = digits
    sdae = StackedDenoisingAutoencoder([6, 4], learning_rate=0.05, n_iter=3, random_state=0).fit(
        X[:100]
    )
    (w1, c1, b1), (w2, c2, b2) = sdae.layers_
    assert np.abs(c1).max() > 0.05 and np.abs(b2).max() > 0.05  # the premise: trained biases
    h1 = expit(X[:10] @ w1.T + c1)
    h2 = expit(h1 @ w2.T + c2)
    np.testing.assert_allclose(sdae.transform(X[:10]), h2, atol=1e-12)
    down = expit(expit(h2 @ w2 + b2) @ w1 + b1)
    np.testing.assert_allclose(sdae.reconstruct(X[:10]), down, atol=1e-12)


@pytest.mark.parametrize("corruption", [1.0, -0.1])
def test_sdae_corruption_outside_zero_one_is_refused(digits, corruption):
    """corruption: float in [0, 1) (1 would zero every input)."""
    X, _ = digits
    with pytest.raises(ValueError, match="corruption"):
        StackedDenoisingAutoencoder([3], corruption=corruption, n_iter=1).fit(X[:20])


def test_fine_tune_defaults_are_lr_1e_3_and_seeds_0_to_k_minus_1(digits):
    """fine_tune's signature documents lr=1e-3; seeds=None is one seed per module, 0..K-1 (the
    trainer's population convention): the defaults train exactly as those values given."""
    import torch

    from trainlab.pretrain import fine_tune

    X, y = digits
    ds = arrays_dataset(X[:120], y[:120], X[120:160], y[120:160])
    dbn = DBN([8], n_iter=1, random_state=0).fit(X[:120])

    def mods():
        return [dbn.to_module(10, generator=torch.Generator().manual_seed(s)) for s in (0, 1)]

    a = fine_tune(mods(), ds, epochs=1, batch_size=16)
    b = fine_tune(mods(), ds, epochs=1, batch_size=16, lr=1e-3, seeds=[0, 1])
    c = fine_tune(mods(), ds, epochs=1, batch_size=16, lr=1e-2, seeds=[0, 1])
    fa, fb, fc = ([m["final"] for m in s["models"]] for s in (a, b, c))
    assert fa == fb
    assert fa != fc  # the premise: the learning rate shows in the numbers compared


def test_arrays_dataset_holds_out_at_least_one_row_for_a_positive_fraction():
    """As ``trainlab.data`` ("at least one for a fraction > 0"): 5 rows at val_fraction 0.1
    round to 0, yet a validation split was asked for, so 1 row is held out (it was silently
    empty); 1 row with a validation split leaves none to train and says to pass 0."""
    from trainlab.errors import UserError

    x = np.random.default_rng(0).random((5, 3)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 0])
    ds = arrays_dataset(x, y, None, None, val_fraction=0.1)
    assert len(ds.y_val) == 1 and len(ds.y_train) == 4
    with pytest.raises(UserError, match="val_fraction=0"):
        arrays_dataset(x[:1], y[:1], None, None, val_fraction=0.1)
