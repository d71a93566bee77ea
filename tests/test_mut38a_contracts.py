"""Mutation review mut38a: src/trainlab/report/html.py (render_text, tables, figures, header,
status banner, study and standard sections). Each test pins what a one-line mutant of the
module changed and the other tests left free. Expected values are hand-written HTML from the
docstrings (render_text: "#/##/### headings shown one level below the report's own headings,
paragraphs separated by blank lines, -/* bullets and 1. numbered lists (indented lines continue
an item)"; Report.add_table: "a missing key is an empty cell"; _section_summary: "unset options
and nested sections are left out", "its first six options") or CommonMark, never trainlab's
own output."""

from __future__ import annotations

from trainlab.report.html import render_text


# -- render_text: block structure ------------------------------------------------------------------
# Kills: flush_para() dropped before a heading (the paragraph moved after it), before a bullet,
# close_list() dropped before a plain line (the list swallowed the paragraph / came after it),
# `if lst != kind` -> `if lst is None` (a numbered item after bullets joined the <ul>).
def test_render_text_blocks_keep_their_order_and_kind():
    assert render_text("para\n# H") == "<p>para</p>\n<h2>H</h2>"
    assert render_text("para\n- a") == "<p>para</p>\n<ul><li>a</li></ul>"
    assert render_text("para\n- a\nb") == "<p>para</p>\n<ul><li>a</li></ul>\n<p>b</p>"
    assert render_text("- a\nb") == "<ul><li>a</li></ul>\n<p>b</p>"
    assert render_text("- a\n1. b") == "<ul><li>a</li></ul>\n<ol><li>b</li></ol>"
    assert render_text("1. a\n- b") == "<ol><li>a</li></ol>\n<ul><li>b</li></ul>"


# Kills: `if lst and line[:1].isspace()` -> without `lst` (an indented line outside a list is a
# paragraph line, not a list continuation: IndexError / lost text), and the joining space of a
# continued item dropped. Docstring: "indented lines continue an item".
def test_render_text_indented_lines():
    assert render_text("para one\n  indented more") == "<p>para one indented more</p>"
    assert render_text("- a\n  more a\n- b") == "<ul><li>a more a</li><li>b</li></ul>"


# Kills: `min(len(#) + 1, 6)` -> `min(..., 4)`. Docstring: headings are shown one level below
# the report's own: # -> h2, ## -> h3, ### -> h4, #### -> h5 (the regex takes up to four).
def test_render_text_heading_levels_one_below():
    assert render_text("# a") == "<h2>a</h2>"
    assert render_text("## b") == "<h3>b</h3>"
    assert render_text("### c") == "<h4>c</h4>"
    assert render_text("#### d") == "<h5>d</h5>"


# Kills: `len(part) > 2` -> `>= 2` in _inline (a lone `` became an empty <code></code>).
# CommonMark: an unmatched backtick string is literal text.
def test_render_text_lone_double_backtick_is_text():
    assert render_text("``") == "<p>``</p>"


# -- tables ----------------------------------------------------------------------------------------
# Kills: `tables.fmt(x) if is_num or x is None` -> `if is_num` (a missing key shown as "None"),
# `and not isinstance(x, bool)` dropped (a bool right-aligned as a number), the leading sign of
# _looks_numeric's pattern dropped ("-1.5" text left-aligned), and _cell's ValueError fallback
# narrowed (a several-element array cell raised). Docstrings: add_table "a missing key is an
# empty cell", tables.fmt "None as —"; _cell "the rest as text".
def test_table_cells_missing_bool_signed_text_and_arrays(tmp_path):
    import numpy as np

    from trainlab.report.html import Report, _table_html

    t = _table_html(["a", "b"], [[None, True], ["-1.5", "+2e-3"]])
    assert "<td>—</td>" in t and "None" not in t
    assert "<td>True</td>" in t
    assert '<td class="num">-1.5</td>' in t and '<td class="num">+2e-3</td>' in t

    rep = Report(tmp_path / "r")
    rep.add_table("t", [{"a": 1, "b": 2}, {"a": 3}])
    assert rep.sections[-1]["rows"] == [[1, 2], [3, None]]
    rep.add_table("arr", [[np.array([1, 2])]], columns=["x"])
    assert rep.sections[-1]["rows"] == [[str(np.array([1, 2]))]]


# -- a hand-written run folder (docs/ARCHITECTURE.md's files) --------------------------------------
def _run(root, *, config, models, epochs=3, done=None, nan=(), complete=True):
    """config.yaml (text), population.json, metrics.jsonl (``done`` epochs) and, if complete,
    summary.json; models is a list of override dicts, one model each (seed = index)."""
    import json

    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(config)
    pop = [
        {
            "index": i,
            "seed": i,
            "overrides": o,
            "group": ",".join(f"{k}={v}" for k, v in o.items()) or "base",
        }
        for i, o in enumerate(models)
    ]
    (root / "population.json").write_text(json.dumps({"k": len(pop), "models": pop}))
    done = epochs if done is None else done
    rows = []
    for m in pop:
        for e in range(1, done + 1):
            bad = m["index"] in nan and e == done
            v = None if bad else 1.0 / e
            rows.append({"model": m["index"], "epoch": e, "step": 10 * e, "train_loss": v,
                         "train_acc": None if bad else 0.5, "val_loss": v,
                         "val_acc": None if bad else 0.5, "test_loss": v,
                         "test_acc": None if bad else 0.5, "lr": 0.1, "grad_norm": 1.0,
                         "time": 0.1})  # fmt: skip
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if complete:
        fin = {"train_loss": 0.5, "val_loss": 0.5, "val_acc": 0.5, "test_loss": 0.5,
               "test_acc": 0.5}  # fmt: skip
        summary = {
            "name": "hand", "k": len(pop), "epochs": epochs, "device": "cpu",
            "models": [{**m, "status": "nan" if m["index"] in nan else "ok",
                        "stopped_step": 10 * done if m["index"] in nan else None,
                        "final": fin} for m in pop],
            "aggregates": {}, "groups": [],
        }  # fmt: skip
        (root / "summary.json").write_text(json.dumps(summary))
    return root


_CONFIG = (
    "name: hand\ndata:\n  name: digits\n"
    "model:\n  name: mlp\n  o1: 1\n  o2: 2\n  unset: null\n  o3: 3\n  nested:\n    x: 1\n"
    "  o4: 4\n  o5: 5\n  o6: 6\n  o7: 7\n"
    "optim:\n  name: adam\n  lr: 0.001\n  eps: 1.0e-08\ntrain:\n  epochs: 3\n"
)


def _kv(page: str) -> dict[str, str]:
    import html as html_mod
    import re

    table = page.split('<table class="kv">', 1)[1].split("</table>", 1)[0]
    return {
        html_mod.unescape(a): html_mod.unescape(b)
        for a, b in re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', table)
    }


# Kills in _header / _section_summary: `items[:6]` -> `[:5]`, `v is not None` dropped (an unset
# option shown as "unset=None"), `not isinstance(v, dict)` dropped (a nested section shown),
# "per group" for an overridden option dropped, the overridden-name short cut skipped,
# groups counted as models, and "epochs" of a complete run written "3 of 3". Docstring of
# _section_summary: "a config section's name and its first six options ...; unset (None)
# options and nested sections are left out. A key some model overrides reads per group; an
# overridden name or scheme drops the base options".
def test_header_rows_of_a_hand_written_run(tmp_path):
    from trainlab.report import build_report

    models = [{"optim.lr": lr, "model.name": n} for lr in (0.1, 0.01) for n in ("mlp", "mlp")]
    run = _run(tmp_path / "run", config=_CONFIG, models=models)
    kv = _kv(build_report(run).read_text())
    assert kv["models (K)"] == "4"
    assert kv["groups"] == "2"
    assert kv["model"] == "name per group (see the groups)"
    assert kv["optim"] == "adam, lr=per group, eps=1e-08"
    assert kv["epochs"] == "3"
    assert "run" not in kv  # (no title given: the heading is the run's name)

    run2 = _run(tmp_path / "run2", config=_CONFIG, models=[{}, {}])
    kv2 = _kv(build_report(run2).read_text())
    assert kv2["model"] == "mlp, o1=1, o2=2, o3=3, o4=4, o5=5, o6=6"
    assert kv2["groups"] == "1" and kv2["models (K)"] == "2"


def _fig():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1])
    return fig


# Kills in _status_banner: `if n_nan:` -> `if n_nan > 1:` (one NaN-stopped model called a clean
# run), and the " of N" of an incomplete run dropped; the summary caption's note on an incomplete
# run dropped (`if run.complete` -> `if True`). Hand-written expectations of the banners.
def test_status_banners_count_one_nan_model_and_say_of_planned(tmp_path):
    from trainlab.report import build_report

    run = _run(tmp_path / "nan1", config=_CONFIG, models=[{}, {}], nan=(1,))
    page = build_report(run).read_text()
    assert "Run complete; 1 model(s) stopped because the loss or gradient became NaN/Inf" in page
    assert '<div class="banner ok">' not in page

    part = _run(tmp_path / "part", config=_CONFIG, models=[{}, {}], done=2, complete=False)
    page = build_report(part).read_text()
    assert "after 2 of 3 epochs" in page
    assert _kv(page)["epochs"] == "2 of 3"
    assert "The run is incomplete: values are from the last epoch reached.</p>" in page


# Kills: the "Models stopped for NaN/Inf" list folded at 30 flags (`>` -> `>=`). Module
# docstring: more than FOLD_ROWS (30) is folded; 30 lines are shown as they are, 31 folded.
def test_nan_list_folds_beyond_thirty_models(tmp_path):
    from trainlab.report import build_report

    thirty = _run(tmp_path / "n30", config=_CONFIG, models=[{}] * 31, nan=tuple(range(30)))
    page = build_report(thirty).read_text()
    head = "<h2>Models stopped for NaN/Inf (30)</h2>"
    assert head + "<ul>" in page and "show all 30 models" not in page
    more = _run(tmp_path / "n31", config=_CONFIG, models=[{}] * 32, nan=tuple(range(31)))
    page = build_report(more).read_text()
    assert "<h2>Models stopped for NaN/Inf (31)</h2><details><summary>show all 31 models" in page


# Kills in _study_sections / _render / _figure_html: a table's caption shown only when it has a
# title, its title as <h2> (the report's own level) instead of <h3>, the banner rendered with
# include_standard=False (Report.write: "only the header and these sections are rendered"),
# <title> ignoring the report's title, the "run" row shown when the title is the run's name,
# the caption dropped from a figure's alt text, and alt's quotes left unescaped. _figure_html's
# docstring: "its alt text is alt, else the caption, else the file name".
def test_study_sections_title_caption_alt_and_no_banner(tmp_path):
    import html as html_mod

    from trainlab.report.html import Report

    run = _run(tmp_path / "run", config=_CONFIG, models=[{}, {}])
    rep = Report(run, title="hand")  # the run's name
    rep.add_table("", [[1]], columns=["x"], caption="only a caption")
    rep.add_table("Titled", [[2]], columns=["y"])
    rep.add_figure("f", _fig(), caption='say "hi" & <b>')
    page = rep.write(include_standard=False).read_text()
    assert '<p class="caption">only a caption</p>' in page
    assert "<h3>Titled</h3>" in page and "<h2>Titled</h2>" not in page
    assert "banner" not in page.split("<style>", 1)[0] + page.split("</style>", 1)[1]
    assert "<title>trainlab · hand</title>" in page
    assert "run" not in _kv(page)
    alt = html_mod.escape('say "hi" & <b>', quote=True)
    assert f'alt="{alt}"' in page

    rep2 = Report(run, title="Other title")
    rep2.add_figure("g", _fig())
    page = rep2.write(include_standard=False).read_text()
    assert "<title>trainlab · Other title</title>" in page
    assert _kv(page)["run"] == "hand"
    assert 'alt="g"' in page


# Kills: the curves' shared caption given to the accuracy figure too (the legend text twice).
# Hand expectation: the caption ("One color per override group ...") is written once, under the
# loss figure, the first of the two.
def test_curves_caption_once_under_the_loss_figure(tmp_path):
    from trainlab.report import build_report

    run = _run(tmp_path / "run", config=_CONFIG, models=[{}, {}])
    page = build_report(run).read_text()
    assert page.count("One color per override group") == 1
    i = page.index("One color per override group")
    assert page.index('alt="Training, validation and test loss') < i
    assert i < page.index('alt="Training, validation and test accuracy')


def test_render_text_leaves_products_of_words_and_numbers_as_text():
    """``_inline``'s docstring: an asterisk with a word character on its outer side is a
    product (``2*3*4``, ``x*y*z``), not emphasis; ``*word*`` between spaces is italic."""
    from trainlab.report.html import render_text

    out = render_text("a product 2*3*4 and x*y*z, and *this* is italic")
    assert "2*3*4" in out and "x*y*z" in out
    assert out.count("<em>") == 1 and "<em>this</em>" in out
