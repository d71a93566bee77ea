"""`trainlab report DIR` on every kind of run folder (killed runs on a user's module, fine_tune
runs, runs on a user's dataset, folders of an older format, a file instead of a folder): what
the report states must be true of the run."""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import re

import pytest
import torch
from torch import nn

from conftest import Killed, kill_after_checkpoint, run_cli, small_config
from trainlab.report import build_report
from trainlab.train import train


def _banner(doc: str) -> str:
    m = re.search(r'<div class="banner[^"]*">(.*?)</div>', doc, re.S)
    assert m is not None, "no status banner"
    return html_lib.unescape(re.sub(r"<[^>]+>", "", m.group(1)))


def _header_rows(doc: str) -> dict[str, str]:
    m = re.search(r'<table class="kv">(.*?)</table>', doc, re.S)
    assert m is not None, "no header table"
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td></tr>", m.group(1), re.S)
    return {html_lib.unescape(k): html_lib.unescape(v) for k, v in rows}


def _tiny_module() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Tanh(), nn.Linear(8, 10))


def test_killed_run_on_a_users_module_banner_does_not_point_to_a_cli_resume_that_fails(
    tmp_path, monkeypatch, capsys
):
    """The incomplete-run banner tells the user what continues the run. A run trained on a
    module passed to ``train(model=...)`` cannot be resumed from the shell: ``trainlab resume
    DIR`` refuses it (exit 2) and says to call ``trainlab.train.resume(dir, model=...)`` from
    Python. Yet the report of such a killed run says "`trainlab resume DIR` continues it", so a
    user who follows the report's advice hits an error; the banner must give the command that
    works for this run (the Python call with ``model=``), as the trainer's own interrupt hint
    does."""
    out = tmp_path / "run"
    kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        train(
            small_config(train={"epochs": 3}, population={"seeds": [0, 1]}),
            out=out, model=_tiny_module(), device="cpu", progress=False,
        )  # fmt: skip
    monkeypatch.undo()
    banner = _banner(build_report(out).read_text())
    assert "Incomplete run" in banner
    code, _, err = run_cli(monkeypatch, capsys, "resume", out)
    assert code == 2 and "model=" in err, (code, err)  # the CLI cannot continue this run
    assert "continues it" not in banner or "model=" in banner, banner


def test_fine_tune_report_header_does_not_claim_biases_were_set_to_zero(tmp_path):
    """``fine_tune`` trains with ``init.scheme: keep``, which leaves every weight *and bias* of
    the pre-trained modules as they are (``trainlab.init.apply``: "``keep`` changes nothing").
    The report header's init row reads "keep, bias=0.0", i.e. it tells the reader the biases were
    filled with 0 — false for a run whose whole point is to start from pre-trained biases. The
    header's config summary must be true of the run: no ``bias=`` value for scheme ``keep``."""
    from trainlab.data import load
    from trainlab.pretrain.dbn import fine_tune

    mods = [_tiny_module() for _ in range(2)]
    with torch.no_grad():
        for m in mods:
            m[1].bias.fill_(0.5)  # pre-trained biases, far from 0
    fine_tune(mods, load("digits"), epochs=1, out=str(tmp_path / "ft"))
    rows = _header_rows(build_report(tmp_path / "ft").read_text())
    assert rows["init"].startswith("keep"), rows
    assert "bias=" not in rows["init"], rows["init"]


def test_old_format_run_killed_before_its_first_epoch_is_not_called_without_test_split(tmp_path):
    """A run folder from before ``population.json`` recorded ``data_fingerprint`` (the brief's
    "older format"), killed before its first epoch ended: no summary, no metrics. Its
    config.yaml says ``data.test_fraction: 0.2`` and the header shows it, yet the report's
    caption says "The run has no test split (data.test_fraction 0)" and the summary table
    switches to validation columns: ``has_test_split`` falls back to "some model has a test
    number", which is false for every model of a run with no metrics yet. The report contradicts
    itself; with no numbers to go on, the config's ``data.test_fraction`` decides."""
    out = tmp_path / "run"
    train(small_config(population={"seeds": [0]}), out=out, device="cpu", progress=False)
    (out / "summary.json").unlink()
    (out / "metrics.jsonl").write_text("")
    pop = json.loads((out / "population.json").read_text())
    del pop["data_fingerprint"]
    (out / "population.json").write_text(json.dumps(pop))
    doc = build_report(out).read_text()
    assert "test_fraction=0.2" in _header_rows(doc)["data"]
    assert "no test split" not in doc
    assert "test_acc mean" in doc


def test_no_test_split_sentence_does_not_blame_data_test_fraction_of_a_given_dataset(tmp_path):
    """A run on a dataset passed to ``train(dataset=...)`` whose test split is empty: the report
    rightly shows validation numbers, but explains it with "The run has no test split
    (data.test_fraction 0)" while the run's config.yaml has ``data.test_fraction: 0.2`` (config
    .data is not used for a given dataset; the header says so). The sentence states a config
    value the run does not have, sending the user to the wrong setting; it should name the
    actual cause (the given dataset has no test samples)."""
    from trainlab.data import load

    ds = load("digits")
    ds = dataclasses.replace(ds, name="mine", x_test=ds.x_test[:0], y_test=ds.y_test[:0])
    out = tmp_path / "run"
    train(small_config(population={"seeds": [0]}), out=out, dataset=ds, device="cpu",
          progress=False)  # fmt: skip
    assert "test_fraction: 0.2" in (out / "config.yaml").read_text()
    doc = build_report(out).read_text()
    assert "no test split" in doc
    assert "data.test_fraction 0)" not in doc


def test_report_of_a_file_does_not_say_there_is_no_such_path(tmp_path, monkeypatch, capsys):
    """``trainlab report report.html`` (or summary.json) — a user pointing at a file of the run
    instead of its folder — must be one clear line with exit 2. The line says "not a run
    directory: PATH (no such directory)", which is false: the path exists (it is a file), so the
    user is sent looking for a missing folder. ``Report()`` already words this case right ("is a
    file, not a run directory; pass a folder"); ``read_run`` should too."""
    out = tmp_path / "run"
    train(small_config(population={"seeds": [0]}), out=out, device="cpu", progress=False)
    build_report(out)
    code, _, err = run_cli(monkeypatch, capsys, "report", out / "report.html")
    assert code == 2 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) <= 2, err
    assert "no such" not in err, err
