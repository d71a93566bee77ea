"""Review (interrupt20): what Ctrl-C / SIGTERM tells the user outside a training run's epochs.

Every command that is interrupted where no :func:`trainlab.errors.on_interrupt` note is set
falls back to cli/app.py ``_exit_interrupted``'s fixed text "a `trainlab train` run continues
from its checkpoint with `trainlab resume DIR`": advice to resume a folder that does not exist
(start-up, lr-find, pretrain, study) or that is not named (the report after training). Each
test raises KeyboardInterrupt (what SIGINT raises; SIGTERM is turned into the same) where the
user's Ctrl-C lands, and runs the CLI as the shell does (``conftest.run_cli``).
"""

from __future__ import annotations

from conftest import SMALL_YAML, TINY_PRETRAIN, config_file, raise_ctrl_c, run_cli


def _line(err: str) -> str:
    return " ".join(err.split())


def test_ctrl_c_during_trains_final_report_names_the_run_folder(tmp_path, monkeypatch, capsys):
    # Wrong: Ctrl-C while `trainlab train` renders report.html (after summary.json) prints the
    # fixed "... `trainlab resume DIR`", naming no folder (README: the line names the command
    # that continues it, `trainlab resume runs/<name>-2`); right: name the run, e.g. "the run D
    # is complete but has no report yet: `trainlab report D` writes it" (as pretrain says).
    import trainlab.report

    cfg = config_file(tmp_path, SMALL_YAML)
    out = tmp_path / "run"
    monkeypatch.setattr(trainlab.report, "build_report", raise_ctrl_c)
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg, "--device", "cpu", "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    assert str(out) in _line(err), f"the interrupt line does not name the run folder: {err!r}"


def test_ctrl_c_in_lr_find_does_not_offer_a_resume(tmp_path, monkeypatch, capsys):
    # Wrong: lr-find writes no run folder, yet its Ctrl-C line says "a `trainlab train` run
    # continues from its checkpoint with `trainlab resume DIR`"; right: say nothing was kept and
    # to run the command again.
    import importlib

    cfg = config_file(tmp_path, SMALL_YAML)
    lr_find_module = importlib.import_module("trainlab.optim.lr_find")  # (not the function)
    monkeypatch.setattr(lr_find_module, "lr_find", raise_ctrl_c)
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", cfg, "--device", "cpu", "--steps", "5",
        "--out", tmp_path / "lr.png",
    )  # fmt: skip
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert "resume" not in err, f"lr-find's Ctrl-C offers a resume: {err.strip()!r}"


def test_ctrl_c_before_train_made_its_folder_does_not_offer_a_resume(tmp_path, monkeypatch, capsys):
    # Wrong: Ctrl-C while `trainlab train` loads data / builds the population (before the run
    # folder exists) says "`trainlab resume DIR`", and `trainlab resume D` then fails with
    # "not a run directory"; right: say that no run folder was made and to run it again.
    from trainlab.train import Trainer

    cfg = config_file(tmp_path, SMALL_YAML)
    out = tmp_path / "run"
    monkeypatch.setattr(Trainer, "__init__", raise_ctrl_c)
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg, "--device", "cpu", "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert not out.exists()
    assert "resume" not in err, f"Ctrl-C before any folder exists offers a resume: {err!r}"


def test_ctrl_c_while_pretrain_builds_its_population_does_not_offer_a_resume(
    tmp_path, monkeypatch, capsys
):
    # Wrong: pretrain's own note covers only loading the data; Ctrl-C a moment later, while
    # RBMPopulation is built (before the folder exists), prints the generic "`trainlab resume
    # DIR`" though pretrain runs never resume (README); right: "no run directory was made yet;
    # run the command again", as for the data.
    from trainlab.pretrain.population import RBMPopulation

    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "run"
    monkeypatch.setattr(RBMPopulation, "__init__", raise_ctrl_c)
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert not out.exists()
    assert "resume" not in err, f"pretrain's Ctrl-C offers a resume: {err.strip()!r}"


def test_ctrl_c_before_a_study_claims_its_folder_does_not_offer_a_resume(
    tmp_path, monkeypatch, capsys
):
    # Wrong: Ctrl-C while `trainlab study NAME` resolves its device (CUDA start-up) or imports,
    # before it claims its folder, prints "`trainlab resume DIR`", though studies never
    # resume; right: say that nothing was written and to run the study again.
    import trainlab.devices

    out = tmp_path / "study"
    monkeypatch.setattr(trainlab.devices, "resolve_device", raise_ctrl_c)
    code, _, err = run_cli(monkeypatch, capsys, "study", "init", "--quick", "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert not out.exists()
    assert "resume" not in err, f"a study's Ctrl-C offers a resume: {err.strip()!r}"
