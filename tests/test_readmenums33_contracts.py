"""Review (readmenums33): README benchmark numbers and goal statuses against the JSON they cite."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
RESULTS = ROOT / "benchmarks" / "results"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _diag(setup: str, variant: str) -> dict:
    d = json.loads((RESULTS / "diagnostics.json").read_text())
    (row,) = [r for r in d["results"] if r["setup"] == setup and r["variant"] == variant]
    return row


# The population paragraph says the ten CPU runs of 11-23..11-29 vary "mostly because the
# tutorial loop's own rate moves between 41.8 and 54.1", yet the same sentence quotes the tenth
# of those runs with a tutorial rate of 55.6 (added in 53d542c without widening the range, which
# was written for eight runs in ff78ff1). A stated range must contain the runs it summarizes.
def test_readme_tutorial_rate_range_contains_the_quoted_tenth_run():
    text = _flat(README)
    m = re.search(r"tutorial loop's own rate moves between ([\d.]+) and ([\d.]+)", text)
    assert m, "sentence not found"
    lo, hi = float(m.group(1)), float(m.group(2))
    quoted = re.search(r"tutorial ([\d.]+) and ([\d.]+), trainlab [\d.]+ and [\d.]+\)", text)
    assert quoted, "tenth run not found"
    for rate in map(float, quoted.groups()):
        assert lo <= rate <= hi, f"tutorial rate {rate} of the quoted run outside {lo}-{hi}"


# "Every-50 sampling measured ... +0.3% to +6.2% on the K=16 population" (written on 11-28 in
# 0679d08), but the run the table cites (diagnostics.json, 11-29, CPU time) measured +0.17% for
# K=16 every 50, and the table itself prints "+0.2%": the summarized range excludes the cited run.
def test_readme_every50_k16_range_contains_the_cited_run():
    text = _flat(README)
    m = re.search(r"and \+?(-?[\d.]+)% to \+?([\d.]+)% on the K=16 population", text)
    assert m, "sentence not found"
    lo, hi = float(m.group(1)), float(m.group(2))
    measured = 100 * _diag("MLP 64-256-256-10 K=16", "every 50")["cpu_overhead"]
    assert lo <= round(measured, 1) <= hi, f"cited run's {measured:.2f}% outside {lo}-{hi}%"


# Issue 4's goal: diagnostics sampled every 50 steps cost <=5% of training time. The README's
# table (diagnostics.json) shows +8.7% on the plain MLP (13 of the 15 paired rounds above 5%;
# benchmarks/diagnostics.py itself prints "MISSED <=5%" for that row), yet the README concludes
# "the <=5% goal is met within noise". With the threshold the cited measurement does not
# meet it on that model; the README should say so (as it does for every-step sampling).
def test_readme_every50_goal_status_follows_the_cited_measurement():
    row = _diag("MLP 64-256-256-10", "every 50")
    assert row["cpu_overhead"] > 0.05  # the cited measurement
    text = _flat(README)
    assert "≤5% goal is met within noise" not in text, (
        f"README calls the every-50 goal met while its cited run measured "
        f"+{100 * row['cpu_overhead']:.1f}% (> 5%)"
    )
