"""Review diff34e: watch() after 81606d9/27fd723 (accumulated updates, `.data` updates)."""

from __future__ import annotations

import gc

import torch
from torch import nn

from trainlab.diagnostics import watch


# In a manual SGD loop through `.data` that zeroes gradients in place (`p.grad.zero_()`, or
# `zero_grad(set_to_none=False)`), `_accumulating` reads every pending step as still
# accumulating (its `.grad` is not None), although a `.data` update already moved it (the value
# comparison found it; no version counter moved, so `_finish_update` never ends the step). Each
# new sample then takes the pending one and its whole `waiting` list (`sample.waiting =
# [old, *old.waiting]`): with every=1 the list grows by one per step, so every sample of the
# run stays referenced (pop_records() frees nothing: 400 live samples after 400 popped steps)
# and each forward runs a torch.where over all of them (per-step cost grows linearly; 2000
# steps went from ~0.45 ms to ~17 ms per step). Before 81606d9 one sample stayed alive. A step
# whose `.data` update was seen is not accumulating into a later update: expected only the
# pending sample (and not the popped history) to stay alive.
def test_data_loop_with_in_place_zeroed_grads_does_not_keep_every_sample_alive():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    w = watch(m, every=1)
    with w:
        for _ in range(200):
            ((m(x) - y) ** 2).mean().backward()
            for p in m.parameters():
                p.data -= 0.05 * p.grad
                p.grad.zero_()
            w.pop_records()
        gc.collect()
        live = sum(type(o).__name__ == "_Sample" for o in gc.get_objects())
    assert live <= 3, f"{live} watch samples still alive after pop_records()"


# Same root cause, a wrong number: a Population (K=3, stacked) trained by a manual `.data` SGD
# loop with `p.grad.zero_()`, model 1 frozen (lr 0) for steps 0-2 while models 0 and 2 move,
# then lr 0.1 from step 3. Every earlier step stays in the pending chain, and
# `_finish_update`'s torch.where replaces each still-zero model row with the latest difference,
# so model 1 reads step 3's ratio (0.00834) at steps 0, 1 and 2. Its parameters did not change
# at those steps (θ_s − θ_{s+1} = 0 exactly for that model), and the step was an update (the
# other models moved; no gradient accumulation), so the ratio is 0 — what 81606d9~1 recorded.
def test_population_model_frozen_at_early_steps_reads_zero_not_a_later_update():
    torch.manual_seed(0)
    from trainlab.population import Population

    pop = Population(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), 3)
    x, y = torch.randn(3, 16, 4), torch.randn(3, 16, 2)
    with watch(pop, every=1) as w:
        for s in range(5):
            lr = torch.tensor([0.1, 0.0 if s < 3 else 0.1, 0.05])
            ((pop(x) - y) ** 2).mean().backward()
            for p in pop.parameters():
                p.data -= lr.view(-1, *[1] * (p.dim() - 1)) * p.grad
                p.grad.zero_()
    got = {(r["step"], r["model"]): r["update_ratio"] for r in w.records() if r["layer"] == "0"}
    assert [got[(s, 1)] for s in range(3)] == [0.0, 0.0, 0.0]
    assert got[(3, 1)] > 0 and got[(0, 0)] > 0
