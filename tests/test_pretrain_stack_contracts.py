"""Review of the pre-training stacks (DBN, stacked DAE), their fine-tuning helpers and the
``trainlab pretrain`` run: contracts that the current code does not keep."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
import yaml

from trainlab.errors import UserError
from trainlab.pretrain import DBN, StackedDenoisingAutoencoder, arrays_dataset, fine_tune


def test_dbn_refit_refused_for_bad_data_keeps_the_fitted_stack(digits):
    """A ``fit`` that is refused because of its data (values outside [0, 1]) must leave an
    already fitted DBN as it was, as the RBM estimators promise for themselves ("a refused fit
    leaves the estimator as it was"). ``DBN.fit`` empties ``rbms_`` before the first layer
    validates the data, so after the refusal ``check_is_fitted`` still passes but the stack is
    gone: ``transform`` dies with ``IndexError: pop from an empty deque`` and ``to_module``
    builds a network without the pre-trained layers. A user who passes unscaled data once by
    mistake (e.g. in a notebook) silently loses the pre-trained model."""
    X, _ = digits
    dbn = DBN([6, 4], n_iter=1, random_state=0).fit(X[:200])
    before = dbn.transform(X[:5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dbn.fit(X[:200] * 16.0)  # raw digits pixels 0..16: refused
    assert len(dbn.rbms_) == 2
    np.testing.assert_array_equal(dbn.transform(X[:5]), before)
    module = dbn.to_module(10)
    np.testing.assert_allclose(
        module.fc1.weight.detach().numpy(), dbn.rbms_[0].components_, rtol=1e-6
    )


def test_sdae_refit_refused_for_bad_data_keeps_the_fitted_model(digits):
    """Same contract for ``StackedDenoisingAutoencoder``: a refused ``fit`` must not change
    the fitted model. ``fit`` runs ``validate_data(reset=True)`` (which overwrites
    ``n_features_in_``) before its [0, 1] check and its parameter validation, so a refused fit
    on other data (here 10 unscaled columns) leaves ``layers_`` for 64 inputs but
    ``n_features_in_ == 10``: every later ``transform``/``reconstruct`` of valid data fails
    with "X has 64 features, but ... is expecting 10"."""
    X, _ = digits
    sdae = StackedDenoisingAutoencoder([6], n_iter=1, random_state=0).fit(X[:200])
    before = sdae.transform(X[:5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sdae.fit(X[:200, :10] * 16.0)
    assert sdae.n_features_in_ == 64
    np.testing.assert_array_equal(sdae.transform(X[:5]), before)


def _fine_tuned_run(digits, tmp_path):
    """A 2-epoch ``fine_tune`` run on an ``arrays_dataset``, its config raised to 3 epochs
    (which resume allows): ``(run_dir, dataset, make_module)``."""
    X, y = digits
    ds = arrays_dataset(X[:300], y[:300], X[300:400], y[300:400])
    dbn = DBN([16], n_iter=1, random_state=0).fit(X[:300])

    def module():
        return dbn.to_module(10, generator=torch.Generator().manual_seed(0))

    run = tmp_path / "ft"
    fine_tune([module()], ds, epochs=2, lr=1e-2, out=str(run))
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["train"]["epochs"] = 3
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    return run, ds, module


def test_fine_tune_run_resumed_as_the_cli_says_trains_on_its_own_data(digits, tmp_path):
    """``fine_tune(..., out=DIR)`` writes a training run directory. ``trainlab resume DIR``
    refuses it and says "resume it from Python: trainlab.train.resume(dir,
    model=the_same_module)". Following that advice must not silently continue on another
    dataset: ``config.yaml`` records ``data.name: digits`` (the Config default) for a run
    trained on an ``arrays_dataset``, and resume went on -- training and evaluating -- on
    digits. It must refuse and ask for the dataset too."""
    from trainlab.train import resume

    run, _, module = _fine_tuned_run(digits, tmp_path)
    with pytest.raises(UserError, match="dataset=the_same_dataset"):
        resume(run, model=module(), progress=False, device="cpu")


@pytest.mark.parametrize("val_fraction", [-0.5, 1.0])
def test_arrays_dataset_rejects_a_val_fraction_outside_0_1(digits, val_fraction):
    """``arrays_dataset`` takes "the last ``val_fraction`` of the training rows" as the
    validation split; ``trainlab.data.load`` refuses a ``val_fraction`` outside [0, 1) with
    "val_fraction must be a number in [0, 1)". ``arrays_dataset`` accepts anything: -0.5 gives
    an empty validation split silently (fine-tuning then reports ``val_loss`` NaN), and 1.0
    gives an empty training split, which ``fine_tune`` reports as the self-contradictory
    "the model gives outputs (10,) per sample, but data 'arrays' has 10 classes"."""
    X, y = digits
    with pytest.raises(UserError, match="val_fraction"):
        arrays_dataset(X[:100], y[:100], X[100:150], y[100:150], val_fraction=val_fraction)


def test_labels_outside_num_classes_are_a_clear_error_not_an_index_error(digits):
    """``arrays_dataset`` builds a ``Dataset``, whose labels are documented to lie in
    ``[0, num_classes)``; with an explicit ``num_classes`` smaller than the labels it returns
    a dataset that breaks that, and ``fine_tune`` then dies inside the loss with a raw
    ``IndexError: Target 6 is out of bounds`` traceback. A user mistake in the arguments must
    be a ``UserError`` naming the problem (at ``arrays_dataset`` or at ``fine_tune``)."""
    X, y = digits
    dbn = DBN([8], n_iter=1, random_state=0).fit(X[:200])
    with pytest.raises(UserError):
        ds = arrays_dataset(X[:200], y[:200], X[200:260], y[200:260], num_classes=5)
        fine_tune([dbn.to_module(5)], ds, epochs=1)


def test_a_fine_tune_run_resumes_with_its_dataset_and_refuses_another(digits, tmp_path):
    """A run trained on a dataset passed in (``fine_tune``, ``train(dataset=...)``) records the
    dataset's name and sizes in ``population.json``; ``resume(dir, dataset=ds)`` continues it to
    what an uninterrupted run reaches, and a different dataset is refused in one line."""
    from trainlab.train import resume

    X, y = digits
    run, ds, module = _fine_tuned_run(digits, tmp_path)
    info = json.loads((run / "population.json").read_text())
    assert info["custom_dataset"]["sizes"] == [270, 30, 100]
    other = arrays_dataset(X[:200], y[:200], X[300:400], y[300:400])
    with pytest.raises(UserError, match="not the one"):
        resume(run, model=module(), dataset=other, progress=False, device="cpu")
    want = fine_tune([module()], ds, epochs=3, lr=1e-2)["models"][0]["final"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = resume(run, model=module(), dataset=ds, progress=False, device="cpu")
    got = got.summary["models"][0]["final"]
    for key in ("train_loss", "test_loss", "test_acc"):
        assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6), (key, got, want)
