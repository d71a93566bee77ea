"""Review (bench32) of benchmarks/: what the result JSON records about how it was measured."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import run_bench

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


# gather.py is the one benchmark whose JSON does not go through _machine.machine(): its meta
# holds only device, torch and threads, and not the --reps it timed with (nor the code revision
# every other result file records, "revision"). README quotes gather.json's ratios ("3.9-6.9x
# faster on the CPU"); a reader cannot tell from the file how many repetitions each best-of
# time is or which code measured it. Expected: meta["reps"] == the --reps given, and the
# machine() fields (here "revision", which every other benchmark's JSON carries).
def test_gather_json_records_reps_and_machine(monkeypatch, tmp_path):
    import gather as G

    monkeypatch.setattr(G, "CASES", {"cpu": [(50, 4, 2)]})  # one tiny case: the JSON is the point
    out = tmp_path / "g.json"
    got = run_bench(monkeypatch, "gather", ["--reps", "3", "--out", str(out)])
    assert got == 0, got
    meta = json.loads(out.read_text())["meta"]
    assert meta.get("reps") == 3, sorted(meta)
    assert "revision" in meta, sorted(meta)


# rbm.py reports medians of --repeats interleaved fits (README: "--repeats 5 ... median fit
# time") but its JSON never records --repeats (nor --acc-seeds): the run's parameters are lost.
# Expected: the JSON records the repeats it was run with.
def test_rbm_json_records_repeats(monkeypatch, tmp_path):
    import rbm as R

    rows = [
        {
            "library": lib,
            "batch_size": bs,
            "fit_s_median": 1.0,
            "fit_s_all": [1.0, 1.0],
            "test_acc": 0.9,
        }  # fmt: skip
        for bs in (10, 100)
        for lib in ("scikit-learn", "scikit-learn (1 BLAS thread)", "trainlab")
    ] + [{"library": "raw pixels", "batch_size": None, "fit_s_median": None, "test_acc": 0.78}]
    monkeypatch.setattr(R, "rbm_table", lambda repeats: rows)
    monkeypatch.setattr(
        R, "population_row",
        lambda k=10, device="cpu": {"k": k, "device": device, "fit_s": 1.0,
                                    "test_acc_first_3": [0.9, 0.9, 0.9]},
    )  # fmt: skip
    out = tmp_path / "r.json"
    argv = ["--repeats", "2", "--no-dbn", "--acc-seeds", "0", "--out", str(out)]
    got = run_bench(monkeypatch, "rbm", argv)
    assert got == 0, got
    record = json.loads(out.read_text())
    flat = json.dumps(record)
    assert '"repeats": 2' in flat, sorted(record)
