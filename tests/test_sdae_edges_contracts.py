"""Review (pretrain6) of src/trainlab/pretrain/: the stacked denoising autoencoder's numeric edge
cases, in the estimator and through ``trainlab pretrain``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import run_pretrain_cli


def _digits01(n: int) -> np.ndarray:
    from sklearn.datasets import load_digits

    x, _ = load_digits(return_X_y=True)
    return (x[:n] / 16.0).astype(np.float32)


def test_sdae_learning_rate_beyond_float32_is_refused_like_the_rbms():
    # SDAE(learning_rate=1e39).fit crashes inside torch's Adam with "RuntimeError: value cannot
    # be converted to type float without overflow" (the RBMs and the DBN raise a UserError for
    # the same value); it should be refused with a ValueError that names learning_rate.
    from trainlab.pretrain import StackedDenoisingAutoencoder

    x = np.random.RandomState(0).rand(20, 4)
    with pytest.raises(ValueError, match="learning_rate"):
        StackedDenoisingAutoencoder([3], n_iter=1, learning_rate=1e39, random_state=0).fit(x)


def test_cli_sdae_learning_rate_beyond_float32_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    # `trainlab pretrain` with {kind: sdae, train: {learning_rate: 1e39}} passes the config
    # (gt=0, finite) and then prints torch's RuntimeError traceback, exit 1; it should be one
    # line naming learning_rate, exit 2, and leave no run directory.
    code, err, out = run_pretrain_cli(
        tmp_path, monkeypatch, capsys,
        "model: {kind: sdae, layers: [3]}\ntrain: {n_iter: 1, learning_rate: 1.0e+39}\n",
    )  # fmt: skip
    assert code == 2, err
    assert "Traceback" not in err and "learning_rate" in err, err
    assert not out.exists()


def test_sdae_transform_of_saturated_units_gives_no_overflow_warning():
    # StackedDenoisingAutoencoder.transform/reconstruct compute 1 / (1 + np.exp(-a)), which
    # warns "overflow encountered in exp" once a unit's pre-activation is below about -88
    # (float32; reached with Adam lr 2 after 2 passes on digits) -- the CLI prints these to the
    # terminal. The result is right (0), so no warning should be raised: use scipy's expit as
    # the RBMs do.
    from trainlab.pretrain import StackedDenoisingAutoencoder

    x = _digits01(300)
    sdae = StackedDenoisingAutoencoder([16], n_iter=2, learning_rate=2.0, random_state=0).fit(x)
    w, c, _ = sdae.layers_[0]
    assert (x @ w.T + c).min() < -90  # the situation under test: saturated units
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        h = sdae.transform(x)
        r = sdae.reconstruct(x)
    assert np.isfinite(h).all() and np.isfinite(r).all()
