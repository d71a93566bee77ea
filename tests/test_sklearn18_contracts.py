"""Review sklearn18: scikit-learn use of trainlab.pretrain (each test fails on today's code)."""

from __future__ import annotations

import threading
import warnings

import joblib
import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from trainlab.pretrain import (
    DBN,
    BernoulliRBM,
    StackedDenoisingAutoencoder,
    _engine,
    ais_log_partition,
    exact_log_partition,
)


def _unit(n=60, d=8, seed=0):
    return np.random.default_rng(seed).random((n, d))


def _blas_threads() -> list[int]:
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})


# small_cpu_threads saves/restores the process-wide BLAS limit per call: two fits on two threads
# (GridSearchCV under joblib's "threading" backend) leave numpy's BLAS at 1 thread for good;
# the process's BLAS thread count must be what it was before the fits.
def test_concurrent_fits_on_threads_restore_the_blas_thread_count(monkeypatch):
    a_in, b_in, a_done = threading.Event(), threading.Event(), threading.Event()
    real_epoch = _engine.CDEngine.epoch

    def epoch(self, *args, **kwargs):  # order the two fits: A enters, B enters, A leaves, B leaves
        if threading.current_thread().name == "fit-a":
            a_in.set()
            b_in.wait(2)
        else:
            b_in.set()
            a_done.wait(2)
        return real_epoch(self, *args, **kwargs)

    monkeypatch.setattr(_engine.CDEngine, "epoch", epoch)
    X = _unit()

    def fit(done=None):
        BernoulliRBM(4, n_iter=1, random_state=0).fit(X)
        if done is not None:
            done.set()

    before = _blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS already runs single-threaded here")
    try:
        ta = threading.Thread(target=fit, args=(a_done,), name="fit-a")
        tb = threading.Thread(target=fit, name="fit-b")
        ta.start()
        a_in.wait(2)
        tb.start()
        ta.join(10)
        tb.join(10)
        after = _blas_threads()
    finally:
        threadpool_limits(limits=max(before), user_api="blas")  # leave the process as found
    assert after == before, f"BLAS left at {after} threads after two concurrent fits"


def _mmap_loaded(est, tmp_path):
    path = tmp_path / "est.joblib"
    joblib.dump(est, path)
    return joblib.load(path, mmap_mode="r")


# unroll() (dbn.py:70-71) and partition.py:47 wrap the fitted arrays with torch.as_tensor; on an
# estimator loaded with joblib.load(mmap_mode="r") (read-only arrays) torch warns "The given NumPy
# array is not writable ... undefined behavior"; copy instead (torch.tensor), as data_tensor does.
@pytest.mark.parametrize("what", ["dbn.to_module", "sdae.to_module", "exact_log_partition", "ais"])
def test_mmap_loaded_estimators_unroll_and_score_without_a_torch_warning(what, tmp_path):
    X = _unit(40, 6)
    if what == "dbn.to_module":
        est = DBN([4, 3], n_iter=1, random_state=0).fit(X)
        call = lambda e: e.to_module(3)  # noqa: E731
    elif what == "sdae.to_module":
        est = StackedDenoisingAutoencoder([4, 3], n_iter=1, random_state=0).fit(X)
        call = lambda e: e.to_module(3)  # noqa: E731
    elif what == "exact_log_partition":
        est = BernoulliRBM(3, n_iter=1, random_state=0).fit(X)
        call = exact_log_partition
    else:
        est = BernoulliRBM(3, n_iter=1, random_state=0).fit(X)
        call = lambda e: ais_log_partition(e, n_runs=10, n_betas=20, random_state=0)  # noqa: E731
    loaded = _mmap_loaded(est, tmp_path)
    before = torch.is_warn_always_enabled()
    torch.set_warn_always(True)  # torch warns once per process otherwise
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(loaded)
    finally:
        torch.set_warn_always(before)
    msgs = [str(w.message) for w in caught if "not writable" in str(w.message)]
    assert not msgs, msgs[0]


# A DBN fitted on a DataFrame and given an ndarray warns "... but BernoulliRBM was fitted with
# feature names": the warning must name the estimator the user fitted (DBN), as its errors do.
def test_dbn_feature_name_warning_names_the_dbn():
    pd = pytest.importorskip("pandas")
    X = _unit(40, 6)
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    dbn = DBN([4, 3], n_iter=1, random_state=0).fit(df)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dbn.transform(X)
    msgs = [str(w.message) for w in caught if "feature names" in str(w.message)]
    assert msgs and all("DBN" in m for m in msgs), msgs
