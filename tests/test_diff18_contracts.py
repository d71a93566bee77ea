"""diff18 review: defects in the changes of 92e988b..HEAD."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from conftest import Killed, kill_after_checkpoint, small_config


# _engine._SingleThreaded restores torch's thread count from whichever thread leaves last, but
# torch.set_num_threads acts on the calling thread (OpenMP ICV): a thread that entered first and
# left first stays at 1 intra-op thread for good; right: every thread gets its own count back.
def test_small_cpu_threads_restores_the_torch_threads_of_a_thread_that_left_first():
    from trainlab.pretrain._engine import small_cpu_threads

    before = torch.get_num_threads()
    if before < 2:
        pytest.skip("torch already runs one intra-op thread here")
    inside, main_left = threading.Event(), threading.Event()

    def worker():
        with small_cpu_threads():
            inside.set()
            main_left.wait(5)

    t = threading.Thread(target=worker)
    try:
        with small_cpu_threads():  # main enters first ...
            t.start()
            inside.wait(5)
        main_left.set()  # ... and leaves first; the worker leaves last
        t.join(10)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert after == before, f"the main thread was left at {after} torch threads (was {before})"


# datasets.load now refuses data.test_fraction != 0.2 for a set with its own test split, also
# when resume re-reads the config.yaml of a run written before the change (where the value was
# accepted and ignored): such a run can no longer be resumed and the error says to edit the
# run's config; right: the refusal is for new configs, resume continues the run as it started.
def test_resume_of_a_run_written_with_test_fraction_on_a_set_with_its_own_split(
    tmp_path, monkeypatch
):
    from trainlab.runs import RunDir
    from trainlab.train import resume, train

    r = np.random.RandomState(0)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=r.randn(96, 8).astype("float32"), y_train=r.randint(0, 3, 96),
             x_test=r.randn(24, 8).astype("float32"), y_test=r.randint(0, 3, 24))  # fmt: skip
    cfg = small_config(data={"name": "npz", "options": {"path": str(path)}, "test_fraction": 0.3},
                       train={"epochs": 2, "batch_size": 32})  # fmt: skip
    from trainlab.data import datasets

    out = tmp_path / "run"
    orig = kill_after_checkpoint(monkeypatch, 1)
    monkeypatch.setattr(datasets, "DEFAULT_TEST_FRACTION", 0.3)  # the run as written before
    with pytest.raises(Killed):  # 51e49bf (test_fraction accepted, ignored)
        train(cfg, out=out, progress=False, device="cpu")
    monkeypatch.setattr(datasets, "DEFAULT_TEST_FRACTION", 0.2)  # today's code resumes it
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    resume(out, progress=False, device="cpu")
    assert (out / "summary.json").exists()


# run_pretrain(PretrainConfig(), sets=...) applies the sets to a dump with every key of the old
# model.kind filled in, so `model.kind=sdae` is refused (model.n_components does not apply),
# while the CLI's `trainlab pretrain --set model.kind=sdae` (config None: the same defaults)
# accepts it; right: both give the sdae config.
def test_run_pretrain_sets_on_a_default_config_object_switch_the_kind_as_the_cli_does(
    tmp_path, monkeypatch
):
    from trainlab.pretrain import run as pretrain_run
    from trainlab.pretrain.run import PretrainConfig, load_pretrain_config, run_pretrain

    sets = ["model.kind=sdae", "model.layers=[4]", "train.n_iter=1"]
    assert load_pretrain_config(None, sets).model.kind == "sdae"  # the CLI's path
    seen = []

    class _Resolved(Exception):
        pass

    def data(cfg):  # the resolved config reaches the data step: stop there (no training)
        seen.append(cfg)
        raise _Resolved

    monkeypatch.setattr(pretrain_run, "_data", data)
    with pytest.raises(_Resolved):
        run_pretrain(PretrainConfig(), out=tmp_path / "r", sets=sets)
    assert seen[0].model.kind == "sdae"
