"""Review of report.html well-formedness (htmloffline32)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from trainlab.report.html import Report, render_text

_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "source"}


class _Nesting(HTMLParser):
    """Records every close tag that does not match the innermost open one."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: D401
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]
        else:
            self.stack.pop()


def _nesting_errors(fragment: str) -> list[str]:
    p = _Nesting()
    p.feed(fragment)
    p.close()
    return p.errors + [f"<{t}> never closed" for t in p.stack]


# render_text (report/html.py, _inline/_em) applies **bold** first, then *italic*; _em only
# refuses an italic span whose inner text has *unequal* counts of <strong> and </strong>. An
# italic span that starts inside one bold span and ends inside the next has one </strong> and
# one <strong> (equal counts, wrong order), so it is accepted and the tags cross:
# "<strong>a <em>b</strong> c <strong>d</em> e</strong>", which is not well-formed HTML (a
# browser's recovery closes/reopens elements unpredictably). _em's own docstring promises
# "left as text, so that the tags nest"; the rendered fragment must nest properly (the fix:
# accept the span only when, scanning left to right, no </strong> comes before its <strong>).
@pytest.mark.parametrize(
    "text",
    [
        "**a *b** c **d* e**",
        "***SGD** diverges at lr 1, **Adam* does not**",
    ],
)
def test_render_text_bold_italic_tags_nest(text: str) -> None:
    out = render_text(text)
    assert _nesting_errors(out) == [], out


# The same defect reaches report.html through the public Report.add_text (and a table caption):
# the whole written report must be well-formed.
def test_report_with_crossing_emphasis_is_well_formed(tmp_path) -> None:
    rep = Report(tmp_path / "run", title="t")
    rep.add_text("***SGD** diverges at lr 1, **Adam* does not**")
    rep.add_table("x", rows=[{"a": 1}], caption="**a *b** c **d* e**")
    path = rep.write(include_standard=False)
    doc = path.read_text(encoding="utf-8")
    assert _nesting_errors(doc) == []
