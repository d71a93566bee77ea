"""Review diff29: today's changes (population cap, YAML name hint, watch's later backward)."""

import pytest
import torch
from torch import nn

from trainlab.config import parse_config
from trainlab.diagnostics import watch
from trainlab.errors import UserError


# config.PopulationConfig._not_too_many always ends with "list fewer values in
# population.grid", also when the population has no grid at all and the count comes from
# seeds x variants (--seeds 0-99999 on a config with 2 variants: "grid 1 make 200000 models ...
# list fewer values in population.grid"). The advice names a section the user did not write;
# expected: it points at what made the count (fewer seeds / variants), not at an empty grid.
def test_model_cap_without_grid_does_not_tell_to_shorten_the_grid():
    raw = {
        "population": {
            "seeds": list(range(50_001)),
            "variants": [{"optim.lr": 0.1}, {"optim.lr": 0.2}],
        }
    }
    with pytest.raises(UserError) as err:
        parse_config(raw, source="cfg.yaml")
    msg = str(err.value)
    assert "100000" in msg  # refused, as it must be (100,002 models)
    assert "fewer values in population.grid" not in msg


# config._format_error's new hint for a YAML value that is not a string prints the *parsed*
# value: `name: 0x10` says "quote it in YAML ('16')", `name: 1e3` "('1000.0')", `name: -.5`
# "('-0.5')". Following the hint renames the run to something the user never wrote. Expected:
# the hint either quotes the text as written ('0x10') or gives no value; never '16'.
def test_quote_hint_does_not_suggest_a_different_name(tmp_path):
    from trainlab.config import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: 0x10\n")
    with pytest.raises(UserError) as err:
        load_config(cfg)
    msg = str(err.value)
    assert "quote" in msg
    assert "'16'" not in msg


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.ha = nn.Linear(8, 1)
        self.hb = nn.Linear(8, 1)

    def forward(self, x):
        h = self.act(self.trunk(x))
        return self.ha(h), self.hb(h)


# watch._grads_done (commit 421791c) re-reads at a later backward of one forward only the
# parameters whose .grad was None at the first backward. With optimizer.zero_grad(
# set_to_none=False) (a common choice, and the only one before torch 2.0) the head hb, which
# only the second loss reaches, has a zeroed .grad at the first backward: it is read there as
# grad_norm 0.0 and never again, although hb.grad is ~20 when the optimizer steps and its
# out_grad_norm (from the second loss) is ~3.7. The doc promises "the first [backward] that
# reached the layer". Expected: hb's grad_norm equals ‖hb.grad‖ as set_to_none=True gives it.
# (Fix idea: note each .grad's _version at the step's forward; a parameter whose .grad did not
# move in a backward was not reached by it and is left for a later one.)
def test_later_backward_reads_head_with_zeroed_not_none_grads():
    torch.manual_seed(0)
    m = _TwoHeads()
    opt = torch.optim.SGD(m.parameters(), lr=1e-3)
    x = torch.randn(16, 4)
    with watch(m) as w:
        for _ in range(3):
            opt.zero_grad(set_to_none=False)
            a, b = m(x)
            a.pow(2).mean().backward(retain_graph=True)
            (b - 1).pow(2).mean().backward()
            want = torch.cat([p.grad.flatten() for p in m.hb.parameters()]).norm().item()
            opt.step()
    hb = next(r for r in w.records() if r["step"] == 2 and r["layer"] == "hb")
    assert want > 1.0
    assert hb["grad_norm"] == pytest.approx(want, rel=1e-5)
