"""Review of 8b5cc8b: defects it introduced or left half-done (see each test's comment)."""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from conftest import LazyCalib
from trainlab.diagnostics import watch
from trainlab.errors import UserError
from trainlab.population import Population


def test_loop_population_lazy_init_matches_separate_models_after_the_first_forward():
    # Wrong: every model sets calib from its own batch, but the template keeps the last one's,
    # so from the 2nd forward on models 0..K-2 silently use model K-1's calib (unstack too).
    # Right: per-model values (as K separate models) or a UserError refusing per-model state.
    torch.manual_seed(0)
    models = [LazyCalib() for _ in range(3)]
    alone = copy.deepcopy(models)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population.from_models(models)
        xs = torch.randn(2, 3, 5, 4)
        try:
            outs = [pop(xs[0]), pop(xs[1])]
        except UserError:
            return
    for s, out in enumerate(outs):
        for i in range(3):
            assert torch.allclose(out[i], alone[i](xs[s][i]), atol=1e-6), (s, i)


class _Counter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 8), nn.Linear(8, 3)
        self.s = nn.Parameter(torch.ones(1))  # (own parameter: vmap mode)
        self.n = 0  # a step counter the forward advances

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.n += 1
        return self.b(torch.relu(self.a(x))) * self.s * (1.0 + 0.1 * self.n)


def _counter_run(watched: bool) -> tuple[int, list[torch.Tensor]]:
    torch.manual_seed(0)
    pop = Population(_Counter(), k=3)
    opt = torch.optim.SGD(pop.parameters(), lr=0.1)
    xs = torch.randn(3, 3, 5, 4, generator=torch.Generator().manual_seed(1))
    outs = []
    w = watch(pop, every=1)
    if watched:
        w.__enter__()
    for s in range(3):
        out = pop(xs[s])
        outs.append(out.detach())
        out.sum().backward()
        opt.step()
        opt.zero_grad()
    if watched:
        w.__exit__(None, None, None)
    return pop._template.n, outs


def test_watch_rerun_leaves_a_vmap_populations_python_counters():
    # Wrong: _rerun_vmap calls the template K more times per sampled step and puts back only
    # the dropout counters, so a counter moves 1+K times (n=12, not 3) and watch changes the
    # training. Right: snapshot/restore _python_state around the re-run, as the population does.
    n0, plain = _counter_run(False)
    n1, watched = _counter_run(True)
    assert n1 == n0 == 3, (n0, n1)
    assert all(torch.allclose(a, b) for a, b in zip(plain, watched, strict=True))


def test_watch_of_a_stacked_population_layer_absent_from_the_template_is_no_attribute_error():
    # Wrong: _refuse_scripted looks up the net's layer names in the template, but a stacked
    # net's _Fold adds '<name>.inner' (AttributeError). Right: records, or a UserError naming it.
    torch.manual_seed(0)
    pop = Population(nn.Sequential(nn.Linear(4, 8), nn.Flatten(), nn.Linear(8, 3)), k=2)
    assert pop.mode == "stacked"
    try:
        with watch(pop, layers=["1.inner"]) as w:
            pop(torch.randn(2, 5, 4)).sum().backward()
    except UserError:
        return
    assert {r["layer"] for r in w.records()} == {"1.inner"}
