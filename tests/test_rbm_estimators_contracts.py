"""RBM estimators (trainlab.pretrain.rbm, partition): devices refused before anything changes,
a refused fit leaves the estimator as it was, Gaussian-Bernoulli AIS, float16 [0, 1] data."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import MinMaxScaler

from trainlab.pretrain import (
    BernoulliRBM,
    GaussianBernoulliRBM,
    ais_log_partition,
    exact_log_partition,
)


def _unit_data(n: int = 40, v: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, v))


def _available(device: str) -> bool:
    if device == "mps":
        return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if device == "xpu":
        return bool(hasattr(torch, "xpu") and torch.xpu.is_available())
    return False


@pytest.mark.parametrize("device", ["mps", "xpu"])
def test_unsupported_device_is_a_clear_error_and_pretrain_leaves_no_run(
    tmp_path, monkeypatch, capsys, device
):
    """A device name torch parses but this machine cannot use (``mps`` on Linux, ``xpu``
    without XPU) must be refused like an absent CUDA: a ``ValueError`` from the estimator, and
    from ``trainlab pretrain --device`` one line, exit 2, and no run directory (run.py promises
    "the device [is] checked before the run directory is made, ... a mistake leaves no half-made
    run behind"; ``trainlab train`` already refuses anything but cpu/cuda). ``resolve_device``
    in pretrain/rbm.py only checks CUDA, so the fit crashes deep inside torch with a
    RuntimeError/AssertionError and the CLI prints a traceback after writing config.yaml."""
    if _available(device):
        pytest.skip(f"{device} is available here")
    from trainlab.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {n_components: 4}\ntrain: {n_iter: 1}\n")
    out = tmp_path / "run"
    argv = ["trainlab", "pretrain", str(cfg), "--out", str(out), "--device", device]
    monkeypatch.setattr(sys, "argv", argv)
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err[-1500:]
    assert not out.exists(), sorted(p.name for p in out.iterdir())
    with pytest.raises(ValueError, match=device):
        BernoulliRBM(n_components=2, n_iter=1, device=device).fit(_unit_data())


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_fit_refused_for_its_device_keeps_the_fitted_model(cls):
    """``fit`` that is refused for a user error (a device that does not exist) must leave the
    estimator as it was. ``fit`` draws fresh initial weights (``_init_params``) *before* it
    resolves the device, so ``set_params(device="cuda:99").fit(X)`` raises and silently
    replaces a trained model's weights with N(0, 0.01^2) noise: the user's trained model is
    lost, and ``transform`` keeps working on the random weights without any sign of it."""
    X = _unit_data(60)
    rbm = cls(n_components=3, n_iter=5, learning_rate=0.05, random_state=0).fit(X)
    weights, features = rbm.components_.copy(), rbm.transform(X)
    with pytest.raises(ValueError):
        rbm.set_params(device="cuda:99").fit(X)  # absent or nonexistent CUDA device
    np.testing.assert_array_equal(rbm.components_, weights)
    np.testing.assert_array_equal(rbm.transform(X), features)


def test_fit_refused_for_out_of_range_data_leaves_the_estimator_as_it_was():
    """A ``fit`` that BernoulliRBM refuses (inputs outside [0, 1]) must not change the
    estimator. The [0, 1] check runs after ``validate_data(reset=True)`` has already recorded
    ``n_features_in_``: (a) an unfitted estimator then passes ``check_is_fitted`` and
    ``transform`` crashes with ``AttributeError: ... no attribute 'components_'`` instead of
    scikit-learn's NotFittedError; (b) a fitted 4-feature model whose refit on 5 unscaled
    features was refused now rejects its own 4-feature data ("X has 4 features, but
    BernoulliRBM is expecting 5"), although its weights are still the 4-feature ones."""
    X4 = _unit_data(40, 4)
    fresh = BernoulliRBM(n_components=3, n_iter=1, random_state=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fresh.fit(3.0 * X4)
    with pytest.raises(NotFittedError):
        fresh.transform(X4)

    fitted = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X4)
    before = fitted.transform(X4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fitted.fit(3.0 * _unit_data(40, 5))
    np.testing.assert_array_equal(fitted.transform(X4), before)


def test_gaussian_log_z_refusal_names_a_route_that_works():
    """``exact_log_partition`` refuses a GaussianBernoulliRBM with more than 20 hidden units
    and tells the user to "use ais_log_partition for this model"; ``ais_log_partition``
    refused the same model ("supports BernoulliRBM; use exact_log_partition"), sending the
    user in a circle (issue 6 promises AIS for the models too large to enumerate)."""
    X = np.random.default_rng(0).standard_normal((20, 3))
    rbm = GaussianBernoulliRBM(n_components=25, n_iter=0, random_state=0).fit(X)
    with pytest.raises(ValueError, match="ais_log_partition"):
        exact_log_partition(rbm)
    result = ais_log_partition(rbm, n_betas=20, n_runs=4, random_state=0)
    assert np.isfinite(result.log_z)
    with pytest.raises(ValueError, match="base_rate"):
        ais_log_partition(rbm, n_betas=20, n_runs=4, base_rate=np.full(3, 0.5))


@pytest.mark.parametrize("learn_variance", [False, True])
def test_gaussian_ais_agrees_with_the_exact_log_z(learn_variance):
    """AIS for Gaussian-Bernoulli RBMs (base model: the RBM's own Gaussian part) must bracket
    the exact log Z within its +-3 std interval on models small enough to enumerate, trained
    on standardized digits (not just random weights)."""
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(load_digits().data[:600])
    rbm = GaussianBernoulliRBM(
        n_components=12, n_iter=5, learning_rate=0.005, learn_variance=learn_variance,
        random_state=0,
    ).fit(X)  # fmt: skip
    exact = exact_log_partition(rbm)
    est = ais_log_partition(rbm, n_betas=1500, n_runs=64, random_state=1)
    assert est.log_z_low <= exact <= est.log_z_high, (exact, est.log_z_low, est.log_z_high)
    assert abs(est.log_z - exact) < 0.1


def test_minmax_scaled_float16_data_is_accepted():
    """``outside_unit_interval`` promises that ``MinMaxScaler().fit_transform`` output, which
    rounding puts a few ulps above 1, is accepted as [0, 1] data (fixed for float64 and
    float32). MinMaxScaler keeps float16 input in float16, where a few ulps are ~1e-3
    (here 1.008 = 1 + 8 ulps); the estimator converts to float64 *before* the check and
    applies float64's 2.2e-13 tolerance, so it refuses its own scaler's output with "needs
    inputs in [0, 1] but got values in [0, 1.008]"."""
    raw = (100 + np.random.default_rng(0).normal(size=(2000, 20))).astype(np.float16)
    X = MinMaxScaler().fit_transform(raw)
    assert X.dtype == np.float16 and X.max() > 1.0  # the scaler's rounding, not real data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(X)
    assert np.isfinite(rbm.transform(X)).all()
