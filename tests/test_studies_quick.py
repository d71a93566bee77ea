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
