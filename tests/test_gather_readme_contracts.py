"""Review of commit d385631 outside the optimizer kernel: the step's batch gather (index_select),
benchmarks/gather.py, and the README's new GPU benchmark text against benchmarks/results/."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import torch

from conftest import default_bench_args, run_bench, small_config

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
README = (ROOT / "README.md").read_text()
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


# ----------------------------------------------------------------------------- gather.py
@pytest.mark.parametrize("reps", ["0", "-3"])
def test_gather_bench_non_positive_reps_is_one_line_exit_2(monkeypatch, capsys, tmp_path, reps):
    # wrong: --reps 0 dies with ZeroDivisionError, --reps -3 writes negative µs; right: ap.error
    # naming --reps, exit 2, nothing written (as optim/population via _args.require_counts)
    out = tmp_path / "g.json"
    got = run_bench(monkeypatch, "gather", ["--reps", reps, "--out", str(out)])
    err = capsys.readouterr().err
    assert got == 2, f"gather.py --reps {reps}: {got!r} instead of a one-line error"
    assert "--reps" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_gather_bench_cuda_without_cuda_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    # wrong: --device cuda on a CPU machine is torch's AssertionError traceback; right: one line
    # naming --device, exit 2 (as optim.py/diagnostics.py via _args.require_device)
    out = tmp_path / "g.json"
    got = run_bench(monkeypatch, "gather", ["--device", "cuda", "--out", str(out)])
    err = capsys.readouterr().err
    assert got == 2, f"gather.py --device cuda: {got!r} instead of a one-line error"
    assert err.strip().splitlines()[-1].startswith("gather.py: error:")
    assert not out.exists()


def test_gather_bench_default_out_does_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    # wrong: default --out is the cwd-relative "benchmarks/results/gather.json"; right: anchored to
    # the script (Path(__file__).parent / "results" / "gather.json"), as population.py's
    import gather as G

    args = default_bench_args(monkeypatch, G, tmp_path)
    assert Path(args.out).resolve() == (RESULTS / "gather.json").resolve()


# ----------------------------------------------------------------------------- README vs JSON
def _rates(name: str) -> dict[tuple[str, int], float]:
    rows = json.loads((RESULTS / name).read_text())["rows"]
    return {(r["method"], r["k"]): r["model_epochs_per_s"] for r in rows}


def test_readme_2026_11_30_gpu_table_matches_the_json_it_cites():
    # wrong: the TF32 columns (263.8/254.9, 395.4/371.6) are in no JSON; population_gpu_tf32.json
    # holds 263.7/255.2, 394.4/370.6 (the "second run"); right: table and cited JSON agree
    trainlab, tf32 = _rates("population_gpu_trainlab.json"), _rates("population_gpu_tf32.json")
    for k in (100, 1000):
        cells = r" \| ".join([str(k)] + [r"([\d.]+)"] * 4)
        row = re.search(rf"^\| {cells} \|$", README, re.M)
        assert row, f"no K={k} row in the 2026-11-30 GPU table"
        want = [trainlab[("trainlab", k)], trainlab[("trainlab-foreach", k)],
                tf32[("trainlab", k)], tf32[("trainlab+eval", k)]]  # fmt: skip
        got = [float(v) for v in row.groups()]
        assert got == [round(w, 1) for w in want], f"K={k}: README {got}, JSON {want}"


def test_readme_matmul_tflops_matches_the_k1000_profile():
    # wrong: README says the float32 matmuls run at "~50 TFLOP/s"; the profile's 8 GEMMs (3.68 ms)
    # of a K=1000, batch-100 step of 784-256-256-10 do 121 GFLOP, i.e. ~33 TFLOP/s
    prof = json.loads((RESULTS / "profile_gpu_k1000.json").read_text())
    gemms = [r for r in prof["rows"] if "gemm" in r["name"]]
    assert sum(r["calls_per_step"] for r in gemms) == 8  # 3 forward, 3 weight grads, 2 input grads
    ms = sum(r["ms_per_step"] for r in gemms)
    macs = 784 * 256 + 256 * 256 + 256 * 10  # per sample, one forward
    flops = 1000 * 100 * (2 * macs * 2 + 2 * (256 * 256 + 256 * 10))  # fwd + wgrad + dgrad(2, 3)
    tflops = flops / (ms * 1e-3) / 1e12
    quoted = float(re.search(r"~(\d+) TFLOP/s", README).group(1))
    assert abs(quoted - tflops) / tflops < 0.15, f"README ~{quoted} TFLOP/s, profile {tflops:.1f}"


# ----------------------------------------------------------------------------- the step's gather
def test_step_on_negative_indices_gather_the_same_rows_as_before():
    # wrong: index_select rejects negative indices ("index out of range in self") that x[idx] and
    # the step's own y_train[idx] take; right: idx - n gathers the same rows as idx (same loss)
    from trainlab.train import Trainer

    losses = []
    for shift in (0, 1):
        torch.manual_seed(0)
        tr = Trainer(small_config(population={"seeds": [0, 1]}))
        n = tr.data.x_train.shape[0]
        idx = torch.arange(20).view(2, 10) - shift * n
        losses.append(tr.step_on(idx))
    assert torch.equal(losses[0], losses[1])
