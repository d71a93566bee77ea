"""Review docstring21: public docstrings checked against what the code does."""

import contextlib

import numpy as np
import torch
from torch import nn

from trainlab.diagnostics import verdict, watch
from trainlab.report import aggregate
from trainlab.train import Trainer


def _mlp_with_dead_units(widths: tuple[int, ...], dead: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = 10
    for w in widths:
        layers += [nn.Linear(d, w), nn.ReLU()]
        d = w
    m = nn.Sequential(*layers, nn.Linear(d, 3))
    with torch.no_grad():
        for lin in list(m)[:-1]:
            if isinstance(lin, nn.Linear):  # constant output: units [0, n) at -1, the rest at +1
                lin.weight.zero_()
                lin.bias.fill_(1.0)
                lin.bias[: int(lin.out_features * dead)] = -1.0
    return m


def _records(m: nn.Module) -> list[dict]:
    torch.manual_seed(0)
    x, y = torch.randn(16, 10), torch.randint(0, 3, (16,))
    with watch(m) as w:
        for _ in range(3):
            m.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
    return w.records()


def test_watch_dead_fraction_is_the_exact_fraction_of_dead_units():
    # Wrong: watch sums float32(1/U) per dead unit (a matmul), so 10 dead of 40 units in each
    # of two ReLU layers reads 0.2500000298, not 10/40. Right: count dead units, then divide by
    # U (as stats.dead_fraction does): exactly 0.25, as the docstring's definition says.
    recs = _records(_mlp_with_dead_units((40, 40), 0.25))
    fracs = {r["dead_fraction"] for r in recs if r["dead_fraction"] is not None}
    assert fracs == {0.25}


def test_verdict_dead_relu_does_not_fire_at_exactly_the_threshold():
    # Wrong: with that rounding, a layer with exactly 25% dead units gets "dead ReLU units:
    # 25.000% > 25.000%" (warn); the verdict docstring says it fires when dead_fraction > 0.25.
    # Right: exactly 25% (and exactly 50% with {"dead": 0.5}) is ok.
    for dead in (0.25, 0.5):
        recs = _records(_mlp_with_dead_units((40, 40), dead))
        found = [f for f in verdict(recs, {"dead": dead}) if f.check == "dead_relu"]
        assert [f.status for f in found] == ["ok"], [(f.status, f.value) for f in found]


def test_aggregate_does_not_silently_drop_python_bools():
    # Wrong: aggregate([True, False, True]) leaves every value out (n=0, mean None) while
    # np.array([True, False, True]) and [1, 0, 1] give mean 2/3, n=3; the docstring says only
    # None, NaN and ±Inf are left out. Right: count bools as 1/0 (or refuse them with the
    # TypeError that other non-numbers get), never drop them silently.
    result = None
    with contextlib.suppress(TypeError):
        result = aggregate([True, False, True])
    if result is not None:
        assert result == aggregate(np.array([True, False, True]))
        assert result["n"] == 3


def test_trainer_fit_docstring_does_not_promise_a_report():
    # Wrong: Trainer.fit says the run directory "gets the checkpoints, metrics and report", but
    # fit (and trainlab.train) write no report.html (README: only the CLI / build_report does).
    # Right: the docstring says the report is built by build_report / the CLI.
    doc = Trainer.fit.__doc__ or ""
    assert "metrics and report" not in doc
