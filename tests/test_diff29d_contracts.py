"""Review diff29d: add_table's DataFrame path, the teacher's one-class message."""

from __future__ import annotations

import warnings

import pytest

from trainlab.errors import UserError


# What is wrong: Report.add_table turns a DataFrame into rows with ``to_dict("records")``
# (src/trainlab/report/html.py). With duplicate column names (``pd.concat([a, b], axis=1)`` of two
# frames that both have ``acc``) that keeps only the last column of each name: pandas warns
# "DataFrame columns are not unique, some columns will be omitted" and the table silently shows
# one ``acc`` column of the two (data loss). Expected: every column of the frame is a column of
# the table, with its own values (e.g. rows from ``frame.values.tolist()`` and the columns from
# ``frame.columns`` when they are not unique).
def test_add_table_keeps_every_column_of_a_frame_with_duplicate_names(tmp_path):
    pd = pytest.importorskip("pandas")
    from trainlab.report.html import Report

    frame = pd.concat(
        [pd.DataFrame({"acc": [1, 2]}), pd.DataFrame({"acc": [3, 4]})], axis=1
    )  # two columns named "acc"
    rep = Report(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep.add_table("t", frame)
    sec = rep.sections[-1]
    assert sec["columns"] == ["acc", "acc"]
    assert sec["rows"] == [[1, 3], [2, 4]]


# What is wrong: _index_as_columns (src/trainlab/report/html.py) renames an index level whose
# name collides with a column ("x" -> "x (index)"), but it tests ``str(name) in frame.columns``:
# an index named 0 (int) next to a column 0 (int) is not seen as a collision, the level becomes
# a column "0" and the table's header reads "0", "0", "1" -- the reader cannot tell the index
# from the column. Expected: distinct headers (the level renamed, e.g. "0 (index)"), every value
# kept.
def test_add_table_index_named_0_next_to_column_0_gets_a_distinct_header(tmp_path):
    pd = pytest.importorskip("pandas")
    from trainlab.report.html import Report

    frame = pd.DataFrame({0: [1, 2, 3], 1: [4, 5, 6]})
    frame.index = pd.Index([10, 20, 30], name=0)
    rep = Report(tmp_path)
    rep.add_table("t", frame)
    sec = rep.sections[-1]
    assert len(sec["columns"]) == 3
    assert len(set(sec["columns"])) == 3, sec["columns"]
    assert sorted(sec["rows"][0]) == [1, 4, 10]


# What is wrong: 45b01d3 refuses a teacher that puts over 99% of its reference draw in one class
# because such a teacher "gave one-class samples and a 'label file' message"; a teacher below
# 99% with a small n_samples still does. load("teacher", n_samples=20, dim=2, classes=2,
# hidden=[2, 2, 2], data_seed=32) (94.6% of the reference draw class 1) and a balanced teacher
# at n_samples=5 (dim=20, data_seed=3) both fail in datasets._check_classes with "every training
# label is ...: check the label file(s)" -- a synthetic data set has no label file. Expected:
# either a data set, or a UserError that names the teacher's own knobs (n_samples / data_seed)
# and not a label file.
@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 20, "dim": 2, "classes": 2, "hidden": [2, 2, 2], "data_seed": 32},
        {
            "n_samples": 5,
            "dim": 20,
            "classes": 2,
            "data_seed": 3,
            "val_fraction": 0,
            "test_fraction": 0,
        },
    ],
)
def test_teacher_one_class_training_sample_does_not_blame_a_label_file(kwargs):
    from trainlab.data import load

    try:
        load("teacher", **kwargs)
    except UserError as err:
        msg = str(err)
        assert "label file" not in msg, msg
        assert "n_samples" in msg or "data_seed" in msg, msg
