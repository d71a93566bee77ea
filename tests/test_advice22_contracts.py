"""Review (advice22): the fix a message names, followed literally, must work."""

from __future__ import annotations

import re
import subprocess
import tarfile
import warnings
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from conftest import config_file, run_cli, small_config
from trainlab.errors import UserError

TINY = (
    "name: t\nmodel: {name: mlp, hidden: [8]}\noptim: {name: adam, lr: 0.01}\n"
    "train: {epochs: 1, batch_size: 256}\npopulation: {seeds: [0]}\n"
)

PRETRAIN_FAST = ["train.n_iter=1", "model.n_components=8"]


# `trainlab lr-find CONFIG --population N` of a config whose population.grid varies a key
# (here optim.weight_decay) is refused with "set one value (--set KEY=...)". Followed
# literally, `--set optim.weight_decay=0.1` is refused in turn ("--set optim.weight_decay
# changes no model: population.grid sets optim.weight_decay ..."): the advice loops. What works
# is dropping the grid axis (e.g. `--set population.grid={}`) and then setting one value; the
# message must name a fix that the next run accepts.
def test_lr_sweep_set_one_value_hint_works_for_a_grid_in_the_file(monkeypatch, capsys, tmp_path):
    text = TINY.replace(
        "population: {seeds: [0]}",
        "population: {seeds: [0], grid: {optim.weight_decay: [0.0, 0.1]}}",
    )
    cfg = config_file(tmp_path, text)
    base = ["lr-find", cfg, "--population", "2", "--device", "cpu"]
    code, _, err = run_cli(monkeypatch, capsys, *base, "--out", tmp_path / "a.png")
    assert code == 2, err
    assert "optim.weight_decay" in err, err
    if "population.grid" in " ".join(err.split()):  # names the grid axis to drop: fine
        return
    assert "(--set KEY=...)" in err, err
    # the advice as written: one value for the key
    code, _, err2 = run_cli(
        monkeypatch, capsys, *base, "--out", tmp_path / "b.png", "--set", "optim.weight_decay=0.1"
    )
    assert code == 0, err2


# `trainlab pretrain` on an .npz whose x_test/y_test are empty is refused with "set
# data.options.test_fraction above 0". An npz comes with its own test split, so that option is
# ignored (trainlab itself warns "data.test_fraction=0.2 is ignored: npz comes with its own test
# split (0 samples)") and the very same error comes back. The message must name a fix that
# applies to such data (give the file's x_test/y_test samples), as the early-stopping message
# already does for a file's empty x_val.
def test_pretrain_empty_npz_test_split_advice_is_not_a_loop(tmp_path):
    from trainlab.pretrain.run import run_pretrain

    rng = np.random.default_rng(0)
    x, y = rng.random((60, 16)), rng.integers(0, 3, 60)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:0], y_test=y[:0])
    sets = [*PRETRAIN_FAST, "data.name=npz", f"data.options.path={path}"]
    with pytest.raises(UserError) as info:
        run_pretrain(None, out=tmp_path / "p1", device="cpu", sets=sets)
    msg = str(info.value)
    assert "test split" in msg, msg
    if "data.options.test_fraction above 0" in msg:  # follow it literally
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                run_pretrain(
                    None, out=tmp_path / "p2", device="cpu",
                    sets=[*sets, "data.options.test_fraction=0.2"],
                )  # fmt: skip
            except UserError as again:
                assert str(again) != msg, "the advice leads back to the same error"


# A damaged report_sections.json of a `trainlab pretrain` run (or of a study) is refused with
# "delete it or re-run the study". Deleted, the folder holds neither population.json nor
# report_sections.json, and `trainlab report` then says "not a run directory" (the run is
# lost to the report): "delete it" only works for runs that have a population.json. For these
# folders the message must not offer the deletion (re-running is the fix), or the deletion must
# leave a reportable run.
def test_damaged_sections_file_of_a_pretrain_run_delete_advice_works(tmp_path):
    from trainlab.pretrain.run import run_pretrain
    from trainlab.report import build_report

    run = run_pretrain(None, out=tmp_path / "p", device="cpu", sets=PRETRAIN_FAST)
    sections = run / "report_sections.json"
    sections.write_text("[]")
    with pytest.raises(UserError) as info:
        build_report(run)
    msg = str(info.value)
    assert "report_sections.json" in msg, msg
    if "delete it" in msg:  # follow it literally
        sections.unlink()
        build_report(run)  # must report the run, not call it "not a run directory"


# A data path that is an archive is answered with "extract it (e.g. tar xzf NAME, or unzip)".
# `tar xzf` forces gzip: for an uncompressed .tar, an .tar.xz/.tar.bz2 or a .zip it fails
# ("gzip: stdin: not in gzip format"). The suggested tar command must extract the archive named
# (`tar xf NAME` reads every compression tar knows; `unzip NAME` for a zip).
@pytest.mark.parametrize("suffix", [".tar", ".tar.xz", ".zip"])
def test_archive_hint_command_extracts_the_archive(monkeypatch, capsys, tmp_path, suffix):
    src = tmp_path / "src" / "cifar-10-batches-py"
    src.mkdir(parents=True)
    for name in ("batches.meta", "data_batch_1", "test_batch"):  # (several members, as shipped)
        (src / name).write_bytes(name.encode() * 100)
    archive = tmp_path / f"cifar-10-python{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(src.iterdir()):
                z.write(f, f"cifar-10-batches-py/{f.name}")
    else:
        with tarfile.open(archive, "w:xz" if suffix == ".tar.xz" else "w") as t:
            t.add(src, arcname="cifar-10-batches-py")
    cfg = config_file(tmp_path, TINY)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "data.name=cifar10",
        "--set", f"data.options.path={archive}", "--out", tmp_path / "run", "--device", "cpu",
    )  # fmt: skip
    assert code == 2, err
    flat = " ".join(err.split())
    assert "is an archive" in flat, err
    cmd = re.search(r"\btar (x\w*f) (\S+?)[,)]", flat)
    if cmd is None:  # no tar command: a zip must be named with unzip
        assert suffix == ".zip" and f"unzip {archive.name}" in flat, err
        return
    work = tmp_path / "extract"
    work.mkdir()
    (work / cmd[2]).write_bytes(archive.read_bytes())
    done = subprocess.run(["tar", cmd[1], cmd[2]], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, (cmd[0], done.stderr)


# `trainlab pretrain` with data.options.test_fraction on a data set that has its own test split
# (mnist1d) warns "data.test_fraction=0.3 is ignored ...; leave it out". A pretrain config has
# no data.test_fraction (`--set data.test_fraction=...` is an unknown key there): the key the
# user wrote, and must leave out, is data.options.test_fraction.
def test_pretrain_ignored_fraction_warning_names_the_pretrain_key(tmp_path):
    from trainlab.pretrain.run import run_pretrain

    sets = [
        *PRETRAIN_FAST, "data.name=mnist1d", "data.options.n_samples=100",
        "data.options.test_fraction=0.3",
    ]  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_pretrain(None, out=tmp_path / "p", device="cpu", sets=sets)
    said = [str(w.message) for w in caught if "test_fraction" in str(w.message)]
    assert said, "the ignored option is not reported"
    for text in said:
        assert "data.options.test_fraction" in text, text


# load_run of a run that trained a module passed in (custom_model) and was killed before its
# first checkpoint says "`trainlab resume` it first". The CLI refuses such a run ("trained a
# user-provided model; resume it from Python: trainlab.train.resume(dir, model=...)"), so the
# advice fails; the message must name the command that resumes it (trainlab.errors'
# resume_command gives the Python call for such runs).
def test_load_run_without_checkpoint_names_a_resume_that_works(monkeypatch, capsys, tmp_path):
    from trainlab.train import load_run, train

    def module() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    cfg = small_config(model={"name": "mlp"}, train={"epochs": 1})
    out = tmp_path / "run"
    train(cfg, model=module(), out=out, progress=False)
    # as a kill before the first checkpoint leaves it: no checkpoint, no summary, no metrics
    (out / "checkpoints" / "last.pt").unlink()
    (out / "summary.json").unlink()
    (out / "metrics.jsonl").write_text("")
    with pytest.raises(UserError) as info:
        load_run(out, model=module())
    msg = str(info.value)
    if "`trainlab resume`" in msg:  # follow it literally
        code, _, err = run_cli(monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report")
        assert code == 0, err
    else:
        assert "trainlab.train.resume(" in msg, msg


# `data.options.pca_components: 1.0` (meant as "all of the variance") is refused with "pass
# pca_components=1 for a number of components, or None for all". In a config (or --set)
# `None` is the text 'None', refused again ("must be an int ... got 'None'"); what keeps all
# components there is `null` (or leaving the option out). Followed as written, the advice must
# be accepted.
def test_pca_components_none_for_all_hint_works_in_a_config(monkeypatch, capsys, tmp_path):
    cfg = config_file(tmp_path, TINY)
    base = ["train", cfg, "--device", "cpu", "--no-report", "--set", "data.preprocess=pca"]
    code, _, err = run_cli(
        monkeypatch, capsys, *base, "--set", "data.options.pca_components=1.0",
        "--out", tmp_path / "a",
    )  # fmt: skip
    assert code == 2, err
    flat = " ".join(err.split())
    assert "pca_components=1.0" in flat, err
    if "or None for all" in flat:  # follow it literally
        code, _, err2 = run_cli(
            monkeypatch, capsys, *base, "--set", "data.options.pca_components=None",
            "--out", tmp_path / "b",
        )  # fmt: skip
        assert code == 0, err2


# After a run whose model stopped for NaN/Inf, `trainlab train` prints "fix: ...;
# `trainlab diagnose CONFIG` names the first layer where NaN/Inf appears". `trainlab diagnose`
# trains 3 epochs by default: when the NaN came later (here at step 6 of a 10-epoch run with a
# growing learning rate, one step per epoch), the command as written reports "nonfinite: ok, all
# outputs and gradients finite" -- the opposite of the run it is meant to explain. The advice
# must give the epochs that reach the NaN (e.g. `--epochs 10`); followed as written, the verdict
# must not say that everything is finite.
def test_nan_fix_diagnose_command_reaches_the_nan(monkeypatch, capsys, tmp_path):
    import json

    text = (
        "name: t\nmodel: {name: mlp, hidden: [16], activation: identity}\n"
        "optim: {name: sgd, lr: 0.1}\nschedule: {name: exponential, gamma: 100.0}\n"
        "train: {epochs: 10, batch_size: 4096}\npopulation: {seeds: [0]}\n"
    )
    cfg = config_file(tmp_path, text)
    code, out, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", tmp_path / "run", "--device", "cpu",
        "--no-report",
    )  # fmt: skip
    assert code == 0, err
    flat = " ".join(out.split())
    stop = re.search(r"stopped: loss or gradient became NaN/Inf at step (\d+)", flat)
    assert stop is not None and int(stop[1]) > 3, out  # after diagnose's 3 one-step epochs
    cmd = re.search(r"`trainlab diagnose CONFIG([^`]*)`", flat)
    assert cmd is not None, out
    code, _, err = run_cli(
        monkeypatch, capsys, "diagnose", cfg, *cmd[1].split(), "--out", tmp_path / "diag",
        "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 0, err
    verdict = json.loads((tmp_path / "diag" / "verdict.json").read_text())
    nonfinite = [f for f in verdict if f["check"] == "nonfinite"]
    assert nonfinite and nonfinite[0]["status"] != "ok", nonfinite
