"""Review synth34: built-in data sets (synthetic generators, mnist1d) and preprocessing."""

from __future__ import annotations

import contextlib
import resource

import pytest
import torch

from trainlab.data import load
from trainlab.data.preprocess import make_preprocessor
from trainlab.errors import UserError


@contextlib.contextmanager
def _address_space_cap(extra: int = 4 << 30):
    """Cap this process's address space a few GiB above what it uses now, so a code path that
    tries to allocate terabytes fails at once (MemoryError) instead of filling the machine on a
    host with memory overcommit; restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# The synthetic generators (src/trainlab/data/synthetic.py) check the type and sign of their
# size options but have no upper bound: load("spirals", n_samples=10**12) asks numpy for a
# 2.4 TiB array and surfaces a raw MemoryError (in `trainlab train` it is reported as "out of
# memory ...; train fewer or smaller models", which blames the models, not data.options); on
# a machine with overcommit a size near the RAM fills it and gets the process killed. Their
# docstrings promise "Bad arguments are a one-line UserError": a size whose arrays cannot fit
# (here 10**12 samples: terabytes) must be refused, naming the option, before allocating.
@pytest.mark.parametrize(
    "name, options",
    [
        ("spirals", {"n_samples": 10**12}),
        ("blobs", {"n_samples": 10**12}),
        ("teacher", {"n_samples": 10**12}),
    ],
)
def test_huge_synthetic_size_is_a_user_error_before_allocating(name, options):
    with _address_space_cap(), pytest.raises(UserError, match="n_samples"):
        load(name, **options)


# mnist1d (src/trainlab/data/datasets.py, _mnist1d) checks n_samples >= 10 and a multiple of
# 10 but has no upper bound, and the package's make_dataset builds its samples one by one in
# a Python loop (~0.13 ms each): n_samples=10**12 runs for years while its list of arrays
# grows until the machine runs out of memory. Such a size must be refused with a UserError
# before the generator is called (here the generator is replaced by one that fails the test).
def test_huge_mnist1d_size_is_refused_before_generating(monkeypatch):
    import mnist1d.data

    def never(*args, **kwargs):
        raise AssertionError("make_dataset was called for 10**12 samples")

    monkeypatch.setattr(mnist1d.data, "make_dataset", never)
    with pytest.raises(UserError, match="n_samples"):
        load("mnist1d", n_samples=10**12, data_seed=12345)


# Preprocessing (src/trainlab/data/preprocess.py) runs the PCA/ZCA decomposition and every
# transform under torch_threads(1) because "the last bits change with the thread count, and
# so would the preprocessed data and the sha256 that `resume` checks", but the per-feature
# statistics are computed outside it: MeanSubtraction/Standardize._fit (x.mean(0),
# x.var(0)) and the mean in _eigh_desc. For a long feature column torch splits the reduction
# over threads, so the fitted mean_/std_ (and the float64 outputs of ds.transform) differ in
# their last bits between 1 and 2 threads (1000.0000006986519 vs 1000.000000698652 here).
# The fitted state must not depend on the thread count.
@pytest.mark.parametrize("kind", ["mean", "standardize", "pca", "zca"])
def test_fitted_statistics_do_not_depend_on_thread_count(kind):
    x = (torch.arange(1_000_000, dtype=torch.float64).sin() * 3 + 1e3).reshape(-1, 1)
    before = torch.get_num_threads()
    fitted = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            tr = make_preprocessor(kind).fit(x)
            fitted.append((tr.mean_.clone(), getattr(tr, "std_", tr.mean_).clone()))
    finally:
        torch.set_num_threads(before)
    (m1, s1), (m2, s2) = fitted
    assert torch.equal(m1, m2), (m1.item(), m2.item())
    assert torch.equal(s1, s2), (s1.item(), s2.item())
