"""Review read29ah: devices, threads, malloc (and the CPU side of cuda_graphs)."""

from __future__ import annotations

import threading

import pytest
import torch

import trainlab.malloc
from trainlab.errors import UserError
from trainlab.studies import run_study
from trainlab.threads import torch_threads


def _fresh_thread_count() -> int:
    """torch's intra-op thread count that a newly started thread gets (the process default)."""
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(torch.get_num_threads()))
    t.start()
    t.join()
    return got[0]


# What is wrong: torch.set_num_threads writes a process-wide default (the count every thread
# started later initializes itself with) as well as the calling thread's OpenMP count, so
# torch_threads is not "per thread" as pretrain._engine._BlasOneThread's docstring says. Two
# blocks on two Python threads (GridSearchCV's threading backend fitting two BernoulliRBMs,
# each inside small_cpu_threads -> torch_threads(1)) where the second thread initializes its
# count while the first block is open read "before" = 1; the first block then restores 3 and
# the second restores 1 for good: every thread started afterwards runs torch on one thread
# (seen with real BernoulliRBM fits under joblib's threading backend, 1 run in 3). Expected:
# once all blocks have ended, a new thread gets the count it got before (3 here).
def test_torch_threads_overlapping_blocks_on_two_threads_restore_process_default():
    original = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        default = _fresh_thread_count()
        assert default == 3
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

        def first() -> None:
            with torch_threads(1):
                a_in.set()
                assert b_in.wait(5)
            a_out.set()

        def second() -> None:
            assert a_in.wait(5)
            with torch_threads(1):  # this thread's first torch call: the block is open
                b_in.set()
                assert a_out.wait(5)

        ta, tb = threading.Thread(target=first), threading.Thread(target=second)
        ta.start()
        tb.start()
        ta.join()
        tb.join()
        assert _fresh_thread_count() == default
    finally:
        torch.set_num_threads(original)


# What is wrong: an invalid TRAINLAB_KEEP_FREED_MEMORY ("any other value is an error",
# trainlab.malloc) is only noticed when the first CPU Trainer is built, which a study does
# after claiming its --out. `trainlab study init --quick --out st` with the variable set to
# "maybe" prints the error but leaves st/ (with a .lock), and running it again with the
# variable fixed is refused: "run directory st already exists". run_study refuses a bad
# --device before any folder is made; a bad value of this variable is an input error of the
# same kind and should be refused before the folder is made too (expected: UserError, no st/).
def test_study_refuses_bad_keep_freed_memory_env_before_making_its_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINLAB_KEEP_FREED_MEMORY", "maybe")
    monkeypatch.setattr(trainlab.malloc, "_done", None)  # as in a fresh process
    out = tmp_path / "st"
    with pytest.raises(UserError, match="TRAINLAB_KEEP_FREED_MEMORY"):
        run_study("init", out, quick=True, device="cpu")
    assert not out.exists()
