"""Review joblib31: scikit-learn estimators of trainlab.pretrain used with joblib / threads."""

from __future__ import annotations

import threading

import numpy as np
import torch

from trainlab.pretrain import BernoulliRBM
from trainlab.pretrain.progress import _ON_PASS


def _new_thread_count() -> int:
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(torch.get_num_threads()))
    t.start()
    t.join()
    return got[0]


# trainlab.threads.torch_threads (used by every small CPU fit via small_cpu_threads) promises
# to put back "the process's default as it was before the first of several blocks", i.e. the
# count torch gives to threads created later. A pool thread (joblib's threading backend, a
# reused `with Parallel(...)` pool) that made any torch call while another thread's fit was
# running takes that fit's count, 1. If its own fit starts after the other one ended
# (_OPEN == 0), torch_threads records that inherited 1 as the process default and its
# torch.set_num_threads(1) at the end makes 1 the count of every thread created afterwards:
# later threaded torch work in the parent runs on one intra-op thread for good. The fits must
# leave the default the user set (3 here) untouched, as they do when they do not interleave.
def test_fit_on_a_thread_that_saw_another_fit_leaves_the_process_default():
    X = np.random.RandomState(0).rand(60, 16)
    orig = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        assert _new_thread_count() == 3
        go = threading.Event()
        seen: dict[str, int] = {}
        workers: list[threading.Thread] = []

        def pool_worker() -> None:
            seen["start"] = torch.get_num_threads()  # a torch call while the other fit runs
            go.wait()
            BernoulliRBM(8, n_iter=1, random_state=0).fit(X)

        def first_fit() -> None:
            def on_pass() -> None:  # start the pool worker mid-fit
                if not workers:
                    workers.append(threading.Thread(target=pool_worker))
                    workers[0].start()

            _ON_PASS.set(on_pass)
            BernoulliRBM(8, n_iter=1, random_state=0).fit(X)

        a = threading.Thread(target=first_fit)
        a.start()
        a.join()
        go.set()
        workers[0].join()
        assert torch.get_num_threads() == 3
        assert _new_thread_count() == 3  # actual: 1
    finally:
        torch.set_num_threads(orig)
