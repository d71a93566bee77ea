"""Review dbnft32: a `trainlab pretrain` run pre-trains on inputs min-max scaled by its training
split, but the trainer has no such preprocessing: `trainlab.train(cfg, model=load_module(run))`
(the README's route) fine-tuned on inputs up to 8x smaller than the weights were trained on
(digits features whose max is below 16), in silence. `load_module(..., raw_inputs=True)` folds
the run's scaling into the first layer, so that the module takes the data as trainlab loads it:
its hidden activations on raw inputs equal the run's module's on the scaled ones."""

import numpy as np
import pytest
import torch

from trainlab import data
from trainlab.errors import UserError
from trainlab.pretrain import load_module
from trainlab.pretrain.run import run_pretrain


def _run(tmp_path, scale, visible="bernoulli"):
    sets = ["model.kind=dbn", "model.layers=[6]", "train.n_iter=1", f"data.scale={scale}",
            f"model.visible={visible}", "seeds=[0]"]  # fmt: skip
    return run_pretrain(None, out=tmp_path / f"run-{scale}", sets=sets, device="cpu")


@pytest.mark.parametrize(
    ("scale", "visible"), [("minmax", "bernoulli"), ("standardize", "gaussian")]
)
def test_raw_inputs_module_equals_the_scaled_one_on_scaled_data(tmp_path, scale, visible):
    run = _run(tmp_path, scale, visible)
    x = data.load("digits", seed=0, val_fraction=0.0).x_train.flatten(1).double().numpy()
    if scale == "minmax":
        lo, hi = x.min(0), x.max(0)
        span = np.where(hi > lo, hi - lo, 1.0)
        scaled = (x - lo) / span
    else:
        from trainlab.data.preprocess import Standardize

        scaled = Standardize().fit(x).transform(x).numpy()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    plain = load_module(run, 10, generator=g())
    folded = load_module(run, 10, generator=g(), raw_inputs=True)
    h_plain = torch.sigmoid(plain.fc1(torch.as_tensor(scaled, dtype=torch.float32)))
    h_folded = torch.sigmoid(folded.fc1(torch.as_tensor(x, dtype=torch.float32)))
    assert torch.allclose(h_plain, h_folded, atol=1e-5)
    assert not torch.equal(plain.fc1.weight, folded.fc1.weight)


def test_raw_inputs_of_an_unscaled_run_is_the_same_module(tmp_path):
    run = _run(tmp_path, "none")
    a = load_module(run, 10, generator=torch.Generator().manual_seed(0))
    b = load_module(run, 10, generator=torch.Generator().manual_seed(0), raw_inputs=True)
    assert torch.equal(a.fc1.weight, b.fc1.weight) and torch.equal(a.fc1.bias, b.fc1.bias)


def test_raw_inputs_of_a_run_without_its_scaling_is_a_clear_error(tmp_path):
    run = _run(tmp_path, "minmax")
    with np.load(run / "model.npz") as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("input_")}
    np.savez(run / "model.npz", **arrays)
    with pytest.raises(UserError, match="does not record the run's input scaling"):
        load_module(run, 10, raw_inputs=True)
    load_module(run, 10)  # (the scaled-input module still loads)
