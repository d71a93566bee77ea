"""benchmarks/profile_step.py: the per-step profile table and JSON (CPU), and its argument
errors."""

import json

from conftest import run_bench


def test_profile_lists_the_steps_operators_heaviest_first(monkeypatch, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert (
        run_bench(monkeypatch, "profile_step", ["--k", "2", "--steps", "2", "--out", str(out)]) == 0
    )
    got = json.loads(out.read_text())
    assert got["meta"]["k"] == 2 and got["unit"] == "CPU time"
    ms = [r["ms_per_step"] for r in got["rows"]]
    assert ms == sorted(ms, reverse=True) and got["total_ms_per_step"] > 0
    names = {r["name"] for r in got["rows"]}
    assert {"aten::bmm", "aten::baddbmm"} <= names  # the stacked layers' matrix products
    assert abs(sum(r["share"] for r in got["rows"]) - 1.0) < 1e-9
    assert "ms of CPU time per step" in capsys.readouterr().out


def test_profile_refuses_bad_counts_in_one_line(monkeypatch, tmp_path, capsys):
    assert (
        run_bench(monkeypatch, "profile_step", ["--steps", "0", "--out", str(tmp_path / "p")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("--steps must be at least 1, got 0")
