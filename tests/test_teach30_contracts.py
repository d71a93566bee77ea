"""Review teach30: figures a lecturer draws from trainlab's diagnostics."""

from __future__ import annotations

from trainlab.diagnostics.figures import histogram_grid


def _record(layer: str, order: int, counts: list[int], under: int, over: int) -> dict:
    edges = [-3.0 + 0.5 * i for i in range(len(counts) + 1)]
    return {
        "model": 0, "layer": layer, "step": 0, "kind": "relu", "order": order, "calls": 1,
        "act_mean": 40.0, "act_std": 25.0, "nonfinite": False,
        "hist": counts, "hist_under": under, "hist_over": over, "hist_edges": edges,
    }  # fmt: skip


# histogram_grid (src/trainlab/diagnostics/figures.py) normalises each panel by all the values
# (bins + hist_under + hist_over) but says where the values went only when *no* value is in the
# bins (`if not sum(counts)`). A layer whose outputs mostly fall outside the watch's fixed
# hist_range (default (-3, 3); e.g. the post-ReLU layer of an N(0, 1)-initialised MLP, std ~25:
# 49% over the range; a logits layer: 996 of 1000 over) is drawn as a small histogram inside
# [-3, 3] with no hint that most of the mass was clipped away, while the same layer with 0 of
# 1000 values in range gets the note "all 1000 values outside [-3, 3]". With 990 of 1000 values
# outside the range, the panel must say so too (a text naming the values outside the range).
def test_histogram_grid_says_when_most_values_fall_outside_the_range():
    inside = [0] * 12
    inside[6] = 10  # 10 values in range, 990 above it
    recs = [_record("act1", 0, inside, 0, 990)]
    fig = histogram_grid(recs)
    ax = next(a for a in fig.axes if a.axison)
    texts = " ".join(t.get_text() for t in ax.texts) + ax.get_title() + ax.get_xlabel()
    assert "outside" in texts, "the panel hides that 99% of the values lie outside its bins"


# some values are in the bins: the note never rounds their share outside up to "100%"
def test_histogram_grid_note_never_says_100_percent_outside_when_some_are_inside():
    inside = [0] * 12
    inside[6] = 2  # 2 of 1000 in range
    fig = histogram_grid([_record("act1", 0, inside, 0, 998)])
    ax = next(a for a in fig.axes if a.axison)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert ">99% of values" in texts and "100%" not in texts
