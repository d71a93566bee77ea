"""Review (practitioner34): trainlab.diagnostics attached to a plain user CNN training loop."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


class _Boom(nn.Module):
    """Raises KeyboardInterrupt (Ctrl-C) in its `at`-th training forward."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.n = at, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.n += 1
        if self.n == self.at:
            raise KeyboardInterrupt
        return x


def _net(boom_at: int | None = None) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()]
    if boom_at is not None:
        layers.append(_Boom(boom_at))
    layers += [nn.Flatten(), nn.Linear(4 * 8 * 8, 10)]
    return nn.Sequential(*layers)


def _train(model: nn.Module, steps: int, every: int) -> list[dict]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(steps * 16, 1, 8, 8, generator=g)
    y = torch.randint(0, 10, (steps * 16,), generator=g)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    try:
        with watch(model, every=every) as w:
            for s in range(steps):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(
                    model(x[s * 16 : (s + 1) * 16]), y[s * 16 : (s + 1) * 16]
                )
                loss.backward()
                opt.step()
    except KeyboardInterrupt:
        pass
    return w.records()


# trainlab/diagnostics/figures.py, layer_profile: it draws "the first and last sampled step",
# taking the last from every record's step. A Ctrl-C (or any exception) in the forward of a
# sampled step leaves records of that step with every statistic None (the step's reductions
# never ran), and layer_profile then picks that empty step as "the last", so the figure shows
# step 0 alone and the last complete sampled step (5 here, with act_std, ‖∂L/∂y‖ and update
# ratios recorded) is dropped. The last step to draw is the last one that has the statistics.
def test_layer_profile_after_interrupted_sampled_step_shows_last_complete_step() -> None:
    from trainlab.diagnostics.figures import layer_profile

    recs = _train(_net(boom_at=11), steps=20, every=5)  # forward of step 10 raises
    assert any(r["step"] == 5 and r["act_std"] is not None for r in recs)  # step 5 complete
    fig = layer_profile(recs)
    std_panel = next(a for a in fig.axes if a.get_title() == "activation std")
    labels = [ln.get_label() for ln in std_panel.get_lines()]
    assert "step 5" in labels, labels


# trainlab/diagnostics/figures.py, histogram_grid(records, steps=[...]): a step that was not
# sampled (step 7 with every=5, an easy slip) draws a silently blank row: every panel of it is
# switched off, it gets no "step 7" label and no note, and the shared x axis loses its tick
# labels; nothing says the step has no records. The same function raises a ValueError for a
# model with no records ("no histogram records for model 1"); a requested step with no
# records is the same mistake and should be refused the same way (naming the sampled steps).
def test_histogram_grid_refuses_a_step_that_was_not_sampled() -> None:
    from trainlab.diagnostics.figures import histogram_grid

    recs = _train(_net(), steps=11, every=5)  # sampled: 0, 5, 10
    assert sorted({r["step"] for r in recs}) == [0, 5, 10]
    with pytest.raises(ValueError, match="7"):
        histogram_grid(recs, steps=[0, 7])


# The README's diagnostics snippet imports the figure helpers from trainlab.diagnostics (they
# were reachable only as trainlab.diagnostics.figures.*) and saves both figures.
def test_figure_helpers_are_exported_and_save(tmp_path) -> None:
    from trainlab.diagnostics import histogram_grid, layer_profile

    recs = _train(_net(), steps=6, every=5)
    histogram_grid(recs).savefig(tmp_path / "hist.png")
    layer_profile(recs).savefig(tmp_path / "profile.png")
    assert (tmp_path / "hist.png").stat().st_size > 0 and (tmp_path / "profile.png").stat().st_size
