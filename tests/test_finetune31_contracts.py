"""Review (finetune31): trainlab.pretrain's load_module / arrays_dataset edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trainlab.errors import UserError
from trainlab.pretrain import arrays_dataset, load_module
from trainlab.pretrain.run import PretrainConfig, run_pretrain


def _dbn_run(tmp_path, **model):
    cfg = PretrainConfig.model_validate(
        {
            "name": "dbn",
            "data": {"name": "digits", "scale": model.pop("scale", "minmax")},
            "model": {"kind": "dbn", "layers": [6, 4], **model},
            "train": {"n_iter": 1, "batch_size": 200},
            "seeds": [3],
            "device": "cpu",
        }
    )
    return run_pretrain(cfg, out=tmp_path / "run")


def _rewrite_npz(run, edit):
    with np.load(run / "model.npz") as z:
        arrays = dict(z)
    edit(arrays)
    np.savez(run / "model.npz", **arrays)


# load_module (pretrain/run.py) counts a stack's layers from the names it finds in model.npz.
# A damaged model.npz that lost the top layer's weight (components_1) therefore loads silently
# as a 1-hidden-layer MLP, although summary.json records layers [6, 4] for the run: the user
# fine-tunes a different network than was pre-trained. A missing layer must be an error
# (as a missing components_0 already is: "lacks ...; re-run the pre-training").
def test_load_module_refuses_a_model_npz_missing_the_top_layer(tmp_path):
    run = _dbn_run(tmp_path)
    assert len(load_module(run, 10).fc2.weight) == 4  # whole file: two hidden layers
    _rewrite_npz(run, lambda a: a.pop("components_1"))
    with pytest.raises(UserError, match="model.npz"):
        load_module(run, 10)


# load_module checks log_variance_j's ndim/dtype/finiteness but not its length: a damaged
# file whose log_variance_0 does not have one entry per visible unit ends in numpy's raw
# "operands could not be broadcast" ValueError instead of the ConfigError ("the file is
# damaged: re-run the pre-training") every other damaged array gets.
def test_load_module_names_a_log_variance_of_the_wrong_length_as_damage(tmp_path):
    run = _dbn_run(tmp_path, visible="gaussian", scale="standardize")
    load_module(run, 10)  # intact: loads

    def edit(a):
        a["log_variance_0"] = np.zeros(3)

    _rewrite_npz(run, edit)
    with pytest.raises(UserError, match="model.npz"):
        load_module(run, 10)


# A summary.json that parses but is not the shape trainlab writes ("models": null, or a
# non-string "kind") crashes load_module with a bare TypeError (len(None); unhashable list),
# whereas an unparsable summary.json gets a UserError "is corrupt ...". Expected: a UserError.
@pytest.mark.parametrize(
    "summary", [{"kind": "dbn", "models": None}, {"kind": ["dbn"], "models": [{}]}]
)
def test_load_module_refuses_a_malformed_summary_with_a_user_error(tmp_path, summary):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(UserError):
        load_module(run, 10)


# arrays_dataset with a single training class: check_arrays is called with its default
# fix="check the label file(s)", so the message tells the user to check label files, but the
# labels came from arrays passed in Python; there are no files. The hint should not name files.
def test_arrays_dataset_single_class_message_does_not_point_at_label_files():
    x = np.random.RandomState(0).rand(20, 4)
    with pytest.raises(UserError) as err:
        arrays_dataset(x, np.zeros(20, dtype=int), None, None)
    assert "file" not in str(err.value)
