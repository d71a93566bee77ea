"""Review of benchmarks/rbm.py (issue 6's RBM benchmark) by rbmproto33."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench():
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("rbm")


# The "scikit-learn (1 BLAS thread)" row starts its timer *before* it builds
# `threadpool_limits(1, "blas")`, which scans every loaded shared library (measured here: 14-17 ms
# on the first call, 2.4-6.5 ms afterwards, with torch loaded), and stops it after restoring the
# limits. That set-up is charged to scikit-learn's fit time only (trainlab's own engine caches its
# controller to avoid exactly this cost), a 1-3% bias on 0.25-0.5 s fits, ~6% on the one-repeat
# GPU-machine run. The timed region must hold the fit alone; here the limiter is faked to take 0.3 s
# to set up and tear down, and the fit takes no time, so the reported time must be well under 0.3 s.
def test_one_blas_thread_timing_excludes_threadpool_setup(monkeypatch):
    B = _bench()

    class SlowLimits:
        def __init__(self, *a, **k):
            time.sleep(0.15)  # threadpoolctl applies the limit in __init__

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            time.sleep(0.15)  # ... and restores it on exit
            return False

    class Instant:
        def fit(self, X):
            return self

    monkeypatch.setattr(B, "threadpool_limits", SlowLimits)
    _, seconds = B._fit(Instant, np.zeros((2, 2), np.float32), blas_one=True)
    assert seconds < 0.05, f"the fit took no time but {seconds:.3f} s was reported"
