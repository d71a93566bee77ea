"""Review hist32: statistics watch records checked by hand (fractions at the verdict thresholds)."""

import torch
from torch import nn

from trainlab.diagnostics import Thresholds, verdict, watch


def _records(net: nn.Module, steps: int = 3) -> list[dict]:
    x = torch.randn(4, 1, generator=torch.Generator().manual_seed(0))
    with watch(net) as w:
        for _ in range(steps):
            net.zero_grad()
            net(x).sum().backward()
    return w.records()


# Wrong: saturated_fraction is a float32 mean, so exactly 1 of 5 saturated outputs (20%) is
# recorded as 0.20000000298 and the verdict's "more than 20%" (`> Thresholds.saturated`, 0.2 by
# default) fires on a layer that is exactly at, not above, the threshold, with the
# self-contradictory message "20.000% in '1' > 20.000%". Expected: a layer with exactly 20% of
# its outputs saturated (|tanh| > 0.99 for unit 0 of 5, every sample) is "ok", as README's
# "more than 20%" says (fix: record the fraction as count/n in float64, or compare in float32).
def test_exactly_20_percent_saturated_is_not_more_than_20_percent():
    lin = nn.Linear(1, 5)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.copy_(torch.tensor([5.0, 0.0, 0.0, 0.0, 0.0]))  # tanh(5) = 0.99991: saturated
    recs = _records(nn.Sequential(lin, nn.Tanh()))
    fracs = [r["saturated_fraction"] for r in recs if r["layer"] == "1"]
    assert len(fracs) == 3
    sat = next(f for f in verdict(recs) if f.check == "saturation")
    assert sat.status == "ok", sat.message


# Same defect for dead_fraction with a user threshold: 3 of 10 ReLU units dead on every sample
# is 30% (float32 division gives 0.30000001192); with Thresholds(dead=0.3) the documented rule
# is "more than" the threshold, so exactly 30% must not warn (it does: "30.000% > 30.000%").
def test_exactly_at_a_user_dead_threshold_is_not_above_it():
    lin = nn.Linear(1, 10)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.fill_(1.0)
        lin.bias[:3] = -1.0  # units 0..2 are <= 0 on every sample: 3/10 dead
    recs = _records(nn.Sequential(lin, nn.ReLU()))
    dead = next(f for f in verdict(recs, thresholds=Thresholds(dead=0.3)) if f.check == "dead_relu")
    assert dead.status == "ok", dead.message
