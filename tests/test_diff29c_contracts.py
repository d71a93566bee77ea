"""diff29c review of 3fa6b17..e8c200d: report add_table's DataFrame index, make_teacher's dead
teacher check, optimizers-2d's 'leaves again'."""

from __future__ import annotations

import json

import pytest

from trainlab.errors import UserError


# What is wrong: Report.add_table (report/html.py) now skips resetting an index level whose
# name is also a column, assuming the column holds the index's values (set_index(..., drop=False)).
# A groupby counting its own key, df.groupby("cls")["cls"].count().to_frame(), has the index
# 'cls' (the labels cat, dog) and a column 'cls' (the counts 2, 1): the labels are silently
# dropped and the table shows one column 'cls' of counts, read as if they were the classes.
# Expected: the group labels appear in the table (add_table's docstring: "its index as the first
# columns"), e.g. by skipping a level only when the column equals it, else resetting it under a
# distinct name (reset_index(allow_duplicates=True) or a renamed level).
def test_add_table_index_named_like_a_column_with_other_values_is_kept(tmp_path):
    pd = pytest.importorskip("pandas")
    from trainlab.report.html import Report

    raw = pd.DataFrame({"cls": ["cat", "cat", "dog"]})
    counts = raw.groupby("cls")["cls"].count().to_frame()  # index cls: labels; column cls: counts
    rep = Report(tmp_path, title="t")
    rep.add_table("per class", counts)
    cells = [str(c) for row in rep.sections[-1]["rows"] for c in row]
    assert "cat" in cells and "dog" in cells, rep.sections[-1]


# What is wrong: make_teacher (data/synthetic.py) now judges a dead teacher only on the reference
# draw and no longer refuses a teacher that labels every *sample* one class. A near-dead teacher
# (dim=2, hidden=[2, 2, 2], data_seed=195: 3 of the 8192 reference inputs in class 0) labels all
# 5000 samples class 1. make_teacher returns that one-class set, against its own docstring ("so
# is a teacher that labels every sample one class" a one-line UserError), and
# trainlab.data.load("teacher", ...) then fails with "every training label is 1 ...: check the
# label file(s)" -- there is no label file; before the change the message said a dead ReLU
# teacher, pass another data_seed, wider hidden layers or a larger dim. Expected: a UserError
# naming the teacher's remedy (data_seed), e.g. by refusing a reference draw whose minority
# classes are vanishingly rare, or all-one-class samples from such a teacher.
def test_near_dead_teacher_is_refused_with_the_teacher_remedy():
    from trainlab.data.synthetic import make_teacher

    with pytest.raises(UserError, match="data_seed"):
        make_teacher(n_samples=5000, dim=2, classes=2, hidden=[2, 2, 2], data_seed=195)


# What is wrong: e8c200d made 'leaves again' flag any run that leaves the tolerance after its
# reported step, even if it comes back and converges, but the table's title still explains the
# flag as "a constant LR keeps it hovering around the minimum". Momentum 0.9 (lr 0.1) and
# Nesterov on the quadratic, Adam, momentum and Nesterov on the saddle are flagged and converge
# to the minimum (final gap ~1e-27 or 0 in the quick study): heavy-ball overshoot, not hovering.
# Expected: the report does not tell the reader that runs which end at the minimum hover around
# it: a run flagged 'leaves again' ends outside the tolerance, and one that overshoots and comes
# back says from which step it stays ('back to stay at N').
def test_optimizers_2d_leaves_again_is_not_explained_as_hovering_for_converged_runs(
    tmp_path, monkeypatch
):
    import trainlab.studies.optimizers_2d as m

    monkeypatch.setattr(m, "QUICK_STEPS", 150)  # (the same flags as 600 steps, 3 s)
    out = m.run(tmp_path / "o2d", quick=True)
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    table = next(s for s in sections if s["kind"] == "table")
    hovering, back = [], []
    for row in table["rows"]:
        label = row[0]
        for fname, cell in zip(table["columns"][1:], row[1:], strict=True):
            cell = str(cell)
            if "leaves again" not in cell and "back to stay" not in cell:
                continue
            lr = float(cell.split("(lr ")[1].split(")")[0].split(",")[0])
            name, hp, _ = m.OPTIMIZERS[label]
            fn = m.FUNCTIONS[fname]
            path = m.trajectories(fn, name, hp, [lr], 150)
            gap = float(fn.f(path[-1])[0]) - fn.f_min
            (hovering if "leaves again" in cell else back).append((fname, label, lr, gap))
    assert back, "no run overshot and came back: the premise of this test changed"
    assert all(gap <= m.TOL for *_, gap in back), back  # they end at the minimum
    assert all(gap > m.TOL for *_, gap in hovering), hovering  # 'leaves again': ends outside
