"""Review act31: `trainlab study activations` (CS231n activation statistics)."""

from __future__ import annotations

import json

import pytest

from trainlab.studies import activations as act


@pytest.fixture
def small_run(tmp_path, monkeypatch):
    """The study's full-mode code path at width 64 (FULL_WIDTH patched), one seed, on CPU,
    with the two figures replaced by an empty one to stay fast."""
    from trainlab.report.plots import subplots

    monkeypatch.setattr(act, "FULL_WIDTH", 64)
    monkeypatch.setattr(act, "_histogram_grid", lambda results: subplots(1, 1)[0])
    monkeypatch.setattr(act, "_std_figure", lambda results: subplots(1, 1)[0])

    def run(seeds: int):
        out = act.run(tmp_path / f"s{seeds}", quick=False, seeds=seeds, device="cpu")
        data = json.loads((out / "results.json").read_text())
        sections = json.loads((out / "report_sections.json").read_text())["sections"]
        return data, sections

    return run


# results.json stores, for every ReLU configuration, stats["saturated"] = the fraction of
# activations with |a| > 0.9 under the name "saturated" (0.49 at layer 7 for ReLU N(0, 0.05²),
# an exploding net). For ReLU that is no saturation at all (ReLU has no upper limit); the
# study's own report leaves it out for that reason ("|a| > 0.9 is no saturation for ReLU",
# the table shows —). A reader of results.json is told half the units are saturated. The
# ReLU entries must not carry a "saturated" statistic (absent, or None per layer).
def test_relu_results_json_has_no_saturated_fraction(small_run):
    data, _ = small_run(2)
    for r in data["results"]:
        if r["activation"] != "relu":
            continue
        sat = r["stats"].get("saturated")
        assert sat is None or all(a is None or a.get("mean") is None for a in sat), (
            r["init"],
            sat[-1],
        )


# With --seeds 1 every other text of the report says "one seed" (spread_text), but the caption
# of the "Fraction saturated / zero" table still reads "Mean over seeds; ...": there is one
# seed, no mean over seeds was taken. The caption must not claim a mean over seeds then.
def test_one_seed_fraction_table_caption_does_not_say_mean_over_seeds(small_run):
    _, sections = small_run(1)
    table = next(s for s in sections if s.get("title", "").startswith("Fraction saturated"))
    assert "over seeds" not in table["caption"], table["caption"]
