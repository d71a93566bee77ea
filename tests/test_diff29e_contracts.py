"""Review diff29e: Report.add_table with pandas frames (duplicate column names, an index that
is a column already)."""

from __future__ import annotations

import math

import pytest

pd = pytest.importorskip("pandas")

from trainlab.report.html import Report, _table_html  # noqa: E402


def _section(tmp_path, rows, **kw):
    rep = Report(tmp_path / "run")
    rep.add_table("t", rows, **kw)
    return rep.sections[-1]


# What is wrong: report/html.py add_table turns a frame with duplicate column names into rows
# with `rows.values.tolist()`. `.values` of a frame whose columns are int64 and float64 is one
# float64 array, so every integer column becomes float: a count 12345 is stored as 12345.0 and
# rendered "1.234e+04" (4 significant digits: the count is shown wrong), and an int above 2**53
# (a seed) loses its last digits. The same frame with unique names goes through
# to_dict("records"), which keeps each column's dtype and shows 12345. Expected: the cells
# keep their column's type, as for a frame without duplicates (fix: build the rows per column,
# e.g. `[list(t) for t in rows.itertuples(index=False, name=None)]`).
def test_duplicate_column_frame_keeps_integer_cells(tmp_path):
    df = pd.DataFrame([[12345, 3, 0.5], [7, 4, 0.25]], columns=["n", "n", "acc"])
    sec = _section(tmp_path, df)
    assert sec["columns"] == ["n", "n", "acc"]
    assert sec["rows"] == [[12345, 3, 0.5], [7, 4, 0.25]]
    assert all(type(r[0]) is int and type(r[1]) is int for r in sec["rows"]), sec["rows"]
    html = _table_html(sec["columns"], sec["rows"])
    assert ">12345<" in html and "e+04" not in html, html


# What is wrong: with dict rows and with a frame of unique names, add_table's `columns` picks
# and orders the columns by name (columns=["b", "a"] shows b's values under "b"). A frame with
# duplicate names instead becomes positional lists, and `columns` only relabels them: a frame
# with columns a, a, b and values 1, 2, 3 given columns=["b", "a", "a"] shows 1 under "b" and
# 3 under "a" -- b's number under another header, silently. (columns=["b"] raises "row 0 has 3
# cells but there are 1 columns", which blames the rows.) Expected: the header "b" holds b's
# value 3 (select by name as for other frames), or the call is refused; never a relabel.
def test_duplicate_column_frame_with_columns_does_not_relabel(tmp_path):
    df = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"])
    try:
        sec = _section(tmp_path, df, columns=["b", "a", "a"])
    except ValueError:  # a refusal is acceptable (UserError is a ValueError)
        return
    row = sec["rows"][0]
    b = [v for c, v in zip(sec["columns"], row, strict=True) if c == "b"]
    a = sorted(v for c, v in zip(sec["columns"], row, strict=True) if c == "a")
    assert b == [3], (sec["columns"], row)
    assert a == [1, 2], (sec["columns"], row)


# What is wrong: _index_as_columns drops an index level only when `list(col) == values`; with a
# NaN in the key column (set_index("wd", drop=False), "wd" missing for some rows) NaN != NaN, so
# the level is judged different and kept as an extra column "wd (index)" -- the same values
# twice. pandas itself counts NaN as equal here (Index.equals / Series.equals). Expected: the
# level equal to its column is dropped, as without the NaN: columns ["wd", "acc"].
def test_index_equal_to_its_column_with_a_nan_is_not_repeated(tmp_path):
    df = pd.DataFrame({"wd": [1e-4, math.nan], "acc": [0.9, 0.8]}).set_index("wd", drop=False)
    sec = _section(tmp_path, df)
    assert sec["columns"] == ["wd", "acc"], sec["columns"]
    assert len(sec["rows"][0]) == 2
