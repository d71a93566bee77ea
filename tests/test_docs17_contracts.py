"""Reviewer docs17: what the README, docstrings and benchmark scripts promise against what runs."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def _load_bench(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs17_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_optim_benchmark_per_model_column_varies_more_than_the_lr():
    # Wrong: benchmarks/optim.py's "trainlab per-model" variant gives Adagrad no per-model value
    # besides the lr, so its column (optim.json, optim_gpu.json, "loop ÷ per-model") times the
    # same configuration as "trainlab lr grid". Right: every optimizer's per-model variant varies
    # another hyperparameter per model (README: "a (K,) lr plus another per-model value").
    bench = _load_bench("optim")
    no_extra = [name for name, (_, _, per_model) in bench.OPTIMS.items() if not per_model]
    assert no_extra == [], f"'trainlab per-model' is only an lr grid for {no_extra}"


def test_readme_diagnostics_command_reproduces_its_stated_rounds():
    # Wrong: README quotes `benchmarks/diagnostics.py --k 16 --floor --baseline ceec0c2` for a
    # table it says is "the median over 15 rounds" (diagnostics.json: rounds 15), but that
    # command runs the script's default --rounds 25. Right: the quoted command gives 15 rounds.
    readme = (ROOT / "README.md").read_text()
    cmd = re.search(r"`(benchmarks/diagnostics\.py [^`]*)`", readme)
    assert cmd is not None
    given = re.search(r"--rounds[ =](\d+)", cmd.group(1))
    src = (BENCH / "diagnostics.py").read_text()
    default = int(re.search(r'"--rounds", type=int, default=(\d+)', src).group(1))
    rounds = int(given.group(1)) if given else default
    recorded = json.loads((BENCH / "results" / "diagnostics.json").read_text())["rounds"]
    assert "median over 15 rounds" in readme and recorded == 15
    assert rounds == recorded, f"the README's command runs {rounds} rounds, the table {recorded}"


def test_run_study_docstring_states_the_default_folder_it_uses(tmp_path, monkeypatch):
    # Wrong: run_study's docstring says out defaults to ``runs/study-<name>``, but a quick run
    # defaults to runs/study-<name>-quick. Right: the docstring names the folder the code picks.
    from trainlab import studies

    module = importlib.import_module(f"trainlab.studies.{studies._available()['clipping']}")
    monkeypatch.setattr(module, "run", lambda out, **kw: Path(out))
    monkeypatch.chdir(tmp_path)
    path = studies.run_study("clipping", quick=True, device="cpu")
    assert path == Path("runs/study-clipping-quick")  # what the code does today
    assert "-quick" in (studies.run_study.__doc__ or ""), (
        f"run_study's docstring gives the default as runs/study-<name>; quick=True gave {path}"
    )
