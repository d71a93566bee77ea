"""Adversarial review of devices and threads: ``trainlab.devices``, ``trainlab.threads``,
``trainlab.malloc``, ``trainlab.studies.cells.cpu_threads``, the ``--device`` options of the
CLI and of the benchmark scripts, and results that must not depend on process-wide settings
(the caller's default dtype)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import assert_user_error, run_bench, run_cli, small_config

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

SMALL = (
    "name: review\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 1, batch_size: 64}\n"
    "population: {seeds: [0]}\n"
)


# ----------------------------------------------------------------------------- cpu_threads
@pytest.mark.parametrize("device, cuda_present", [("cpu", True), ("cpu:0", False)])
def test_cpu_threads_limits_threads_whenever_the_study_trains_on_the_cpu(
    monkeypatch, device, cuda_present
):
    """``studies.cells.cpu_threads(device, n)`` promises "On the CPU, train with ``n`` intra-op
    threads" (the optimizers, clipping and preprocessing studies rely on it: 23.4 s vs 4.2 s in
    its own measurement). It decides "on the CPU" by comparing the *string* with
    ``("cpu", "auto")`` and requiring ``not torch.cuda.is_available()``: so ``--device cpu`` on
    a machine that has a GPU (the usual reason to say ``cpu`` explicitly), or ``--device cpu:0``
    (which ``resolve_device`` accepts), trains on the CPU with torch's default thread pool. The
    init study gets this right (``resolve_device(device).type == "cpu"``). Only
    ``torch.cuda.is_available`` is patched here; no CUDA kernel runs."""
    from trainlab.studies.cells import cpu_threads

    if cuda_present:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with cpu_threads(device, 1):
            inside = torch.get_num_threads()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert inside == 1, (
        f"cpu_threads({device!r}, 1) left {inside} threads while training on the CPU "
        f"(CUDA present: {cuda_present})"
    )


# ----------------------------------------------------------------------------- lr-find --device
def test_lr_find_bad_device_writes_nothing(monkeypatch, capsys, tmp_path):
    """``trainlab lr-find CONFIG --out plots/sub/lr.png --device gpu`` is refused with one line
    and exit 2, but ``_png`` creates the ``--out`` folder (``make_folder(out.parent)``) before
    the device is checked inside ``lr_find``, so the refused command leaves ``plots/sub/``
    behind. Every other command (train, diagnose, study, pretrain, demo) checks the device
    before it makes any folder; a refused command must not touch the disk."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    for extra in (["--steps", "5"], ["--population", "2"]):  # (--steps: the range test's)
        code, _, err = run_cli(
            monkeypatch, capsys, "lr-find", cfg, *extra,
            "--out", "plots/sub/lr.png", "--device", "gpu",
        )  # fmt: skip
        assert_user_error(code, err, "gpu")
        assert not (tmp_path / "plots").exists(), (
            f"lr-find {' '.join(extra)} --device gpu was refused but left "
            f"{sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / 'plots').rglob('*'))}"
        )


# ----------------------------------------------------------------------------- benchmarks
_SMALL_BENCH = {
    "optim": ["--k", "2", "--rounds", "1", "--reps", "1", "--model", "linear"],
    "diagnostics": ["--steps", "50", "--rounds", "1", "--k", "0", "--width", "8"],
}


@pytest.mark.parametrize("script", ["optim", "diagnostics"])
def test_bench_device_mps_is_one_line_exit_2(monkeypatch, capsys, tmp_path, script):
    """``benchmarks/_args.require_device`` refuses names torch cannot parse and ``cuda``
    without CUDA, but passes any other device type torch parses: ``--device mps`` (a Mac
    user's first guess) on this build, or ``xpu``/``meta``, go through and the script dies
    with ``RuntimeError: PyTorch is not linked with support for mps devices`` deep inside the
    first variant. trainlab's own ``resolve_device`` refuses them ("unknown device 'mps'; use
    auto, cpu or cuda"); the benchmark should do the same with ``ap.error`` (exit 2)."""
    out = tmp_path / "o.json"
    got = run_bench(
        monkeypatch, script, [*_SMALL_BENCH[script], "--device", "mps", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert got == 2, f"{script}.py --device mps: {got!r} instead of a one-line error"
    assert "Traceback" not in err and "mps" in err.strip().splitlines()[-1]
    assert not out.exists()


@pytest.mark.parametrize("script", ["optim", "diagnostics"])
def test_bench_negative_threads_is_one_line_exit_2(monkeypatch, capsys, tmp_path, script):
    """``benchmarks/optim.py`` and ``diagnostics.py`` take ``--threads N`` ("0: torch's
    default"). A negative value is passed straight to ``torch.set_num_threads`` and the user
    gets ``RuntimeError: set_num_threads expects a positive integer`` as a traceback; the
    scripts check their other counts with ``require_counts`` (``ap.error``, exit 2) and should
    check this one the same way."""
    out = tmp_path / "o.json"
    got = run_bench(
        monkeypatch, script, [*_SMALL_BENCH[script], "--threads", "-1", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert got == 2, f"{script}.py --threads -1: {got!r} instead of a one-line error"
    assert "Traceback" not in err and "threads" in err.strip().splitlines()[-1]
    assert not out.exists()


# ----------------------------------------------------------------------------- malloc env var
@pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only"
)
@pytest.mark.parametrize("value", ["false", "off", "no"])
def test_keep_freed_memory_env_var_is_not_silently_inverted(monkeypatch, value):
    """``TRAINLAB_KEEP_FREED_MEMORY=0`` leaves malloc alone (README, ``trainlab.malloc``). The
    code compares the value with the exact string ``"0"``, so a user who writes the equally
    natural ``=false`` / ``=off`` / ``=no`` to switch it off gets the opposite: malloc's
    thresholds are raised for the rest of the process, silently. A value it does not
    understand must either switch the feature off or be refused with a clear error, never be
    read as "on". (``mallopt`` is stubbed here: the process's malloc is not touched.)"""
    import trainlab.malloc as m

    calls: list[tuple[int, int]] = []

    class _Libc:
        @staticmethod
        def mallopt(option, value_):
            calls.append((option, value_))
            return 1

    monkeypatch.setattr(m, "_done", None)
    monkeypatch.setattr(m.ctypes, "CDLL", lambda *_a, **_k: _Libc())
    monkeypatch.setenv("TRAINLAB_KEEP_FREED_MEMORY", value)
    try:
        kept = m.keep_freed_memory()
    except ValueError:  # a clear refusal (UserError is a ValueError) is fine too
        return
    assert not kept and not calls, (
        f"TRAINLAB_KEEP_FREED_MEMORY={value} was read as 'on': mallopt called {calls}"
    )


# ----------------------------------------------------------------------------- default dtype
def test_train_does_not_depend_on_the_callers_default_dtype(tmp_path, default_float64):
    """``trainlab.train`` from a script or notebook that set
    ``torch.set_default_dtype(torch.float64)`` (common in scientific code) fails: the model is
    built under the caller's default (float64 parameters) while the data is float32, and the
    user is told "shape mismatch: the model does not accept data 'digits' of shape (1, 8, 8)
    ... check the model's settings", which points at the wrong thing. A model's result depends
    only on its config and seed (DESIGN principle 2); the RBM and DBN estimators already give
    bitwise the same result under either default. Fix: build the model (and any other tensors
    made with the default dtype) under float32, e.g. ``torch.set_default_dtype`` inside a
    restore-on-exit context, or cast the template to the data's dtype."""
    from trainlab.train import train

    cfg = small_config(train={"epochs": 1})
    got = train(cfg, write=False, device="cpu", progress=False).summary
    torch.set_default_dtype(torch.float32)
    want = train(cfg, write=False, device="cpu", progress=False).summary
    assert [m["final"] for m in got["models"]] == [m["final"] for m in want["models"]]


def test_stacked_dae_does_not_depend_on_the_callers_default_dtype(default_float64):
    """``StackedDenoisingAutoencoder.fit`` under ``torch.set_default_dtype(torch.float64)``
    dies with a raw ``RuntimeError: mat1 and mat2 must have the same dtype, but got Float and
    Double`` (``_train_layer``: the weights follow the default dtype, the data is float32),
    while ``BernoulliRBM`` and ``DBN`` fit the same data to bitwise the same result under
    either default. A scikit-learn–style estimator must not depend on a process-wide torch
    setting the user made for unrelated code."""
    from trainlab.pretrain import StackedDenoisingAutoencoder

    x = np.random.RandomState(0).rand(40, 8)

    def fit():
        return StackedDenoisingAutoencoder(layers=[6, 3], n_iter=1, random_state=0).fit(x)

    got = fit().transform(x)
    torch.set_default_dtype(torch.float32)
    want = fit().transform(x)
    np.testing.assert_array_equal(got, want)
