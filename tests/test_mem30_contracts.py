"""Memory / growth review (mem30): things retained after they should be freed."""

import copy
import gc
import tracemalloc
import weakref

import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.population import Population


class _Tied(nn.Module):
    """One Linear registered under two names (``self.first = self.a``), a common pattern."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.first = self.a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.first(x)


# population._ALIASED is a WeakKeyDictionary template -> "its distinct modules" and, for a
# template with a module registered under two names, that list holds the template itself
# (named_modules() starts with the root): the value keeps its own key alive, so the entry and
# the template (one model's parameters, on its device) are never freed. Every train(...,
# model=...) / Population of such a module leaks its template for the rest of the process
# (a notebook training 50 times keeps 50 templates). Once the population is gone nothing
# else refers to the template, so it must be collectable.
def test_population_of_aliased_module_frees_its_template():
    pop = Population(_Tied(), 2)
    pop(torch.randn(2, 5, 4)).sum().backward()
    tpl = weakref.ref(pop._template)
    del pop
    gc.collect()
    assert tpl() is None, "the template of a freed population is still alive (_ALIASED)"


# watch's _ModuleHook.__deepcopy__ appends (weakref to the copy's hook dict, key) to
# Watch._copied_hooks for every hook of every copy made inside the block, and nothing drops an
# entry whose copy has died until detach. A loop that deep-copies the watched model each step
# (a Reptile/MAML inner learner, a "best so far" snapshot, Lookahead) grows the watch by
# ~130 bytes per hook per copy without bound (~800 B per copy of this 3-layer net with
# every=1; 1M steps: ~800 MB). Copies that are gone need no entry: memory must stay flat.
def test_watch_does_not_grow_with_dead_deep_copies():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x = torch.randn(8, 4)
    with watch(m, every=1):
        m(x).sum().backward()
        for _ in range(100):
            copy.deepcopy(m)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(1000):
                copy.deepcopy(m)  # dropped at once
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    # without a watch the same loop grows by ~0 bytes; now ~800 kB
    assert grown < 100_000, f"{grown} bytes kept for 1000 deep copies that no longer exist"
