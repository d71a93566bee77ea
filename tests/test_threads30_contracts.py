"""Review threads30: trainlab's CPU thread limits (small_cpu_threads / _BlasOneThread in
src/trainlab/pretrain/_engine.py, torch_threads in src/trainlab/threads.py) next to a user's
own threadpoolctl limits and thread pools."""

from __future__ import annotations

import threading

import pytest
import threadpoolctl
import torch
from sklearn.datasets import load_digits

from conftest import blas_threads, needs_two_blas_threads, reset_blas
from trainlab.pretrain import BernoulliRBM, _engine

needs_two_torch_threads = pytest.mark.skipif(
    torch.get_num_threads() < 2, reason="needs 2+ torch intra-op threads"
)

X = load_digits().data[:200] / 16.0


def _paused_fit_thread(monkeypatch) -> tuple[threading.Thread, threading.Event, threading.Event]:
    """A thread running BernoulliRBM.fit that stops at its first pass (inside
    small_cpu_threads) until ``go`` is set; ``started`` says it got there."""
    started, go = threading.Event(), threading.Event()
    orig = _engine.CDEngine.epoch

    def epoch(self, *a, **k):
        if threading.current_thread().name == "fit-worker":
            started.set()
            go.wait(10)
        return orig(self, *a, **k)

    monkeypatch.setattr(_engine.CDEngine, "epoch", epoch)
    t = threading.Thread(
        target=lambda: BernoulliRBM(16, n_iter=1, random_state=0).fit(X), name="fit-worker"
    )
    return t, started, go


# _BlasOneThread.leave restores the BLAS count it saw when the fit began, after force-clearing
# threadpoolctl's controlling thread, whatever happened in between. A user's
# `with threadpool_limits(1, "blas")` on the main thread, open when a fit starts on a worker
# thread and closed before that fit ends, has correctly restored the pool (2 threads) on exit;
# the fit's restore then writes back the user's 1: numpy/scipy BLAS stays at 1 thread for the
# whole process for good (the very symptom commit 346413f set out to fix). Expected: the count
# the process had before the user's block. Fix: in leave, restore only when the count is still
# the 1 the fit set and no other live thread holds OpenBLAS control (someone else changed it
# since: theirs to restore).
@needs_two_blas_threads
def test_user_limit_closed_during_a_worker_fit_does_not_leave_blas_at_one(monkeypatch):
    before = blas_threads()
    threadpoolctl.OpenBLASController.clear_controlling_thread(force=True)  # as in a fresh process
    t, started, go = _paused_fit_thread(monkeypatch)
    try:
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            t.start()
            assert started.wait(10)
        go.set()
        t.join(10)
        after = blas_threads()
    finally:
        go.set()
        t.join(10)
        reset_blas(max(before))
    assert after == before


# The other order: a fit runs on a worker thread, the user opens
# `with threadpool_limits(1, "blas")` on the main thread, the fit ends while the user's block is
# still open. The fit's leave force-clears the user's control of OpenBLAS and restores the count
# from before the fit (2): the user's own limit is silently lifted inside their own block (their
# numpy products run with 2 threads). threadpoolctl promises the limit holds for the block.
# Expected: 1 inside the block until it closes. Fix: as above (do not restore over a limit
# that a live thread set after the fit's).
@needs_two_blas_threads
def test_worker_fit_ending_inside_user_limit_keeps_the_user_limit(monkeypatch):
    before = blas_threads()
    threadpoolctl.OpenBLASController.clear_controlling_thread(force=True)  # as in a fresh process
    t, started, go = _paused_fit_thread(monkeypatch)
    inside = None
    try:
        t.start()
        assert started.wait(10)
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            go.set()
            t.join(10)
            inside = blas_threads()
    finally:
        go.set()
        t.join(10)
        reset_blas(max(before))
    assert inside == [1] * len(before)


# torch_threads (src/trainlab/threads.py): torch.set_num_threads(1) in the first fit's block
# also sets the count that a thread adopts at its first torch call. A pool worker whose first
# torch call is a second fit started while the first is running records that 1 as its
# `before`; when it closes first (_OPEN still 1) it "restores" 1 for itself, and the last block
# to close only resets its own thread and the default. The worker (a ThreadPoolExecutor or
# joblib-threading worker, reused for later work) keeps 1 intra-op thread for good, where a
# fresh thread, or the same worker after serial fits, has the default (2 here). Seen in 1 run of
# 5 of two fits in ThreadPoolExecutor(2). Expected: the default. Fix: a block opened while others
# are open whose `before` equals the open blocks' n (read from the lowered default) restores
# _DEFAULT instead.
@needs_two_torch_threads
def test_second_worker_fit_does_not_leave_its_thread_at_one_torch_thread(monkeypatch):
    default = torch.get_num_threads()
    t, started, go = _paused_fit_thread(monkeypatch)
    out: dict[str, int] = {}

    def second() -> None:
        BernoulliRBM(16, n_iter=1, random_state=1).fit(X)  # first torch use of this thread
        out["after"] = torch.get_num_threads()

    try:
        t.start()
        assert started.wait(10)
        t2 = threading.Thread(target=second)
        t2.start()
        t2.join(20)
    finally:
        go.set()
        t.join(10)
    assert torch.get_num_threads() == default
    assert out["after"] == default


# a block nested on one thread (a study's cpu_threads around a fit's 1-thread block) puts back
# its outer block's count, not the process default, while the outer block is still open
def test_a_nested_block_on_one_thread_restores_the_outer_blocks_count():
    from trainlab.threads import torch_threads

    start = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with torch_threads(3):
            with torch_threads(1):
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 3
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(start)
