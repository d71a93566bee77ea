"""Review read29k: a line-by-line read of trainlab.report.html / plots / tables.

Each test fails on the code it was written against and passes once the defect is fixed.
"""

from __future__ import annotations

import re

import pytest

from trainlab.report.html import Report, render_text


# render_text (Report.add_text) renumbers the user's ordered lists: every <ol> starts at 1, so
# "2. train\n3. plot" after a paragraph reads "1. train, 2. plot" and "5. five\n6. six" reads
# "1. five, 2. six" -- the report shows numbers the author did not write. Markdown
# (CommonMark) keeps the first item's number: <ol start="2">. Expected: a list whose first item
# is N != 1 carries start="N" (and one starting at 1 needs no attribute).
def test_render_text_numbered_list_keeps_its_start_number():
    out = render_text("1. load the data\n\nA note on loading.\n\n2. train\n3. plot")
    lists = re.findall(r"<ol[^>]*>", out)
    assert len(lists) == 2
    assert 'start="2"' in lists[1]
    assert "start" not in lists[0] or 'start="1"' in lists[0]
    out = render_text("Steps:\n5. five\n6. six")
    assert re.search(r'<ol start="5">', out)


# Report.add_table(title, df) with a pandas DataFrame uses df.to_dict("records"), which drops
# the index. The most common table a study makes, a groupby summary
# (df.groupby("scheme")["acc"].agg(["mean", "std"])), keeps its row labels in the index: the
# report then shows the means and stds with no word of which scheme each row is (silent loss
# of the table's first column). pandas' own DataFrame.to_html shows the index; expected: a
# named (or non-default) index becomes the first column(s), as df.reset_index() would give.
def test_add_table_dataframe_keeps_a_named_index(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"scheme": ["he", "xavier", "he", "xavier"], "acc": [0.9, 0.8, 0.92, 0.7]})
    table = df.groupby("scheme")["acc"].agg(["mean", "std"])
    rep = Report(tmp_path / "study", title="T")
    rep.add_table("by scheme", table)
    page = rep.write(include_standard=False).read_text()
    body = page.split("<h3>by scheme</h3>", 1)[1].split("</table>", 1)[0]
    assert "<th>scheme</th>" in body
    assert "<td>he</td>" in body and "<td>xavier</td>" in body
    assert '<td class="num">0.91</td>' in body  # he: mean of 0.9 and 0.92


# plots._legend_entries (the curve/dynamics legends of a population with > 20 groups) ends with
# "… N more groups (one in ~K shown)" where K = round((n - 1) / (shown - 1)). For 21..29 groups
# K rounds to 1: "… 5 more groups (one in ~1 shown)" for 25 groups says every group is shown
# while 5 are hidden. Expected: the note never claims one in ~1 when groups are left out (e.g.
# "20 of 25 shown").
def test_legend_note_does_not_claim_every_group_shown():
    from matplotlib.lines import Line2D

    from trainlab.report.plots import _legend_entries

    n = 25
    handles = [Line2D([], []) for _ in range(n)]
    labels = [f"optim.lr={i}" for i in range(n)]
    _, out = _legend_entries(handles, labels)
    shown = len(out) - 1
    note = out[-1]
    assert shown < n
    assert f"{n - shown} more groups" in note
    assert "one in ~1 shown" not in note
