"""Review of `trainlab study pretraining` (issue 6): the last claim against its own numbers."""

from __future__ import annotations

from conftest import pretraining_rows
from trainlab.studies import pretraining


def _narrows(rows: list[dict]) -> str:
    _, verdicts = pretraining._findings(rows, ["digits"], [3], [0.01, 0.1, 1.0])
    claim = next(v for v in verdicts if "the gap narrows" in v)
    return claim.rsplit("): ", 1)[1]  # the verdict after the quoted numbers


def test_gap_reversal_is_not_claimed_when_the_sigmoid_gain_is_within_noise():
    # Wrong: `trainlab study pretraining --quick` (seeds 0-2, these measured means/stds) prints
    # "with ReLU and He init the gap narrows (-19.0 ± 4.4 ReLU vs +8.8 ± 6.1 sigmoid):
    # contradicted: it reverses", though its own first claim finds the sigmoid gain
    # inconclusive (no sign to reverse) and |gain| 8.8 vs 19.0 is within noise too; right: not
    # "contradicted" (inconclusive on the gap's size, which is what the docstring defines).
    measured = {  # (mean, std) of each cell's test accuracy over 3 seeds
        ("sigmoid", 0.01, "random"): (0.49675, 0.06002),
        ("sigmoid", 0.01, "dbn"): (0.56732, 0.17020),
        ("sigmoid", 0.01, "sdae"): (0.60167, 0.04160),
        ("sigmoid", 1.0, "random"): (0.72331, 0.01402),
        ("sigmoid", 1.0, "dbn"): (0.88579, 0.00557),
        ("sigmoid", 1.0, "sdae"): (0.90622, 0.02402),
        ("relu", 0.01, "random"): (0.57846, 0.05243),
        ("relu", 0.01, "dbn"): (0.37976, 0.09505),
        ("relu", 0.01, "sdae"): (0.39647, 0.05432),
        ("relu", 1.0, "random"): (0.96100, 0.00737),
        ("relu", 1.0, "dbn"): (0.82544, 0.05711),
        ("relu", 1.0, "sdae"): (0.89044, 0.01287),
    }
    verdict = _narrows(pretraining_rows(measured, n=3))
    assert "contradicted" not in verdict, verdict


def test_gap_that_shrinks_from_10_points_to_a_1_point_loss_is_not_contradicted():
    # Wrong: pre-training +10 points (sigmoid) and -1 point (ReLU), both far outside seed noise,
    # is called "contradicted: it reverses", though the gap (|gain|, as the docstring defines it)
    # narrowed from 10 to 1 point; right: confirmed or a stated mixed result, never "contradicted".
    cells = {}
    for frac in (0.01, 1.0):
        cells[("sigmoid", frac, "random")] = (0.50, 0.002)
        cells[("sigmoid", frac, "dbn")] = cells[("sigmoid", frac, "sdae")] = (0.60, 0.002)
        cells[("relu", frac, "random")] = (0.60, 0.002)
        cells[("relu", frac, "dbn")] = cells[("relu", frac, "sdae")] = (0.59, 0.002)
    verdict = _narrows(pretraining_rows(cells, n=5))
    assert not verdict.startswith("contradicted"), verdict
