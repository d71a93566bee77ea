"""Review of `trainlab study pretraining` (issue 6): the study's three starting points."""

from __future__ import annotations

import numpy as np
import torch

from trainlab.pretrain import arrays_dataset, fine_tune
from trainlab.studies import pretraining


def _stack(depth: int, width: int, n_in: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    dims = [n_in] + [width] * depth
    return [
        (rng.normal(size=(h, d)) * 0.1, np.zeros(h)) for d, h in zip(dims, dims[1:], strict=False)
    ]


# Wrong: with torch's default dtype set to float64 (a caller's torch.set_default_dtype), the
# study's random-init net is built by models.create without trainlab's float32_default(), so it
# is float64, while unroll() (DBN, SDAE) makes float32 nets "whatever default dtype the caller
# set". fine_tune then refuses the seed's three modules with "modules[1] is not the
# architecture of modules[0]" and `pretraining.run` crashes (reproduced end to end with a tiny
# SETTINGS["quick"]). Right: the three starting points of a seed are the same architecture in
# float32, as unroll's and the trainer's contract is, so they fine-tune as one population.
def test_random_init_net_is_float32_like_the_pretrained_ones_under_float64_default():
    stacks = {0: {"dbn": _stack(2, 8, 6), "sdae": _stack(2, 8, 6)}}
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        mods, names, keys = pretraining._modules(stacks, 0, "relu", 2, 8, 6, 3)
        dtypes = {
            name: {p.dtype for p in m.parameters()} for name, m in zip(names, mods, strict=True)
        }
        assert dtypes == {m: {torch.float32} for m in ("random", "dbn", "sdae")}, dtypes
        rng = np.random.default_rng(1)
        ds = arrays_dataset(
            rng.random((40, 6)), np.arange(40) % 3, rng.random((9, 6)), np.arange(9) % 3
        )
        summary = fine_tune(mods, ds, seeds=keys, epochs=1, batch_size=8, device="cpu")
        assert len(summary["models"]) == 3
    finally:
        torch.set_default_dtype(old)
