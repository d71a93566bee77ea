"""Review: dtypes through the whole stack (trainer, data readers, pre-training hand-off).

Each test states a contract that the current code breaks; see its docstring. What held up
(not tested here): a float64 user model on float64 data trains in float64 end to end (weights
and optimizer state float64, equal to a hand-written float64 ``torch.optim`` loop to ~1e-16
for sgd/adam/adamw/rmsprop/adagrad with per-model values, clipping included), resumes
bitwise, and keeps its dtypes in the checkpoint; bfloat16/float16 models train; ``watch`` and
``init.apply`` handle float64 and 16-bit models; PCA/ZCA of float64 ``.npz`` data is computed
in float64.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainlab import data
from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.errors import UserError
from trainlab.train import train


def _digits_as(dtype: torch.dtype) -> Dataset:
    """digits with every input split cast to ``dtype`` (labels untouched)."""
    ds = data.load("digits")
    return Dataset(
        name="digits64",
        x_train=ds.x_train.to(dtype),
        y_train=ds.y_train,
        x_val=ds.x_val.to(dtype),
        y_val=ds.y_val,
        x_test=ds.x_test.to(dtype),
        y_test=ds.y_test,
        input_shape=ds.input_shape,
        num_classes=ds.num_classes,
    )


def _mlp64() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10)).double()


def test_a_float64_run_reports_its_losses_and_accuracies_in_float64():
    """A float64 model on float64 data is accepted by the trainer (its dtype check only asks
    that model and data agree) and its weights and optimizer state are float64 all the way,
    equal to a hand-written float64 loop to ~1e-16. Its metrics are not: the trainer's
    accumulators (``_reset_accumulators``, ``evaluate``'s ``loss_sum``/``correct``) are made
    with the default float32, so every float64 batch loss and evaluation sum is rounded to
    float32 before ``summary.json``/``metrics.jsonl`` see it (val_loss 1.942445158958435 for a
    true 1.9424451350812864, val_acc 0.3541666567 for 51/144). The project already treats a
    float32-rounded logged value as a bug (the logged ``lr``); a user who switches to float64
    to compare runs at high precision gets numbers that agree only to ~1e-7. Here the final
    val/test loss and accuracy must equal a float64 evaluation of the trained model."""
    ds = _digits_as(torch.float64)
    raw = {
        "name": "f64",
        "init": {"scheme": "keep"},
        "optim": {"name": "sgd", "lr": 0.05},
        "train": {"epochs": 1, "batch_size": 64},
        "population": {"seeds": [0]},
    }
    res = train(parse_config(raw), model=_mlp64(), dataset=ds, write=False, progress=False,
                device="cpu")  # fmt: skip
    model = res.model(0).eval()
    assert {p.dtype for p in model.parameters()} == {torch.float64}  # the premise
    final = res.summary["models"][0]["final"]
    with torch.no_grad():
        for split in ("val", "test"):
            x, y = ds.split(split)
            logits = model(x)
            want_loss = F.cross_entropy(logits, y).item()
            want_acc = (logits.argmax(-1) == y).sum().item() / len(y)
            assert final[f"{split}_loss"] == pytest.approx(want_loss, rel=1e-12, abs=0), (
                split, final[f"{split}_loss"], want_loss,
            )  # fmt: skip
            assert final[f"{split}_acc"] == pytest.approx(want_acc, rel=1e-12, abs=0), (
                split, final[f"{split}_acc"], want_acc,
            )  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float64, torch.uint8], ids=["float64", "uint8"])
def test_a_dtype_mismatch_of_the_built_in_model_does_not_tell_the_user_to_call_model_float(dtype):
    """``train(cfg, dataset=ds)`` with a ``Dataset`` whose inputs are float64 (or uint8 pixel
    tensors) and trainlab's own float32 ``mlp`` is refused with "the model's parameters are
    torch.float32, but the data is torch.float64: pass model.float()". The user passed no
    model, and the model is already float32: the advice cannot be followed and would change
    nothing. The one-line error must name a fix that applies (cast the data to float32, as
    ``trainlab.data.Dataset`` documents its inputs), not ``model.float()``."""
    ds = _digits_as(dtype)
    cfg = parse_config(
        {
            "name": "mismatch",
            "model": {"name": "mlp", "hidden": [8]},
            "train": {"epochs": 1, "batch_size": 64},
            "population": {"seeds": [0]},
        }
    )
    with pytest.raises(UserError) as info:
        train(cfg, dataset=ds, write=False, progress=False, device="cpu")
    msg = str(info.value)
    assert str(dtype).removeprefix("torch.") in msg, msg
    assert "model.float()" not in msg, msg


def test_npz_scale_keeps_wide_integer_inputs_in_float64_for_preprocessing(tmp_path):
    """``load`` transforms data wider than float32 (float64, 32/64-bit integers) in float64
    and rounds after, because "a feature such as 5e6 ± 1 loses its spread in float32"; an
    int64 ``.npz`` of epoch-second timestamps ``2e9 + {0..999}`` standardizes exactly. With
    the npz reader's documented ``scale`` option (e.g. 0.001 for milliseconds → seconds, or
    1/255), ``_npz.fx`` first casts integer inputs to float32 (``a.astype(np.float32) * s``),
    where the spacing at 2e9 is 256: the thousand distinct values collapse to four, and the
    standardized feature is a 4-level staircase (1.399 where float64 gives 1.213). The same
    data must give the same standardized inputs with and without ``scale`` (standardization
    is scale-invariant), matching a float64 reference."""
    rng = np.random.default_rng(0)
    n = 200
    x = (2_000_000_000 + rng.integers(0, 1000, size=(n, 3))).astype(np.int64)  # (N, 3)
    y = np.arange(n) % 2
    path = tmp_path / "stamps.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:20], y_test=y[:20])
    ref = x.astype(np.float64) * 0.001
    want = (ref - ref.mean(0)) / ref.std(0)  # (N, 3) float64 reference
    unscaled = data.load("npz", path=str(path), preprocess="standardize", val_fraction=0.0)
    np.testing.assert_allclose(unscaled.x_train.numpy(), want, atol=1e-5)  # the premise
    ds = data.load("npz", path=str(path), scale=0.001, preprocess="standardize",
                   val_fraction=0.0)  # fmt: skip
    got = ds.x_train.numpy().astype(np.float64)
    assert len(np.unique(got[:, 0])) > 100, "distinct inputs collapsed to a few values"
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_dbn_to_module_then_fine_tune_does_not_depend_on_the_callers_default_dtype(
    default_float64,
):
    """The pre-training workflow (README: "``to_module()`` unrolls into a trainlab MLP to
    fine-tune with the normal trainer"): ``DBN.fit`` gives bitwise the same result under
    ``torch.set_default_dtype(torch.float64)`` (tested elsewhere), and the trainer builds its
    own models under float32 whatever the caller's default ("a model's result depends only on
    its config and seed"). But ``DBN.to_module`` (``pretrain.unroll``, also used by
    ``StackedDenoisingAutoencoder.to_module``) builds the MLP with the caller's default
    dtype, so under float64 the unrolled module is float64 while ``arrays_dataset`` gives
    float32 data, and ``fine_tune`` refuses it ("the model's parameters are torch.float64,
    but the data is torch.float32"). A process-wide setting made for unrelated code must not
    break the pipeline: the fine-tuned result must be the one a float32 default gives."""
    from sklearn.datasets import load_digits

    from trainlab.pretrain import DBN, arrays_dataset, fine_tune

    X, y = load_digits(return_X_y=True)
    X = X / 16.0

    def run():
        dbn = DBN(layers=[16], n_iter=1, random_state=0).fit(X[:300])
        module = dbn.to_module(10, generator=torch.Generator().manual_seed(0))
        ds = arrays_dataset(X[:300], y[:300], X[300:400], y[300:400])
        return fine_tune(copy.deepcopy(module), ds, epochs=1, lr=0.01)

    got = run()  # under the float64 default
    torch.set_default_dtype(torch.float32)
    want = run()
    assert [m["final"] for m in got["models"]] == [m["final"] for m in want["models"]]
