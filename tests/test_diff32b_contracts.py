"""Review diff32b: `load_module(..., raw_inputs=True)` and a damaged model.npz."""

import numpy as np
import pytest

from trainlab.errors import UserError
from trainlab.pretrain import load_module
from trainlab.pretrain.run import run_pretrain


def _run_with(tmp_path, name, value):
    sets = ["model.kind=rbm", "model.n_components=3", "train.n_iter=1", "seeds=[0]"]
    run = run_pretrain(None, out=tmp_path / "run", sets=sets, device="cpu")
    with np.load(run / "model.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays[name] = value
    np.savez(run / "model.npz", **arrays)
    return run


# _fold_scaling checks the shapes of input_shift/input_scale but not their dtype: a damaged
# model.npz whose input_shift is a string array (np.load reads it without allow_pickle) crashes
# with numpy's "ufunc 'isfinite' not supported" TypeError traceback. Every other array of the
# file is checked for a float dtype (".. is not a finite 1-D float array; the file is damaged")
# and so must these: the expected result is the ConfigError (a UserError) naming the file.
def test_raw_inputs_with_a_non_numeric_input_shift_is_a_clear_error(tmp_path):
    run = _run_with(tmp_path, "input_shift", np.array(["0"] * 64))
    with pytest.raises(UserError, match="model.npz"):
        load_module(run, 10, raw_inputs=True)


# The message promises "finite shifts and positive scales", but only the shift is tested for
# finiteness: an input_scale of inf passes `scale > 0` and W / inf silently zeroes the whole
# first layer (every pre-trained weight lost, the module loads as if fine). A minmax span or a
# standardize std is always finite, so inf can only be damage: it must be refused.
def test_raw_inputs_with_an_infinite_input_scale_is_refused(tmp_path):
    run = _run_with(tmp_path, "input_scale", np.full(64, np.inf))
    with pytest.raises(UserError, match="damaged"):
        load_module(run, 10, raw_inputs=True)
