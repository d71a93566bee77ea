"""Review dbn21: the pre-train -> fine-tune journey (DBN / SDAE -> to_module / load_module ->
trainlab.train(cfg, model=..., dataset=...)). Each test fails on the current code."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from trainlab.config import parse_config
from trainlab.pretrain import DBN, arrays_dataset, load_module
from trainlab.train import train


@pytest.fixture(scope="module")
def small():
    """A fitted 64-8 DBN on digits in [0, 1], its unrolled module and an arrays dataset."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    dbn = DBN([8], n_iter=1, random_state=0).fit(X[:300])
    ds = arrays_dataset(X[:300], y[:300], X[300:400], y[300:400])
    return dbn, ds


def _cfg(**sections):
    return parse_config(
        {"name": "r", "init": {"scheme": "keep"}, "train": {"epochs": 1, "batch_size": 64},
         **sections},
        "review",
    )  # fmt: skip


def test_model_batch_norm_given_with_a_pretrained_module_is_not_silently_ignored(small):
    # train(cfg, model=unrolled) honours model.dropout but silently dropped model.batch_norm:
    # true (and recorded it in config.yaml); a key that cannot apply is named in a warning
    dbn, ds = small
    with pytest.warns(UserWarning, match=r"ignored model\.batch_norm"):
        train(_cfg(model={"batch_norm": True}), model=dbn.to_module(10), dataset=ds,
              write=False, progress=False, device="cpu")  # fmt: skip


def test_data_preprocess_given_with_a_dataset_is_not_silently_ignored(small):
    # train(cfg, dataset=arrays_dataset(...)) silently skipped an explicit data.preprocess:
    # standardize (the model trained on unscaled inputs); it is named in a warning
    dbn, ds = small
    with pytest.warns(UserWarning, match=r"ignored data\.preprocess"):
        train(_cfg(data={"preprocess": "standardize"}), model=dbn.to_module(10), dataset=ds,
              write=False, progress=False, device="cpu")  # fmt: skip


def test_load_module_takes_a_numpy_integer_model_index(tmp_path):
    # load_module(run, 10, model=np.int64(1)) is refused with "holds models 0 to 1; got
    # model=np.int64(1)" (self-contradictory); a numpy integer index must load model 1
    rng = np.random.default_rng(0)
    w0, w1 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    np.savez(tmp_path / "model.npz", components_0=w0, intercept_hidden_0=np.zeros(3),
             components_0_model1=w1, intercept_hidden_0_model1=np.ones(3))  # fmt: skip
    (tmp_path / "summary.json").write_text(
        json.dumps({"kind": "dbn", "models": [{"index": 0}, {"index": 1}], "diverged": []})
    )
    net = load_module(tmp_path, 2, model=np.int64(1))
    torch.testing.assert_close(net.fc1.weight, torch.tensor(w1, dtype=torch.float32))
