"""Review of report.html as a document (reviewer report30)."""

from __future__ import annotations

from html.parser import HTMLParser

from trainlab.report.html import render_text


class _Nesting(HTMLParser):
    """Records end tags that do not close the innermost open element (misnested HTML)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]
        else:
            self.stack.pop()


def _misnested(fragment: str) -> list[str]:
    p = _Nesting()
    p.feed(fragment)
    p.close()
    return p.errors + [f"<{t}> never closed" for t in p.stack]


# render_text (src/trainlab/report/html.py, _inline) turns **bold** into <strong> and then
# *italic* into <em> with two independent regex passes, so emphasis spans that overlap in the
# text give overlapping tags: '*a **b* c**' renders '<em>a <strong>b</em> c</strong>' — invalid
# HTML in a study's text section or figure caption (browsers repair it differently). The report
# promises valid, self-contained HTML for any text a study adds; the markdown renderer must emit
# well-nested tags (CommonMark renders this as '<em>a **b</em> c**': a closed <em>, literal **).
def test_render_text_overlapping_emphasis_is_well_nested():
    for text in ("*a **b* c**", "**a *b** c*", "see *Table 1 **and* row 2**"):
        out = render_text(text)
        assert _misnested(out) == [], (text, out)
