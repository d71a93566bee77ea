"""Every study's real ``trainlab study NAME --quick``, unmodified, as a user runs it (issues 4-6:
quick modes run in CI). The other study tests shorten the quick settings to test details fast;
these runs catch what only the real quick settings show. ``activations`` and ``init`` run their
real quick modes in tests/test_studies_init.py."""

from __future__ import annotations

import json
import time

import pytest

from conftest import run_cli


@pytest.mark.parametrize(
    "name", ["optimizers-2d", "optimizers", "preprocessing", "clipping", "pretraining"]
)
def test_the_real_quick_study_runs_and_reports(name, tmp_path, monkeypatch, capsys):
    out = tmp_path / name
    t0 = time.perf_counter()
    code, stdout, err = run_cli(
        monkeypatch, capsys, "study", name, "--quick", "--device", "cpu", "--out", out
    )
    seconds = time.perf_counter() - t0
    assert code == 0, err[-2000:]
    assert (out / "report.html").is_file()
    assert f"report: {out / 'report.html'}" in stdout  # where the claims are, as train says
    if name != "pretraining":  # (its claims are text: no count)
        assert "claims, by verdict: " in stdout
    results = [p for p in out.glob("*.json") if p.name in ("results.json", "summary.json")]
    assert results, sorted(p.name for p in out.iterdir())
    for path in results:
        json.loads(path.read_text())  # valid JSON, also where runs diverged
    html = (out / "report.html").read_text()
    assert "literature" in html.lower() or "expected" in html.lower()
    if name in ("optimizers", "preprocessing", "clipping"):  # the trainer-based studies
        sections = json.loads((out / "report_sections.json").read_text())["sections"]
        claims = [s for s in sections if s["kind"] == "table" and "Expected" in s["title"]]
        assert claims and claims[0]["rows"], "each study states expected vs measured"
        assert any(s["kind"] == "figure" for s in sections)
    print(f"{name} --quick: {seconds:.1f} s")  # shown with pytest -s; no timed assertion


def test_a_studys_claims_are_counted_by_verdict(tmp_path):
    """``trainlab study`` ends with one line counting its claims by verdict (the claims table of
    its report), so that a student sees the outcome without opening report.html."""
    import json

    from trainlab.studies import claims_summary

    rows = [
        {"claim": "a", "literature": "x", "measured": "y", "verdict": "confirmed"},
        {"claim": "b", "literature": "x", "measured": "y", "verdict": "inconclusive (noise)"},
        {"claim": "c", "literature": "x", "measured": "y", "verdict": "confirmed"},
    ]
    sections = [
        {"kind": "table", "title": "Setup", "columns": ["k", "v"], "rows": [["a", "b"]]},
        {"kind": "table", "title": "Expected (literature) vs measured",
         "columns": list(rows[0]), "rows": [list(r.values()) for r in rows]},
    ]  # fmt: skip
    (tmp_path / "report_sections.json").write_text(json.dumps({"sections": sections}))
    assert claims_summary(tmp_path) == "claims, by verdict: confirmed 2, inconclusive 1"
    sections[1] = {"kind": "table", "title": "Claims: literature vs measured",
                   "columns": ["claim", "holds"], "rows": [["a", "yes"], ["b", "no"]]}  # fmt: skip
    (tmp_path / "report_sections.json").write_text(json.dumps({"sections": sections}))
    assert claims_summary(tmp_path) == "claims, by holds: yes 1, no 1"
    (tmp_path / "report_sections.json").write_text(json.dumps({"sections": sections[:1]}))
    assert claims_summary(tmp_path) is None  # (no claims table: pretraining's are text)
    assert claims_summary(tmp_path / "missing") is None
