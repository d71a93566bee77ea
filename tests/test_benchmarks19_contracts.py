"""Review (benchmarks19) of benchmarks/: option checks and what the JSON records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import run_bench

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


class _Ran(Exception):
    """Raised by a stubbed heavy step: the script went past its argument checks."""


# diagnostics.py --width is never checked: -3 is a torch traceback (negative dimension), 0 times a
# degenerate "MLP 64-0-0-10" and writes JSON; it should be one line naming --width, exit 2.
@pytest.mark.parametrize("width", ["-3", "0"])
def test_diagnostics_non_positive_width_is_one_line_exit_2(monkeypatch, capsys, tmp_path, width):
    import diagnostics as D

    def ran(*a, **k):
        raise _Ran

    monkeypatch.setattr(D, "make_runner", ran)  # past the checks: a width 0 run would time this
    out = tmp_path / "d.json"
    argv = ["--steps", "50", "--rounds", "1", "--k", "0", "--width", width, "--out", str(out)]
    got = run_bench(monkeypatch, "diagnostics", argv)
    err = capsys.readouterr().err
    assert got == 2, f"--width {width}: {got!r} instead of a one-line error"
    assert "--width" in err and "Traceback" not in err
    assert not out.exists()


# rbm.py --acc-seeds -1 is not checked: the whole RBM table runs, then statistics.mean([]) dies
# with a StatisticsError traceback and no JSON; it should be refused (exit 2) before any fit.
def test_rbm_negative_acc_seeds_is_refused_before_fitting(monkeypatch, capsys, tmp_path):
    import rbm as R

    def ran(*a, **k):
        raise _Ran

    monkeypatch.setattr(R, "rbm_table", ran)
    out = tmp_path / "r.json"
    got = run_bench(monkeypatch, "rbm", ["--no-dbn", "--acc-seeds", "-1", "--out", str(out)])
    err = capsys.readouterr().err
    assert got == 2, f"--acc-seeds -1: {got!r} instead of a one-line error before fitting"
    assert "--acc-seeds" in err
    assert not out.exists()


# rbm.json compares trainlab with scikit-learn but records only torch's version: the
# scikit-learn version the ratios were measured against should be in its "machine" record.
def test_rbm_json_records_the_scikit_learn_version(monkeypatch, tmp_path):
    import sklearn

    import rbm as R

    def table(repeats):
        rows = []
        for bs in (10, 100):
            for lib in ("scikit-learn", "scikit-learn (1 BLAS thread)", "trainlab"):
                rows.append({"library": lib, "batch_size": bs, "fit_s_median": 0.5,
                             "fit_s_all": [0.5], "test_acc": 0.9})  # fmt: skip
        rows.append({"library": "raw pixels", "batch_size": None, "fit_s_median": None,
                     "test_acc": 0.8})  # fmt: skip
        return rows

    monkeypatch.setattr(R, "rbm_table", table)
    monkeypatch.setattr(
        R, "population_row",
        lambda k=10, device="cpu": {"k": k, "device": device, "fit_s": 1.0,
                                    "test_acc_first_3": [0.9, 0.9, 0.9]},
    )  # fmt: skip
    out = tmp_path / "r.json"
    got = run_bench(monkeypatch, "rbm", ["--no-dbn", "--acc-seeds", "0", "--out", str(out)])
    assert got == 0, got
    machine = json.loads(out.read_text())["machine"]
    assert sklearn.__version__ in json.dumps(machine), machine


# optim.py writes "device": "cuda" and no Triton version, yet the README's GPU optimizer table
# quotes "one NVIDIA H200 ... Triton 3.6.0" from optim_gpu.json; it should record both, as
# population.py does ("device": the GPU's name, "triton": the version or None).
def test_optim_json_records_triton_as_population_does(monkeypatch, tmp_path):
    import optim as O

    names = ["torch foreach", "trainlab shared", "trainlab per-model", "trainlab lr grid",
             "torch loop"]  # fmt: skip
    monkeypatch.setattr(O, "make_variants", lambda *a: {n: (lambda: None) for n in names})
    monkeypatch.setattr(O, "time_variants", lambda *a: {n: 1e-3 for n in names})
    out = tmp_path / "o.json"
    argv = ["--k", "2", "--model", "linear", "--optims", "sgd", "--rounds", "1", "--reps", "1",
            "--out", str(out)]  # fmt: skip
    got = run_bench(monkeypatch, "optim", argv)
    assert got == 0, got
    record = json.loads(out.read_text())
    assert "triton" in record, sorted(record)


# profile_step.py's JSON meta names no device at all, while the README quotes its GPU profiles
# (profile_gpu_k1000*.json) as measured on an H200; meta should name the device (GPU name/"cpu").
def test_profile_step_json_records_the_device(monkeypatch, tmp_path):
    import profile_step as PS

    fake = {
        "total_ms_per_step": 1.0,
        "unit": "CPU time",
        "rows": [{"name": "x", "calls_per_step": 1.0, "ms_per_step": 1.0, "share": 1.0}],
    }
    monkeypatch.setattr(PS, "profile_steps", lambda *a, **k: fake)
    out = tmp_path / "p.json"
    got = run_bench(monkeypatch, "profile_step", ["--k", "1", "--steps", "1", "--out", str(out)])
    assert got == 0, got
    meta = json.loads(out.read_text())["meta"]
    assert "device" in meta, sorted(meta)
