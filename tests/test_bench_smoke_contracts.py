"""Adversarial review of the benchmark scripts in ``benchmarks/`` (population, optim,
diagnostics, rbm): their command lines as a user types them.

Every test calls a script's ``main()`` in-process with a patched ``sys.argv`` (or stops it right
after argument parsing), so nothing heavy runs and ``benchmarks/results/*.json`` is never
written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from conftest import default_bench_args, run_bench

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


# ----------------------------------------------------------------------------- --device
@pytest.mark.parametrize(
    "script, device",
    [
        pytest.param(
            "optim",
            "cuda",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here"),
        ),
        pytest.param(
            "diagnostics",
            "cuda",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here"),
        ),
        ("optim", "gpu"),
        ("diagnostics", "gpu"),
    ],
)
def test_device_flag_errors_are_one_line_exit_2(monkeypatch, capsys, tmp_path, script, device):
    """``benchmarks/optim.py`` and ``benchmarks/diagnostics.py`` take ``--device`` (their usage
    lines advertise it). ``--device cuda`` on a machine without CUDA, or a mistyped device name
    such as ``--device gpu``, is a plain user error, and the sibling scripts treat it so
    (``population.py --preset gpu`` and ``rbm.py --gpu-population`` call ``ap.error`` with one
    line and exit 2). These two scripts instead die with a bare torch traceback
    (``AssertionError: Torch not compiled with CUDA enabled`` /
    ``RuntimeError: Expected one of cpu, cuda, ...``) from deep inside the first variant's
    set-up. Fix: right after ``parse_args``, ``torch.device(args.device)`` inside try/except
    and refuse ``cuda`` when ``torch.cuda.is_available()`` is false, via ``ap.error``."""
    out = tmp_path / "o.json"
    small = {
        "optim": ["--k", "2", "--rounds", "1", "--reps", "1", "--model", "linear"],
        "diagnostics": ["--steps", "50", "--rounds", "1", "--k", "0", "--width", "8"],
    }[script]
    got = run_bench(monkeypatch, script, [*small, "--device", device, "--out", str(out)])
    err = capsys.readouterr().err
    assert got == 2, f"{script}.py --device {device}: {got!r} instead of a one-line error"
    # argparse's form: its usage lines, then one "error:" line naming the value
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"{script}.py: error:") and device in last and "Traceback" not in err
    assert not out.exists()


# ----------------------------------------------------------------------------- --baseline
def test_diagnostics_unknown_baseline_revision_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    """``benchmarks/diagnostics.py --baseline REV`` loads ``watch`` as it was at git revision
    ``REV``. A mistyped or unfetched revision is the most likely mistake with this flag, but
    ``load_baseline_watch`` runs ``git show`` with ``check=True`` and ``capture_output=True``,
    so the user gets a ``subprocess.CalledProcessError`` traceback that hides git's own message
    (``fatal: invalid object name``). It should be one line naming the revision, exit 2,
    before any timing. Fix: catch ``CalledProcessError`` in ``main`` around
    ``load_baseline_watch`` and ``ap.error(f"--baseline {rev}: {git's stderr}")``."""
    out = tmp_path / "d.json"
    argv = ["--steps", "50", "--rounds", "1", "--k", "0", "--width", "8"]
    rev = "no-such-revision-bench-smoke"
    got = run_bench(monkeypatch, "diagnostics", [*argv, "--baseline", rev, "--out", str(out)])
    err = capsys.readouterr().err
    assert got == 2, f"--baseline {rev}: {got!r} instead of a one-line error"
    assert "Traceback" not in err and any(
        line.startswith("diagnostics.py: error:") and rev in line for line in err.splitlines()
    ), err
    assert not out.exists()


# ----------------------------------------------------------------------------- counts
@pytest.mark.parametrize(
    "script, argv",
    [
        ("optim", ["--k", "2", "--model", "linear", "--optims", "sgd", "--reps", "1",
                   "--rounds", "0"]),
        ("optim", ["--k", "2", "--model", "linear", "--optims", "sgd", "--rounds", "1",
                   "--reps", "0"]),
        ("diagnostics", ["--steps", "50", "--k", "0", "--width", "8", "--rounds", "0"]),
        ("rbm", ["--no-dbn", "--acc-seeds", "0", "--repeats", "0"]),
        ("population", ["--k", "2", "--repeats", "0"]),
        ("population", ["--repeats", "1", "--k", "0"]),
    ],
    ids=["optim-rounds-0", "optim-reps-0", "diagnostics-rounds-0", "rbm-repeats-0",
         "population-repeats-0", "population-k-0"],
)  # fmt: skip
def test_non_positive_counts_are_refused_in_one_line(monkeypatch, capsys, tmp_path, script, argv):
    """Every benchmark takes its repetition counts and sizes as plain ``type=int`` arguments
    (``--rounds``, ``--reps``, ``--repeats``, ``--k``) and never checks them, so a zero is a
    traceback after the set-up work: ``min() arg is an empty sequence`` (optim ``--rounds 0``),
    ``ZeroDivisionError`` (optim ``--reps 0``), ``StatisticsError: no median for empty data``
    (diagnostics ``--rounds 0``, rbm ``--repeats 0``), ``KeyError: ('tutorial', 2)``
    (population ``--repeats 0``), and for population ``--k 0`` a ``CalledProcessError`` whose
    child's ``ZeroDivisionError`` is swallowed by ``capture_output`` (the user never sees the
    cause). These are argument errors: one line naming the flag, exit 2, nothing written.
    Fix: validate ``>= 1`` right after ``parse_args`` (``ap.error``), as diagnostics.py already
    does for ``--steps``."""
    out = tmp_path / "r.json"
    got = run_bench(monkeypatch, script, [*argv, "--out", str(out)])
    err = capsys.readouterr().err
    flag = argv[-2]
    assert got == 2, f"{script}.py {' '.join(argv[-2:])}: {got!r} instead of a one-line error"
    assert flag in err, err
    assert not out.exists()


# ----------------------------------------------------------------------------- --out default
def test_population_default_out_does_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    """README: ``benchmarks/population.py`` "prints a table and writes JSON to
    ``benchmarks/results/``". Its sibling scripts anchor that default to the script
    (``Path(__file__).parent / "results" / ...``), but population.py's default is the relative
    string ``"benchmarks/results/population.json"``, resolved against the current directory:
    run from ``benchmarks/`` (``cd benchmarks && python population.py``) or from anywhere else,
    the results land in a new ``./benchmarks/results/`` there (e.g.
    ``benchmarks/benchmarks/results/population.json``), and the committed results file the
    README quotes is silently not updated. Fix: ``default=str(Path(__file__).parent /
    "results" / "population.json")``. (The test stops ``main`` right after ``parse_args``:
    nothing runs or is written.)"""
    import population as P

    args = default_bench_args(monkeypatch, P, tmp_path)
    where = Path(args.out).resolve()
    assert where == (BENCH / "results" / "population.json").resolve(), (
        f"run from {tmp_path}, population.py would write {where}, not benchmarks/results/"
    )
