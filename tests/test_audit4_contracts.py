"""audit4: review of issue 4 (init schemes, diagnostics, studies). Each test fails on the code
as reviewed and asserts the behaviour the issue and the docs promise."""

from __future__ import annotations

import torch
from torch import nn

from conftest import run_cli


def test_hist_edges_of_a_small_hist_range_stay_distinct_and_increasing():
    # watch.py rounds hist_edges to 6 decimals (round(e, 6)): with hist_range=(-1e-6, 1e-6) the
    # records say [-1e-06, -1e-06, -1e-06, -0.0, ...] while the counts use the true edges; the
    # recorded edges must be the bins actually used (e.g. 6 significant digits, not 6 decimals)
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
    with torch.no_grad():
        m[0].weight.mul_(1e-6)
        m[0].bias.zero_()
    with watch(m, every=1, bins=10, hist_range=(-1e-6, 1e-6)) as w:
        m(torch.randn(64, 4)).sum().backward()
    edges = w.records()[0]["hist_edges"]
    expected = torch.linspace(-1e-6, 1e-6, 11, dtype=torch.float64).tolist()
    assert all(b > a for a, b in zip(edges, edges[1:], strict=False)), edges
    assert edges == [_approx(e) for e in expected]


def _approx(v: float):
    import pytest

    return pytest.approx(v, rel=1e-4, abs=1e-12)


def test_study_seeds_range_is_not_read_as_a_negative_count(monkeypatch, capsys, tmp_path):
    # `trainlab study init --seeds 0-4` (the range syntax train/diagnose --seeds accept) is parsed
    # by the int option as -4 and refused with "got -4", a number the user never typed; it must
    # either take the range like the other commands or refuse naming what was given ('0-4')
    import trainlab.studies as studies

    calls = []

    def fake_run_study(name, out, **kw):
        calls.append(kw)
        return tmp_path

    monkeypatch.setattr(studies, "run_study", fake_run_study)
    code, _out, err = run_cli(
        monkeypatch, capsys, "study", "activations", "--quick", "--seeds", "0-4",
        "--out", tmp_path / "s",
    )  # fmt: skip
    assert "-4" not in err.replace("0-4", ""), err
    if code == 0:
        assert calls and calls[0]["seeds"] in (5, [0, 1, 2, 3, 4], range(5)), calls
    else:
        assert code == 2 and "0-4" in err, (code, err)
