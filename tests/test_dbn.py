"""DBN and stacked DAE: unrolled modules reproduce the stacks; fine-tuning via the trainer;
RBM populations reproduce solo fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from trainlab.pretrain import (
    DBN,
    BernoulliRBM,
    RBMPopulation,
    StackedDenoisingAutoencoder,
    arrays_dataset,
    fine_tune,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float64), y


def _hidden(module, x):
    """Every activation output act{i} of an unrolled MLP."""
    out, h = [], torch.as_tensor(x, dtype=torch.float32)
    for name, layer in module.named_children():
        h = layer(h)
        if name.startswith("act"):
            out.append(h.detach().numpy())
    return out


def test_dbn_unrolled_module_matches_rbm_stack(digits):
    X, _ = digits
    dbn = DBN(layers=[20, 12, 7], n_iter=2, random_state=0).fit(X[:300])
    module = dbn.to_module(n_classes=10)
    names = [n for n, _ in module.named_children()]
    assert names == ["flatten", "fc1", "act1", "fc2", "act2", "fc3", "act3", "out"]
    assert isinstance(module.act1, torch.nn.Sigmoid)
    stack = dbn.hidden_activations(X[:50])
    for got, want in zip(_hidden(module, X[:50]), stack, strict=True):
        np.testing.assert_allclose(got, want, atol=2e-6)
    np.testing.assert_allclose(stack[-1], dbn.transform(X[:50]))
    # and the layers really were pre-trained (not the MLP's default init)
    np.testing.assert_allclose(module.fc2.weight.detach().numpy(), dbn.rbms_[1].components_, 1e-6)


def test_gaussian_dbn_folds_variance_into_first_layer(digits):
    X, _ = digits
    Xs = (X[:200] - X[:200].mean(0)) / (X[:200].std(0) + 1e-3)
    dbn = DBN(layers=[10, 6], visible="gaussian", learning_rate=0.01, n_iter=2, random_state=1)
    dbn.fit(Xs)
    dbn.rbms_[0].log_variance_ = np.full(64, np.log(0.5))  # a non-unit variance
    module = dbn.to_module(n_classes=3)
    for got, want in zip(_hidden(module, Xs[:20]), dbn.hidden_activations(Xs[:20]), strict=True):
        np.testing.assert_allclose(got, want, atol=2e-6)


def test_sdae_unrolled_module_matches_encoders(digits):
    X, _ = digits
    sdae = StackedDenoisingAutoencoder(layers=[16, 8], n_iter=3, random_state=0).fit(X[:300])
    loss = sdae.history_["loss"][0]
    assert loss[-1] < loss[0]  # reconstruction improves
    module = sdae.to_module(n_classes=10, activation="sigmoid")
    np.testing.assert_allclose(_hidden(module, X[:30])[-1], sdae.transform(X[:30]), atol=2e-6)
    assert sdae.reconstruct(X[:5]).shape == (5, 64)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        StackedDenoisingAutoencoder(layers=[4]).fit(X[:10] * 3)


def test_dbn_fine_tunes_through_the_trainer(digits):
    X, y = digits
    dbn = DBN(layers=[64, 64], learning_rate=0.05, n_iter=3, random_state=0).fit(X[:1200])
    ds = arrays_dataset(X[:1200], y[:1200], X[1200:], y[1200:])
    modules = [dbn.to_module(10), dbn.to_module(10)]
    summary = fine_tune(modules, ds, seeds=[0, 1], epochs=8, lr=1e-2, batch_size=32)
    accs = [m["final"]["test_acc"] for m in summary["models"]]
    assert len(accs) == 2 and min(accs) > 0.8, accs  # measured 0.88 after 10 epochs


def test_population_member_reproduces_solo_fit(digits):
    X, _ = digits
    Xb = X[:150]
    pop = RBMPopulation(
        8, seeds=[3, 4], learning_rate=[0.05, 0.1], batch_size=10, n_iter=1, monitor=100
    ).fit(Xb)
    assert len(pop.estimators_) == 4
    assert pop.history_["reconstruction_error"].shape == (4, 1)
    assert pop.history_["pseudo_likelihood"].shape == (4, 1)
    m = pop.members_[3]
    assert (m.seed, m.learning_rate) == (4, 0.1) and m.group == "learning_rate=0.1"
    solo = BernoulliRBM(8, learning_rate=0.1, batch_size=10, n_iter=1, random_state=4).fit(Xb)
    np.testing.assert_allclose(pop.estimators_[3].components_, solo.components_, atol=1e-5)
    assert not np.allclose(pop.estimators_[2].components_, solo.components_, atol=1e-3)


def test_population_training_lowers_reconstruction_error(digits):
    X, _ = digits
    pop = RBMPopulation(16, seeds=[0, 1], learning_rate=0.1, n_iter=4, monitor=300).fit(X[:600])
    rec = pop.history_["reconstruction_error"]
    untrained = BernoulliRBM(16, n_iter=0, random_state=0).fit(X[:300])
    mean_v = 1 / (1 + np.exp(-(untrained.transform(X[:300]) @ untrained.components_)))
    assert (rec[:, -1] < 0.5 * ((mean_v - X[:300]) ** 2).mean()).all(), rec
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        RBMPopulation(4, n_iter=1).fit(X[:20] * 2)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"momentum": 1.5}, "'momentum' parameter"),
        ({"k": 0}, "'k' parameter"),
        ({"learning_rate": -1.0}, "'learning_rate' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"monitor": -5}, "monitor must be"),
        ({"seeds": [1.5]}, "seeds must be integers"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ],
)
def test_population_rejects_bad_settings(options, match):
    from trainlab.errors import UserError

    with pytest.raises(UserError, match=match):
        RBMPopulation(**{"n_components": 4, **options})


def test_population_takes_numpy_seeds_and_values(digits):
    X, _ = digits
    pop = RBMPopulation(4, seeds=np.arange(2), learning_rate=np.float32(0.1), n_iter=1)
    assert len(pop.fit(X[:50]).estimators_) == 2


def test_stacks_take_one_width_and_name_their_features(digits):
    from trainlab.errors import UserError

    X, _ = digits
    dbn = DBN(8, n_iter=1, random_state=0).fit(X[:100])
    assert dbn.transform(X[:2]).shape == (2, 8)
    assert list(dbn.get_feature_names_out()[:2]) == ["dbn0", "dbn1"]
    sdae = StackedDenoisingAutoencoder([6, 3], n_iter=1, random_state=0).fit(X[:100])
    assert len(sdae.get_feature_names_out()) == 3
    with pytest.raises(UserError, match="positive width"):
        DBN([8, 0]).fit(X[:100])
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        StackedDenoisingAutoencoder(4, batch_size=0).fit(X[:100])
