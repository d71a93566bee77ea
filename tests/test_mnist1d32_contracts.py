"""Review mnist1d32: the ``mnist1d`` data set (src/trainlab/data/datasets.py, ``_mnist1d``)."""

from __future__ import annotations

import threading
import time

import pytest
import torch

pytest.importorskip("mnist1d")


# The mnist1d generator draws every sample from numpy's *global* generator (its make_dataset
# calls np.random.seed(args.seed), then np.random.rand/randn/choice per sample), and
# ``_mnist1d`` runs it (and saves/restores that global state) without any lock. Two threads
# that load mnist1d at once (e.g. two trainings in one process under a threading backend)
# interleave their draws on the one global generator, so each gets data that is neither its
# data_seed's set nor reproducible: the data depends on thread timing, against the promise that
# a data_seed fixes the data. The transform is slowed (1 ms per sample) only to make the
# interleaving certain rather than likely; it changes no draw. Expected: each thread's arrays
# equal the ones the same data_seed gives when loaded alone (fix: a module-level lock around
# the cache look-up and make() in _mnist1d).
def test_mnist1d_concurrent_loads_in_threads_give_each_seeds_own_data(monkeypatch):
    import mnist1d.data as mdata

    from trainlab.data import datasets as D

    seeds = (101, 102)
    monkeypatch.setattr(D, "_CACHE", type(D._CACHE)())
    alone = {}
    for s in seeds:
        ds = D.load("mnist1d", n_samples=100, data_seed=s)
        alone[s] = (ds.x_train.clone(), ds.x_test.clone(), ds.y_test.clone())
    D._CACHE.clear()

    real = mdata.transform

    def slow(*args, **kwargs):
        time.sleep(0.001)  # (lets the other thread run between two samples' draws)
        return real(*args, **kwargs)

    monkeypatch.setattr(mdata, "transform", slow)
    out, errors = {}, []

    def go(s):
        try:
            ds = D.load("mnist1d", n_samples=100, data_seed=s)
            out[s] = (ds.x_train, ds.x_test, ds.y_test)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=go, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for s in seeds:
        for a, b in zip(out[s], alone[s], strict=True):
            assert torch.equal(a, b), f"data_seed={s}: the threaded load gave other data"
