"""Review of trainlab.data's synthetic sets, splits and registry: failing tests for real bugs.

Each test states the contract it checks; all run offline (mnist1d's downloading
``get_dataset`` and ``requests.get`` are patched to raise) and in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import assert_user_error, run_cli
from trainlab.data import DATASETS, RawData, load
from trainlab.data.synthetic import make_teacher
from trainlab.errors import UserError

SMALL_TRAIN = """
name: review
data: {{name: {name}, options: {options}}}
model: {{name: mlp, hidden: [8]}}
train: {{epochs: 1, batch_size: 64}}
population: {{seeds: [0]}}
"""


@pytest.fixture
def offline(monkeypatch):
    """mnist1d may only generate (make_dataset), never download."""
    import mnist1d.data
    import requests

    def no_network(*args, **kwargs):
        raise AssertionError("trainlab tried to download")

    monkeypatch.setattr(mnist1d.data, "get_dataset", no_network)
    monkeypatch.setattr(requests, "get", no_network)


def _config(tmp_path, name, options):
    path = tmp_path / "cfg.yaml"
    path.write_text(SMALL_TRAIN.format(name=name, options=options))
    return path


# --------------------------------------------------------------------------- teacher options


@pytest.mark.parametrize("hidden", [None, 8.0])
def test_teacher_hidden_null_or_float_is_a_user_error(hidden):
    """``teacher``'s ``hidden`` must be a width >= 1 or a list of widths; anything else must be
    refused with the one-line UserError that ``_teacher`` already has for ``hidden=[8, 0]`` or
    ``hidden="64"``. ``hidden: null`` (an empty YAML value) and ``hidden: 8.0`` are what a user
    writes by accident; today they reach ``all(... for w in widths)`` and escape as a bare
    ``TypeError: 'NoneType' object is not iterable`` that names no option."""
    with pytest.raises(UserError, match="hidden"):
        load("teacher", n_samples=50, dim=3, classes=2, hidden=hidden)


def test_cli_teacher_hidden_null_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    """The CLI promise (issue 3, item 8): a bad data option prints one clear line and exits 2.
    ``data.options.hidden: null`` for ``teacher`` currently prints a TypeError traceback from
    ``trainlab/data/synthetic.py`` and leaves the user guessing which key is wrong."""
    cfg = _config(tmp_path, "teacher", "{n_samples: 100, dim: 3, classes: 2, hidden: null}")
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", tmp_path / "run", "--device", "cpu"
    )
    assert_user_error(code, err, "hidden")


def test_teacher_n_samples_below_classes_is_refused():
    """Fewer samples than classes leaves classes with no sample, so the model gets outputs that
    are never trained; ``spirals`` and ``blobs`` refuse it with a UserError naming
    ``n_samples`` (``_every_class_sampled``), but ``teacher`` -- the third generator, whose
    labels come from an argmax and can miss classes even more easily -- silently builds a
    10-class data set from 5 samples."""
    with pytest.raises(UserError, match="n_samples"):
        load("teacher", n_samples=5, classes=10, val_fraction=0, test_fraction=0)


def test_teacher_network_does_not_depend_on_n_samples():
    """``data_seed`` keys the data: the teacher network (the labelling function) must be the
    same whatever ``n_samples`` is, so that "more data from the same teacher" -- the basic
    student-teacher sample-size experiment -- is possible, as it is for ``blobs`` (centres drawn
    before the noise) and ``spirals``. Today ``make_teacher`` draws the N x dim inputs first and
    the weights after, from the same generator, so n_samples=1000 and 2000 give the *same*
    first 1000 inputs but a *different* random teacher: their labels agree on ~10% of them
    (chance), instead of nearly all (only the per-sample mean centring may move a few)."""
    x1, y1 = make_teacher(1000, dim=20, classes=10, hidden=64, data_seed=0)
    x2, y2 = make_teacher(2000, dim=20, classes=10, hidden=64, data_seed=0)
    assert np.array_equal(x1, x2[:1000])  # same inputs...
    agree = float((y1 == y2[:1000]).mean())
    assert agree > 0.8, f"same inputs, same data_seed, but labels agree on only {agree:.0%}"


# --------------------------------------------------------------------------- config plumbing


@pytest.mark.parametrize(
    ("option", "needle"),
    [("val_fraction: 0.2", "val_fraction"), ("seed: 3", "seed"), ("preprocess: zca", "preprocess")],
)
def test_cli_load_keywords_under_data_options_are_a_user_error(
    monkeypatch, capsys, tmp_path, option, needle
):
    """``data.options`` holds a data set's own options; putting ``val_fraction``, ``seed`` or
    ``preprocess`` there (instead of ``data.val_fraction``...) is an easy mistake that must be a
    one-line error with exit 2 (issue 3, item 8; the config already hints the reverse mistake,
    ``data.n_samples`` -> ``data.options.n_samples``). Today ``load_dataset`` passes both and
    Python raises ``TypeError: load() got multiple values for keyword argument``, a traceback."""
    cfg = _config(tmp_path, "spirals", "{n_samples: 200, " + option + "}")
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", tmp_path / "run", "--device", "cpu"
    )
    assert_user_error(code, err, needle)


# --------------------------------------------------------------------------- registry / cache


def test_loaded_tensors_do_not_alias_a_loader_array_when_val_and_test_are_given():
    """``load`` copies what a loader returns ("loaders may return cached arrays"; the built-in
    ``_cached`` relies on callers never mutating), so editing ``ds.x_train`` in place must not
    change the next ``load`` of the same set. When a registered loader gives both a val and a
    test split, the training inputs skip the fancy-index copy and ``torch.as_tensor`` shares
    the loader's float32 array: ``ds.x_train.add_(100)`` then corrupts every later load."""
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20) % 2

    @DATASETS.register("_review_cached_both", "a loader returning module-level arrays")
    def _cached_both():
        return RawData(
            x=x,
            y=y,
            x_val=x[:4].copy(),
            y_val=y[:4],
            x_test=x[:6].copy(),
            y_test=y[:6],
            num_classes=2,
        )

    try:
        a = load("_review_cached_both")
        before = a.x_train.clone()
        a.x_train.add_(100.0)
        b = load("_review_cached_both")
        assert torch.equal(b.x_train, before), "an in-place edit of one load changed the next"
    finally:
        DATASETS._entries.pop("_review_cached_both", None)


# --------------------------------------------------------------------------- mnist1d


def test_mnist1d_accepts_a_numpy_integer_n_samples(offline):
    """Every other integer data option (``n_samples``, ``dim``, ``classes``, ``data_seed`` of the
    synthetic sets, and mnist1d's own ``data_seed``) accepts numpy integers, as a notebook
    sweep ``for n in np.arange(1000, 5001, 1000)`` produces. mnist1d's ``n_samples`` alone
    checks ``isinstance(n, int)`` and refuses ``np.int64(100)`` with a wrong message:
    "n_samples must be an int >= 10, got np.int64(100)"."""
    ds = load("mnist1d", n_samples=np.int64(100))
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 100


def test_mnist1d_n_samples_is_the_number_of_samples_or_refused(offline):
    """``n_samples`` is the number of samples, as for ``spirals``/``blobs``/``teacher`` (exactly
    ``n_samples`` rows). mnist1d's ``make_dataset`` makes ``n_samples // 10`` per class, so
    ``n_samples=1234`` silently gives 1230 samples while ``ds.meta['options']`` still records
    1234. Either the loader delivers what was asked or it refuses it with a UserError naming
    ``n_samples`` (e.g. "must be a multiple of 10")."""
    try:
        ds = load("mnist1d", n_samples=1234)
    except UserError as err:
        assert "n_samples" in str(err)
        return
    total = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    assert total == 1234, f"asked for n_samples=1234, got {total} samples"
