"""Review (notebook35): trainlab used interactively (notebook-like Python session)."""

from __future__ import annotations

import warnings

import trainlab

CFG = {
    "name": "nb35",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [8]},
    "train": {"epochs": 1, "batch_size": 256},
    "population": {"seeds": [0]},
}


# trainlab.resume's notes (here "nothing to train: the run ... is complete") are raised by
# train._warn with a fixed stacklevel=3, which lands on trainlab/train.py (resume's own frame),
# not on the user's line, unlike train()'s warnings (_caller_stacklevel): a notebook shows
# "train.py:1946: UserWarning ... return _resume(run_dir, ...)", library code, and a
# warnings filter on the user's module does not apply. The warning must be attributed to the
# caller's file (this test file). The CUDA-run-resumed-on-CPU note (_resume_device) has the
# same stacklevel=3 and lands on _rebuild.
def test_resume_note_points_at_the_callers_line(tmp_path):
    out = tmp_path / "run"
    trainlab.train(CFG, out=out, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainlab.resume(out, progress=False)
    notes = [w for w in caught if "nothing to train" in str(w.message)]
    assert notes, [str(w.message) for w in caught]
    assert notes[0].filename == __file__, (notes[0].filename, notes[0].lineno)
