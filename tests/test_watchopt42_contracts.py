"""watch's global optimizer-step hook remembers, per optimizer, whether it steps a watched
parameter (asked again after ``add_param_group``), without keeping an optimizer alive."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


@pytest.mark.filterwarnings("ignore:watch recorded nothing")  # (no forward: only steps)
def test_an_optimizer_that_steps_the_watched_model_is_seen_and_not_kept_alive():
    model, other = nn.Linear(3, 2), nn.Linear(3, 2)
    with watch(model, every=10**9) as w:
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        opt.step()
        assert w._opt_stepped
        w._opt_stepped = False
        dead = weakref.ref(opt)
        del opt
        gc.collect()
        assert dead() is None  # the watch held no strong reference
        # another optimizer (perhaps at the dead one's address), of another model: not ours
        foreign = torch.optim.SGD(other.parameters(), lr=0.1)
        foreign.step()
        assert not w._opt_stepped
        # the same optimizer given the watched parameters later is asked again
        foreign.add_param_group({"params": list(model.parameters())})
        foreign.step()
        assert w._opt_stepped
