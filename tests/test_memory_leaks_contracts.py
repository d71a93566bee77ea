"""Memory and resource leaks over long or repeated use: a notebook sweep of in-memory runs with
diagnostics, a sweep over generated data sets, and watches kept after their block ends.

Each test measures what a user would see grow (live tensors and their bytes, traced numpy
memory) through public entry points only, with tiny models and few steps."""

from __future__ import annotations

import gc
import importlib
import tracemalloc
import warnings

import torch
from torch import nn

from conftest import small_config
from trainlab.diagnostics import watch
from trainlab.population import Population

train_mod = importlib.import_module("trainlab.train")


def _live_tensors() -> list[torch.Tensor]:
    """Every tensor the garbage collector can see (after a full collection)."""
    gc.collect()
    out = []
    with warnings.catch_warnings():  # isinstance() on torch's deprecated aliases warns
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            try:
                if isinstance(obj, torch.Tensor):
                    out.append(obj)
            except Exception:  # noqa: BLE001 - a lazy proxy that fails isinstance()
                pass
    return out


def _live_bytes(exclude: set[int] = frozenset()) -> int:
    """Bytes of the distinct storages of all live tensors, less those in ``exclude``
    (storage data pointers)."""
    seen: set[int] = set(exclude)
    total = 0
    for t in _live_tensors():
        try:
            storage = t.untyped_storage()
            ptr = storage.data_ptr()
        except RuntimeError:  # a fake or functional tensor (torch.compile caches): no memory
            continue
        if ptr in seen or storage.nbytes() == 0:
            continue
        seen.add(ptr)
        total += storage.nbytes()
    return total


def test_in_memory_training_with_diagnostics_stays_flat_per_step(monkeypatch, tmp_path):
    """``trainlab.train(config, write=False)`` with ``train.diagnose_every`` set must keep a
    flat memory over a long run, as a written run does (DESIGN.md: diagnostics memory "stays
    flat over long runs"; the watch's summaries are popped once per epoch). Today the trainer
    pops the watch's records only when it has a run directory to append them to
    (``Trainer._fit``: ``if run is not None: ... w.pop_records()``), so an in-memory run keeps
    every sampled step's summaries until it ends: here ~12 more live tensors per step, growing
    linearly with the run's length (K × layers × 62 histogram floats per step), and then throws
    them all away, since ``RunResult`` returns no diagnostics. A notebook sweep of in-memory
    runs with diagnostics on grows without bound in the run length for nothing. A written run
    of the same config stays flat (the control below)."""
    counts: list[int] = []
    real_epoch = train_mod.Trainer.train_epoch

    def counting_epoch(self, *args, **kwargs):
        rows = real_epoch(self, *args, **kwargs)
        counts.append(len(_live_tensors()))
        return rows

    monkeypatch.setattr(train_mod.Trainer, "train_epoch", counting_epoch)
    cfg = small_config(train={"epochs": 6, "batch_size": 128, "diagnose_every": 1})
    train_mod.train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    written = list(counts)
    counts.clear()
    train_mod.train(cfg, write=False, progress=False, device="cpu")
    in_memory = list(counts)
    assert written[-1] - written[1] <= 10, f"control: a written run grew {written}"
    assert in_memory[-1] - in_memory[1] <= 10, (
        f"live tensors after each epoch of an in-memory run with diagnose_every=1: {in_memory} "
        f"(a written run: {written})"
    )


def test_mnist1d_cache_does_not_keep_every_generated_set():
    """Loading ``mnist1d`` with one ``data_seed`` after another (a sweep over data sets, or a
    learning curve over ``n_samples``, in one notebook) must not keep every set it ever made
    in memory. The in-process cache (``data/datasets.py`` ``_CACHE`` / ``_cached``) is keyed by
    ``(n_samples, data_seed, shuffle_seq)``, never evicts, and states no bound, although
    ``data/synthetic.py`` explains that the synthetic sets are *not* cached because a cached
    set "would pin" its memory; so every distinct mnist1d set stays for the life of the
    process (at the default 5000 samples ~1 MB each; a sweep of 1000 seeds pins ~1 GB). A
    cache for repeated loads of one set needs a few entries (``CACHE_ENTRIES``), not all of
    them: once it is full, more sets leave nothing behind."""
    from trainlab import data

    def load(seed: int) -> int:
        d = data.load("mnist1d", n_samples=500, data_seed=seed)
        size = sum(
            t.numel() * t.element_size()
            for t in (d.x_train, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test)
        )
        del d
        gc.collect()
        return size

    from trainlab.data import datasets

    base_seed = 913_000  # seeds no other test loads
    tracemalloc.start()
    try:
        one_set = load(base_seed)
        for i in range(1, datasets.CACHE_ENTRIES + 1):  # the cache is full from here on
            load(base_seed + i)
        before = tracemalloc.get_traced_memory()[0]
        n_more = 6
        for i in range(n_more):
            load(base_seed + 100 + i)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(datasets._CACHE) <= datasets.CACHE_ENTRIES
    assert grown < 2 * one_set, (
        f"{n_more} more distinct mnist1d sets left {grown / 1e3:.0f} kB behind "
        f"(one set: {one_set / 1e3:.0f} kB): every generated set is kept"
    )


def test_a_detached_watch_does_not_keep_a_copy_of_the_parameters():
    """After its ``with`` block ends (``detach()``) and its records are popped, a watch the
    user still holds (``with watch(model) as w: ...`` at a notebook's top level, to read
    ``w.records()`` later) must not keep buffers it can no longer use. Today it keeps
    ``_snapshot``, the update-ratio copy of each parameter's subset (the whole parameter for
    parameters of at most ``UPDATE_SAMPLE`` = 32768 entries per model, so here a full second
    copy of the model), for as long as ``w`` lives: ``detach()`` drops the pending step's
    version list and the deferral buffers but not the snapshot (diagnostics/watch.py
    ``Watch.detach``). For a population of K models on a GPU that is K × up to 32768 floats per
    parameter held by a watch that can no longer measure anything."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 64), nn.ReLU(),
                          nn.Linear(64, 10))  # fmt: skip
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    before = _live_bytes(params)
    with watch(model, every=1) as w:
        for _ in range(3):
            loss = model(torch.randn(4, 64)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    records = w.pop_records()
    assert records
    del loss, records
    opt.zero_grad(set_to_none=True)
    held = _live_bytes(params) - before
    assert held < 0.25 * param_bytes, (
        f"a detached watch with its records popped still holds {held / 1e3:.0f} kB of tensors "
        f"(the model's parameters: {param_bytes / 1e3:.0f} kB)"
    )


def test_a_vmap_population_forward_that_raises_does_not_keep_its_batch():
    """A training forward that raises (a loop that skips a batch that ran out of memory and
    goes on, as the watch's own tests do for plain models) must not leave a copy of its input
    batch behind in a watch of a vmap-mode population. The watch clones each sampled step's
    batch to re-run it model by model (``_Sample.input``), and a raised forward's sample is
    dropped in ``Watch._pre_forward`` by clearing its ``outputs``, ``raw`` and ``pending``, but
    not its ``input``: every failed step keeps a (K, B, ...) copy of its batch alive in
    ``w._samples``, even after ``w.records()`` and after the block has ended, until
    ``pop_records()``."""

    fail = [False]  # (the population runs a copy of the template: a flag outside it)

    class Mixer(nn.Module):  # cumsum over the classes: not a stackable layer, so vmap mode
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 10)
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.act(self.fc(x.flatten(1))).cumsum(-1)
            if fail[0]:
                raise RuntimeError("CUDA out of memory (simulated)")
            return y

    pop = Population(Mixer(), 3)
    assert pop.mode == "vmap"
    opt = torch.optim.SGD(pop.parameters(), lr=0.01)
    batch_shape = (3, 257, 64)  # a shape nothing else here has
    with watch(pop, every=1) as w:
        for s in range(8):
            fail[0] = s % 2 == 1
            try:
                out = pop(torch.randn(batch_shape))
            except RuntimeError:
                continue
            opt.zero_grad()
            out.pow(2).mean().backward()
            opt.step()
        fail[0] = False
    w.records()
    del out
    kept = sum(tuple(t.shape) == batch_shape for t in _live_tensors())
    assert kept == 0, f"{kept} copies of the 4 failed steps' batches are still alive"


def test_in_memory_training_returns_its_diagnostics():
    """``train(cfg, write=False)`` with ``train.diagnose_every`` gives the records a run would
    write to diagnostics.jsonl on ``RunResult.diagnostics`` (they were dropped)."""
    from conftest import small_config
    from trainlab.train import train

    cfg = small_config(train={"epochs": 2, "diagnose_every": 5}, population={"seeds": [0, 1]})
    res = train(cfg, write=False, progress=False, device="cpu")
    steps = {r["step"] for r in res.diagnostics}
    assert steps and all(s % 5 == 0 for s in steps)
    assert {r["model"] for r in res.diagnostics} == {0, 1}
    assert train(small_config(), write=False, progress=False, device="cpu").diagnostics == []
