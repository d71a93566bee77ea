"""Review: what the README, docs/ARCHITECTURE.md and the docstrings of this session's changes
(diagnostics.jsonl as standard JSON, an overflowing std read as inf, studies that claim their
folder and show no spread for one seed, the denormal flush rule) promise, checked against what
the code does."""

from __future__ import annotations

import inspect
import json
import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab.errors import UserError

ROOT = Path(__file__).parents[1]


def test_verdict_of_the_lines_of_diagnostics_jsonl_still_finds_a_backward_nan(tmp_path):
    """``verdict`` documents its input as "``watch`` records (or diagnostics.jsonl)", and the
    figures module says the same of its functions. Since diagnostics.jsonl became standard JSON,
    a NaN gradient norm is written as ``null`` and named in ``"nonfinite_values"``; only
    ``read_records`` puts the NaN back. A user who does what the docstring says -- reads the
    file's lines with ``json.loads`` and passes them to ``verdict`` -- now gets "all outputs and
    gradients finite" for a step whose backward pass made NaN gradients everywhere (before
    this change Python's json read the bare ``NaN`` tokens and the verdict named the layer).
    The verdict of the file's lines must be the verdict of the records that were written."""
    from trainlab.diagnostics import verdict, watch, write_jsonl

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with watch(model, every=1) as w:
        out = model(torch.randn(16, 4))
        (out.sum() * math.nan).backward()  # finite outputs, NaN gradients
    records = w.records()
    direct = next(f for f in verdict(records) if f.check == "nonfinite")
    assert direct.status == "fail" and "from the loss" in direct.message  # what was recorded

    path = write_jsonl(records, tmp_path / "diagnostics.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    from_file = next(f for f in verdict(lines) if f.check == "nonfinite")
    assert from_file.status == "fail", (
        f"verdict of diagnostics.jsonl's lines: {from_file.message!r}; of the same records: "
        f"{direct.message!r}"
    )


def test_a_layer_whose_std_overflows_to_inf_is_flagged_by_the_activations_check():
    """README (diagnostics table): "an output whose std overflows float32's sum of squares is
    finite, its ``act_std`` reads inf" -- so it is no longer a NaN/Inf origin -- and the
    activations check fires on "``act_std > 1e2``". But ``_check_activations`` keeps only
    records whose ``act_std`` is finite, so exactly the layer whose activations exploded beyond
    ~1e19 is dropped: here the verdict of a net whose last layer outputs ~1e20 gives an ``ok``
    nonfinite finding and no activations finding at all, i.e. nothing tells the user that
    anything is wrong. Before this session's change the same layer was reported as the NaN
    origin; now it is invisible."""
    from trainlab.diagnostics import verdict, watch

    class Scale(nn.Module):
        def forward(self, x):
            return x * 1e20  # finite in float32 (max 3.4e38); squares overflow

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), Scale(), nn.Linear(8, 2))
    with watch(model, every=1) as w:
        (model(torch.randn(16, 4)).sum() * 0.0).backward()
    records = w.records()
    last = next(r for r in records if r["layer"] == "2")
    assert last["act_std"] == math.inf and last["nonfinite"] is False  # as documented
    findings = {f.check: f for f in verdict(records)}
    assert findings["nonfinite"].status == "ok"
    act = findings.get("activations")
    assert act is not None and act.status == "warn" and act.layer == "2", (
        f"an act_std of inf (> 1e2) gave no activations warning: {act}"
    )


def test_pretraining_study_with_one_seed_claims_no_standard_error(tmp_path, monkeypatch):
    """This session's studies change: "one seed shows no ± spread" (the pretraining table now
    prints the mean alone for n = 1, as ``cells.pm`` says "n=1: no spread"). The pretraining
    study's findings and claim-by-claim verdicts still print every gain as ``+x ± 0.0 points``
    ("± standard error over seeds") with ``--seeds 1``: a standard error of 0.0 reads as seeds
    that agreed exactly, when no spread was measured at all (the verdict itself says "one seed
    per cell: no noise estimate" right after it). With one seed no ``± 0.0`` may be shown."""
    from trainlab.studies import pretraining

    tiny = {"datasets": ["digits"], "depths": [2], "width": 8, "steps": 12, "seeds": 2,
            "dbn_iter": 1, "sdae_iter": 1}  # fmt: skip
    monkeypatch.setitem(pretraining.SETTINGS, "quick", tiny)
    out = pretraining.run(tmp_path / "study", quick=True, seeds=1, device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    assert all(c["n"] == 1 for c in summary["cells"])
    text = "\n".join([*summary["findings"], summary["verdict"]])
    shown = re.findall(r"[+-]\d+\.\d ± 0\.0 points", text)
    assert not shown, f"one seed reported with a spread of zero: {shown[:3]}"


def test_architecture_states_every_keyword_run_study_passes_to_a_study(monkeypatch, tmp_path):
    """docs/ARCHITECTURE.md fixes the interfaces between modules "so that each can be built
    and tested alone"; for ``studies/`` it gives each study's entry point as
    ``run(out, *, quick, seeds, device) -> Path``. Since this session ``run_study`` always calls
    ``module.run(out, quick=, seeds=, device=, renumber=)`` (``studies/__init__``'s docstring was
    updated, ARCHITECTURE.md was not): a study written to the documented contract dies with
    ``TypeError: run() got an unexpected keyword argument 'renumber'``."""
    from trainlab import studies
    from trainlab.studies import activations

    passed: dict[str, object] = {}

    def spy(out, **kwargs):
        passed.update(kwargs)
        return Path(out)

    monkeypatch.setattr(activations, "run", spy)
    studies.run_study("activations", tmp_path / "s", quick=True, seeds=1, device="cpu")
    assert {"quick", "seeds", "device"} <= passed.keys()

    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    row = next(line for line in doc.splitlines() if line.startswith("| `studies/`"))
    shown = re.search(r"`run\(out, \*, ([^)]*)\)", row)
    assert shown, "ARCHITECTURE.md no longer shows the studies' run() signature"
    documented = {part.strip().split("=")[0].split(":")[0] for part in shown.group(1).split(",")}
    missing = sorted(passed.keys() - documented)
    assert not missing, f"ARCHITECTURE.md's study run() lacks {missing} (documented: {documented})"


def test_diagnose_default_folder_taken_at_the_same_moment_takes_the_next_name(
    tmp_path, monkeypatch
):
    """``diagnose(config)`` documents its default folder as "``runs/<name>-diagnose``, numbered
    if taken", and ``RunDir.create`` says a name trainlab chose (not the user's ``--out``) "takes
    the next free ``<name>-N``" when another process claims it first. This session fixed that
    race for ``trainlab study`` (``claim_study_dir(renumber=True)``), but ``diagnose`` still
    hands its chosen default to ``train`` as if the user had passed ``--out``: two
    ``trainlab diagnose CONFIG`` started together (two terminals, two CI jobs) fail with
    "run directory ... already exists; pass a new --out" although no ``--out`` was given.
    Simulated by occupying the chosen folder right after it was chosen; the other process's
    folder must be left alone and diagnose must go on in a folder of its own."""
    import trainlab.train as train_mod
    from trainlab.diagnostics.run import diagnose

    monkeypatch.chdir(tmp_path)
    real = train_mod.default_run_dir
    taken: list[Path] = []

    def chosen_then_taken(name: str, *args, **kwargs) -> Path:
        path = real(name, *args, **kwargs)
        if not taken:  # another process claims the first name chosen
            path.mkdir(parents=True)
            (path / "other.txt").write_text("the other run's data")
            taken.append(path)
        return path

    monkeypatch.setattr(train_mod, "default_run_dir", chosen_then_taken)
    cfg = small_config(model={"name": "mlp", "hidden": [8]}, train={"epochs": 1})
    try:
        result = diagnose(cfg, epochs=1, every=10, device="cpu", progress=False, report=False)
    except UserError as err:
        pytest.fail(f"a default diagnose folder taken at the same moment was not renumbered: {err}")
    (other,) = taken
    assert (other / "other.txt").read_text() == "the other run's data"
    assert Path(result.run_dir).resolve() != other.resolve()
    assert (Path(result.run_dir) / "diagnostics.jsonl").is_file()


def test_denormals_are_flushed_at_the_eps_the_trainer_docstring_names(monkeypatch):
    """``Trainer._tiny_eps`` (and ``_flush_denormals``) state the rule of this session's change:
    flushing denormals is kept off only where it could change an Adam update by more than 1e-6
    relative, "which must stay below 1e-6 · ε: ε ≥ 3.4e-12 at β₂ = 0.999" (and "negligible ...
    for ε ≥ 3.4e-12 there"). The bound they derive is √(1.18e-38 / 0.001) = 3.435e-18, i.e.
    ε ≥ 3.44e-12: at the documented ε = 3.4e-12 the change is 1.01e-6 relative and the trainer
    (rightly, by its own formula) does not flush. The number the docstrings give is below the
    threshold the code uses, so a user who sets ε to it expecting the flushed (fast) path gets
    the ~2x slower denormal arithmetic. Observed from inside the training loop."""
    from trainlab.train import Trainer, train

    doc = " ".join(inspect.getdoc(Trainer._tiny_eps).split())
    stated = re.search(r"ε ≥ ([0-9.]+e-[0-9]+) at β₂ = 0\.999", doc)
    assert stated, doc
    eps = float(stated.group(1))

    seen: list[bool] = []
    orig = Trainer.train_epoch

    def spy(self, *args, **kwargs):
        seen.append(bool(torch.tensor([1e-39]).mul(1.0)[0] == 0))  # denormals flushed now?
        return orig(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train_epoch", spy)

    def flushed(e: float) -> bool:
        seen.clear()
        optim = {"name": "adam", "lr": 0.01, "eps": e}
        cfg = small_config(model={"name": "mlp", "hidden": [8]}, optim=optim, train={"epochs": 1})
        train(cfg, device="cpu", progress=False, write=False)
        return all(seen) and bool(seen)

    if not flushed(1e-8):
        pytest.skip("this CPU cannot flush denormals")
    assert flushed(eps), f"ε = {eps:g}, which the docstring names as safe, is not flushed"
