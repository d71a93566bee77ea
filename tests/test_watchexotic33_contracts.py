"""Review of trainlab.diagnostics.watch on plain torch models (reviewer watchexotic33)."""

from __future__ import annotations

import pickle

import torch
from torch import nn

from trainlab.diagnostics import watch

_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_pre_hooks_with_kwargs",
    "_forward_hooks_always_called",
)


def _hooks(model: nn.Module) -> list[tuple[str, str, int]]:
    return [
        (name, attr, len(getattr(mod, attr)))
        for name, mod in model.named_modules()
        for attr in _HOOK_DICTS
        if getattr(mod, attr, None)
    ]


# A model saved inside the watch block ("save the best model so far": `torch.save(model, path)`,
# or pickle.dumps(model)) carries the watch's hooks into the file as `_InertHook` objects
# (_ModuleHook.__reduce__ in src/trainlab/diagnostics/watch.py). The loaded model therefore
# (a) keeps forward hooks forever (the watch only removes hooks from the live model and from
# deep copies), (b) cannot be loaded where trainlab is not installed (ModuleNotFoundError:
# trainlab.diagnostics.watch, e.g. a deployment box), and (c) is refused by
# torch.jit.script ("'_InertHook' object has no attribute '__name__'"), while the original
# model scripts fine after the block. The hooks "always remove themselves" (README); what the
# user saves must be the plain model: no hook of the watch may end up in the saved copy.
def test_a_model_pickled_inside_the_block_carries_no_watch_hooks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(5, 4)
    with watch(model, every=1):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        saved = pickle.dumps(model)  # what torch.save(model, path) writes
    assert _hooks(model) == []
    loaded = pickle.loads(saved)
    assert b"trainlab" not in saved, "the saved model needs trainlab to be loaded"
    assert _hooks(loaded) == [], f"hooks left on the saved model: {_hooks(loaded)}"
    torch.jit.script(loaded)  # as the original model after the block
