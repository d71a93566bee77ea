"""Review of today's changes (ceec0c2..HEAD): failing tests for real bugs found there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn


def test_arrays_dataset_does_not_share_memory_with_the_callers_arrays():
    """``check_arrays`` (shared by ``data.load`` and ``pretrain.arrays_dataset`` since today)
    documents that the ``x`` it returns is a copy ("loaders may cache their arrays"), but the
    train split comes back as ``np.asarray`` of the caller's array: the same memory. Through
    ``arrays_dataset`` (``torch.as_tensor`` of a float32 view) the Dataset's ``x_train`` then
    shares memory with the user's array, so editing that array afterwards (normalising it in
    place for another experiment) silently changes the training data of a Dataset built
    before."""
    from trainlab.data.datasets import check_arrays
    from trainlab.pretrain import arrays_dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = np.arange(40) % 3
    checked, _ = check_arrays("arrays", {"train": (x, y), "test": (x[:10], y[:10])}, None)
    assert not np.shares_memory(checked["test"][0], x), "test x is not a copy"
    # (the train x is the array given, as its docstring now says: data.load copies it when it
    # splits, and arrays_dataset copies it below)

    user = x.copy()
    data = arrays_dataset(user, y, x[:10], y[:10], val_fraction=0.0)
    before = data.x_train.clone()
    user[:] = 0.0  # the caller reuses their array
    assert torch.equal(data.x_train, before), "the Dataset's training inputs changed with the array"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # (torch.compile's own)
def test_watch_on_a_torch_compiled_module_does_not_crash():
    """``watch`` promises diagnostics on any ``nn.Module``; a ``torch.compile``'d model (an
    ``nn.Module``, ``OptimizedModule``) is a plausible thing to watch. Its layer-output
    gradient hooks receive ``None`` (the compiled graph does not materialise the layer
    outputs' gradients), and ``Watch._store_out_grad`` -> ``_grad_norm`` dereferences it:
    ``AttributeError: 'NoneType' object has no attribute 'dtype'`` in the middle of the
    user's backward. The step should record (``out_grad_norm`` None where no gradient came)
    or refuse the module in one clear line, never crash the training loop."""
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model = torch.compile(base, backend="aot_eager")  # (no C++ compiler needed)
    opt = torch.optim.SGD(base.parameters(), lr=0.1)
    with watch(model) as w:
        for _ in range(2):
            opt.zero_grad()
            model(torch.randn(5, 4)).pow(2).mean().backward()
            opt.step()
    assert w.records()
