"""Review sk30b: the scikit-learn estimators of trainlab.pretrain on Python threads
(joblib's threading backend, a ThreadPoolExecutor)."""

from __future__ import annotations

import threading

import numpy as np
import threadpoolctl
from sklearn.datasets import load_digits

from conftest import blas_threads, needs_two_blas_threads, reset_blas
from trainlab.pretrain import BernoulliRBM
from trainlab.pretrain._engine import small_cpu_threads


# small_cpu_threads / _BlasOneThread (src/trainlab/pretrain/_engine.py) promise that two
# blocks open at once on two Python threads (GridSearchCV's threading backend) leave the
# process-wide BLAS limit as it was when the last one closes. threadpoolctl (3.8 here) lets
# only the first thread that set an OpenBLAS (pthreads) limit change it again while that
# thread lives; the limiter is never entered as a context manager, so that thread keeps
# control. When block A (first in) closes before block B and A's thread stays alive (a pool
# worker), B's restore is a silent no-op: numpy/scipy BLAS stays at 1 thread for the whole
# process for good (seen after `cross_val_score(..., n_jobs=2)` under
# `joblib.parallel_backend("threading")` in 1 run of 3). Expected: the original count back.
@needs_two_blas_threads
def test_blas_limit_restored_after_overlapping_blocks_on_two_threads():
    before = blas_threads()
    # as in a fresh process whose main thread has not fitted yet (an earlier fit in this
    # process, e.g. a conftest fixture's, made the main thread the owner, which hides it)
    threadpoolctl.OpenBLASController.clear_controlling_thread(force=True)
    a_in, b_in = threading.Event(), threading.Event()
    a_out, done = threading.Event(), threading.Event()

    def first() -> None:
        with small_cpu_threads(True):
            a_in.set()
            b_in.wait(10)  # both blocks open
        a_out.set()
        done.wait(10)  # stays alive, as a pool worker does

    def second() -> None:
        a_in.wait(10)
        with small_cpu_threads(True):
            b_in.set()
            a_out.wait(10)  # closes after the first block

    ta, tb = threading.Thread(target=first), threading.Thread(target=second)
    try:
        ta.start()
        tb.start()
        tb.join(10)
        after = blas_threads()
    finally:
        done.set()
        ta.join(10)
        reset_blas(max(before))
    assert after == before


# The same root cause, seen from the results: the thread that first ran a fit (here the main
# thread) keeps control of OpenBLAS, so a fit on any other thread runs its BLAS products with
# the whole pool instead of the single thread small_cpu_threads promises, and gets other
# float32 roundings (7e-8 here after 2 passes, growing with training). A fit's result must not
# depend on which Python thread runs it: `cross_validate(n_jobs=1)` and the threading backend
# should fit the same models, and a main-thread fit should not change once a worker thread
# has fitted. Expected: identical components.
@needs_two_blas_threads
def test_fit_on_worker_thread_equals_fit_on_main_thread():
    X = load_digits().data[:400] / 16.0

    def fit() -> np.ndarray:
        return BernoulliRBM(64, n_iter=2, random_state=0, batch_size=100).fit(X).components_

    before = max(blas_threads())
    try:
        main = fit()
        out: dict[str, np.ndarray] = {}
        t = threading.Thread(target=lambda: out.setdefault("worker", fit()))
        t.start()
        t.join(30)
    finally:
        reset_blas(before)
    np.testing.assert_array_equal(out["worker"], main)
