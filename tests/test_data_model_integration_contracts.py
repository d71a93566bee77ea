"""Review: data x model integration (datasets, preprocessing, models, through config and Trainer).

Each test states a contract that the current code breaks; see its docstring.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import assert_user_error, run_cli
from trainlab import data
from trainlab.config import parse_config
from trainlab.train import Trainer


def _npz(path, x_train, y_train, x_test, y_test):
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@pytest.mark.parametrize(
    "dtype", ["<i8", "<i4", "<u4", ">f8"], ids=["int64", "int32", "uint32", "float64_big_endian"]
)
def test_preprocessing_of_wide_npz_inputs_is_not_done_in_float32(tmp_path, dtype):
    """``load`` promises that preprocessing is fitted on the training split and that wide data is
    transformed in float64 and rounded after ("a feature such as 5e6 ± 1 loses its spread in
    float32"); that is why float64 ``.npz`` inputs standardize exactly. Integer inputs (e.g.
    int64 counts or timestamps) and big-endian float64 arrays (``'>f8'``, as written by many
    non-numpy tools) are numeric inputs that ``load`` accepts, but it picks float64 only when
    ``x.dtype == np.float64`` is literally true, so both are first cast to float32: features
    such as ``2e8 + {0, 1, 2, 3}`` collapse to one value and ``standardize`` returns all zeros,
    so a model trained on them sees no signal at all. The result must match a float64
    standardization of the same numbers (scikit-learn's ``StandardScaler``)."""
    rng = np.random.default_rng(0)
    n = 200
    x = (2e8 + rng.integers(0, 4, (n, 3))).astype(dtype)  # (N, 3), spread 0..3 on top of 2e8
    y = np.arange(n) % 2
    path = _npz(tmp_path / "wide.npz", x, y, x[:20], y[:20])
    ds = data.load("npz", path=str(path), preprocess="standardize", val_fraction=0.0)
    ref64 = x.astype(np.float64)
    want = (ref64 - ref64.mean(0)) / ref64.std(0)  # (N, 3) float64 reference
    got = ds.x_train.numpy().astype(np.float64)
    assert got.std(0).min() > 0.99, f"standardized features lost their spread: {got.std(0)}"
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("preprocess", ["zca", "pca", "pca_whiten"])
def test_cli_whitening_of_inputs_without_features_is_one_line(
    monkeypatch, capsys, tmp_path, preprocess
):
    """An ``.npz`` whose inputs have no features (``x_train`` of shape ``(N, 0)``, e.g. after an
    empty column selection) is a user error: with ``preprocess: none`` or ``standardize`` the
    CLI already says so in one line ("input_shape must hold positive sizes") and exits 2. With
    ``zca``/``pca``/``pca_whiten`` the same file crashes inside the eigendecomposition
    (``IndexError: argmax(): Expected reduction dim 0 to have non-zero size``) and prints a
    traceback with exit code 1, against issue 3's rule that user errors print one clear line
    and exit 2."""
    y = np.arange(40) % 4
    path = _npz(tmp_path / "empty.npz", np.zeros((40, 0), np.float32), y,
                np.zeros((8, 0), np.float32), y[:8])  # fmt: skip
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: t\ndata: {name: npz}\nmodel: {name: mlp, hidden: [4]}\n"
        "train: {epochs: 1, batch_size: 16}\n"
    )
    try:
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg, "--device", "cpu", "--no-report",
            "--set", f"data.options.path={path}", "--set", f"data.preprocess={preprocess}",
            "--out", tmp_path / "run",
        )  # fmt: skip
    except Exception as exc:  # main() lets it escape: the shell shows a traceback, exit 1
        pytest.fail(f"traceback instead of a one-line user error: {type(exc).__name__}: {exc}")
    assert_user_error(code, err)
    assert not (tmp_path / "run").exists()


def test_lsuv_in_a_run_calibrates_on_a_batch_of_the_training_data_not_its_first_class():
    """``init.scheme: lsuv`` (Mishkin & Matas 2016; DESIGN.md: "rescale each layer on a data
    batch to unit output variance") is meant to leave each layer with unit output variance on
    the training data. The Trainer hands LSUV ``x_train[:256]``, the first 256 training samples
    in stored order; the splits keep the stored order, and the synthetic sets (and many user
    ``.npz`` files) are stored class by class, so on ``spirals`` that batch is one spiral arm
    only. The first layer is then scaled to unit variance on one class, and on the training
    split as a whole its output variance is about 1.9, not 1. The LSUV batch must be a sample of
    the training split (e.g. a random subset drawn from the model's seed), so that the promised
    unit variance holds on the data the model trains on."""
    raw = {
        "name": "t",
        "data": {"name": "spirals"},
        "model": {"name": "mlp", "hidden": [32]},
        "init": {"scheme": "lsuv"},
        "train": {"epochs": 1, "batch_size": 100},
    }
    trainer = Trainer(parse_config(raw), device="cpu")
    model = trainer.pop.unstack(0).eval()
    x = trainer.data.x_train  # (N, 2)
    with torch.no_grad():
        var = model.fc1(model.flatten(x)).var().item()
    # LSUV's own tolerance is 0.1 on its batch; 0.3 leaves room for a random batch's noise
    assert abs(var - 1.0) < 0.3, (
        f"after LSUV the first layer's output variance on the training split is {var:.3f}, "
        f"not ~1; classes in its batch: "
        f"{torch.bincount(trainer.data.y_train[:256], minlength=3).tolist()}"
    )
