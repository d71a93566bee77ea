"""Adversarial review of the RBM engine after the speed change (numpy PCG64 noise, numpy CD
step on views of the torch tensors, cached numpy views).

Checked and fine (no test kept): a model's weights are the same alone (``BernoulliRBM``) and
as any member of an ``RBMPopulation`` with K = 1, 2, 3, 5 (CD and PCD, k = 1 and 3, momentum,
weight decay, grids over learning rate / weight decay / momentum, a remainder batch), to float
rounding (<= 2e-7 on digits after 3 passes); the same for ``GaussianBernoulliRBM``; monitor
curves of a member equal the solo fit's; ``trainlab pretrain`` with a grid writes per-model
weights equal to solo fits; fit twice (also refit of one object, and population refit) is
bitwise equal; float32 and float64 input give the same weights; pickling between
``partial_fit`` calls (also after ``fit``) continues bitwise identically; the numpy and torch
backends agree to 1e-14 in float64 for odd shapes (V = 1, H = 1, batch 1, batch > 640, chains
larger than the batch, CD-3 with remainders); PCD chains run with lr = 0 sample the model's
exact hidden marginals (both backends, float32 and float64) and ``gibbs`` matches the exact
one-step visible probabilities; the logistic noise follows its generator only.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainlab.pretrain import BernoulliRBM, GaussianBernoulliRBM
from trainlab.pretrain._engine import CDEngine, augment
from trainlab.pretrain.rbm import make_generators


def _wa(seed: int, k_models: int, v: int = 5, h: int = 4) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return augment(
        torch.tensor(rng.normal(0, 0.5, (k_models, v, h))),
        torch.tensor(rng.normal(0, 0.3, (k_models, v))),
        torch.tensor(rng.normal(0, 0.3, (k_models, h))),
    )


def _cd_engine(wa: torch.Tensor, method: str) -> CDEngine:
    return CDEngine(
        wa,
        lr=0.05,
        k=1,
        method=method,
        chain_size=4,
        generators=[make_generators(i, torch.device("cpu")) for i in range(wa.shape[0])],
    )


@pytest.mark.parametrize("method", ["pcd", "cd"])
def test_torch_backend_steps_a_replaced_weight_tensor(method):
    """An engine whose ``wa`` is replaced (new weights loaded, a member sliced, a dtype
    change as tests/test_rbm.py does) must train the new tensor exactly as an engine built on
    it. The K = 1 numpy backend does: ``_numpy_state`` re-makes its views "when a tensor is
    replaced". The torch backend (every population with K > 1, every Gaussian RBM, every
    CUDA fit) does not: ``CDEngine.__init__`` caches ``_w_h``/``_w_vt`` as views of the
    *original* ``wa``, so the sampling phases keep reading the old weights (which no longer
    change) while the updates go into the new tensor -- the model silently trains against
    frozen sampling weights, and the same engine gives a different result on the two
    backends."""
    x = torch.tensor((np.random.default_rng(9).random((20, 5)) < 0.4).astype(float))
    eng = _cd_engine(_wa(0, 2), method)
    assert eng.backend == "torch"
    eng.wa = _wa(1, 2)  # e.g. weights loaded from elsewhere
    ref = _cd_engine(_wa(1, 2), method)
    eng.epoch(x, 5)
    ref.epoch(x, 5)
    torch.testing.assert_close(eng.wa, ref.wa, rtol=0, atol=1e-12)


def test_momentum_zero_step_keeps_the_velocity_of_the_documented_update():
    """The documented update is ``vel = momentum * vel + learning_rate * g; W += vel``
    (BernoulliRBM's docstring, CDEngine's). A step with ``momentum=0`` therefore sets
    ``vel = learning_rate * g``, and a later step with momentum 0.9 adds 0.9 of *that*. The
    numpy backend (Bernoulli, K = 1, CPU) does so; the torch backend's fast path
    (``CDEngine._update``: shared lr, ``mom_s == 0``) skips the velocity altogether although
    one exists (here from a fit with momentum 0.9), so after
    ``fit(momentum=0.9) -> partial_fit(momentum=0) -> partial_fit(momentum=0.9)`` the last step
    re-applies 0.9 x the stale velocity of the fit. The result then jumps by ~0.02 between
    ``momentum=0`` and ``momentum=1e-30`` for a GaussianBernoulliRBM (and for a BernoulliRBM on
    CUDA), while the Bernoulli CPU estimator is continuous."""
    # the Bernoulli estimator (numpy backend on the CPU) keeps the documented update ...
    Xb = np.random.default_rng(0).random((40, 6))
    ref = []
    for middle in (0.0, 1e-30):
        rbm = BernoulliRBM(
            4, learning_rate=0.05, momentum=0.9, n_iter=3, batch_size=10, random_state=0
        ).fit(Xb)
        rbm.set_params(momentum=middle).partial_fit(Xb[:10])
        rbm.set_params(momentum=0.9).partial_fit(Xb[10:20])
        ref.append(rbm.components_)
    np.testing.assert_allclose(ref[0], ref[1], rtol=0, atol=1e-6)

    # ... the Gaussian one (torch backend) does not
    X = np.random.default_rng(0).normal(size=(40, 6))
    out = []
    for middle in (0.0, 1e-30):
        rbm = GaussianBernoulliRBM(
            4, learning_rate=0.05, momentum=0.9, n_iter=3, batch_size=10, random_state=0
        ).fit(X)
        rbm.set_params(momentum=middle).partial_fit(X[:10])
        rbm.set_params(momentum=0.9).partial_fit(X[10:20])
        out.append(rbm.components_)
    np.testing.assert_allclose(out[0], out[1], rtol=0, atol=1e-6)


def test_population_member_continues_like_its_solo_fit_whatever_its_neighbours_momentum():
    """A member of an ``RBMPopulation`` must be the model its solo fit would be -- also as the
    starting point of further training (DESIGN.md principle 2: never dependent on K or on the
    other members). A momentum-0 member of a population whose grid also has momentum 0.5 gets
    the same weights as ``BernoulliRBM(momentum=0)`` alone, but ``RBMPopulation.fit`` stores
    the population's shared velocity buffer into *every* member's ``_velocity`` (the engine
    keeps one as soon as any member has momentum), whereas the solo fit (and the same member
    in a population of its own) has none. Continuing the chosen member, e.g.
    ``set_params(momentum=0.5).partial_fit(batch)`` as Hinton's guide raises momentum after a
    few passes, then applies 0.5 x a velocity that its solo twin never had: the member's
    weights depend on which other grid points were trained with it."""
    from trainlab.pretrain import RBMPopulation

    X = np.random.default_rng(0).random((40, 6))
    kw = dict(learning_rate=0.05, n_iter=3, batch_size=10)
    pop = RBMPopulation(4, seeds=[0], momentum=[0.0, 0.5], monitor=0, **kw).fit(X)
    member = pop.estimators_[0]
    assert member.momentum == 0.0
    solo = BernoulliRBM(4, momentum=0.0, random_state=0, **kw).fit(X)
    np.testing.assert_allclose(member.components_, solo.components_, rtol=0, atol=1e-6)
    for rbm in (member, solo):
        rbm.set_params(momentum=0.5).partial_fit(X[:10])
    np.testing.assert_allclose(member.components_, solo.components_, rtol=0, atol=1e-6)
