"""Review synth21: built-in datasets as a teacher uses them (each test failed when written)."""

from __future__ import annotations

import pytest

from trainlab import data
from trainlab.data.synthetic import make_blobs, make_spirals, make_teacher
from trainlab.errors import UserError


def test_teacher_one_class_error_names_teacher_options_not_label_files():
    # wrong: a dead narrow teacher (all labels one class) is told to "check the label file(s)" it
    # has none of; right: one line naming the teacher's own knobs (data_seed, hidden, dim)
    with pytest.raises(UserError) as info:
        data.load("teacher", dim=1, classes=10, hidden=[1, 1, 1], data_seed=1)
    msg = str(info.value)
    assert "file" not in msg
    assert any(k in msg for k in ("data_seed", "hidden", "dim"))


@pytest.mark.parametrize(
    "make, kwargs",
    [
        (make_spirals, {"classes": 0}),  # today: ZeroDivisionError
        (make_blobs, {"classes": 0}),  # today: ZeroDivisionError
        (make_teacher, {"hidden": [0]}),  # today: ZeroDivisionError
        (make_teacher, {"dim": 0}),  # today: ZeroDivisionError
        (make_blobs, {"dim": 0}),  # today: silently returns (1000, 0) inputs
        (make_teacher, {"hidden": True}),  # today: silently a width-1 teacher
    ],
)
def test_public_generators_refuse_bad_arguments_with_one_line(make, kwargs):
    # wrong: the public make_* generators (synthetic.__all__, "for notebooks") skip the checks
    # that load() does, so bad values crash with numpy/ZeroDivision errors or pass silently;
    # right: the same one-line UserError that load("spirals"/"blobs"/"teacher", ...) gives
    with pytest.raises(UserError):
        make(**kwargs)


@pytest.mark.parametrize("name", ["spirals", "blobs", "teacher", "mnist1d"])
def test_datasets_listing_names_every_option_of_generated_sets(name):
    # wrong: `trainlab datasets` lists spirals/blobs/teacher options "n_samples=..., ..." but
    # leaves out data_seed (the only way to get another draw of the data), and mnist1d lists none
    # of n_samples/data_seed/shuffle_seq; right: each description names every option load() takes
    desc = dict(data.list_datasets())[name]
    missing = [opt for opt in data.dataset_options(name) if opt not in desc]
    assert not missing, f"{name}: description omits {missing}"
