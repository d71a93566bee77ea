"""Adversarial review of the last commits (report resume/keep/test-split, data one-class
refusal, diagnostics moments): failing tests for regressions and gaps they left."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from torch import nn

from conftest import Killed, kill_after_checkpoint, run_cli, small_config


def _train(out, **sections):
    from trainlab.train import train

    cfg = small_config(train={"epochs": 1, "batch_size": 64}, **sections)
    return train(cfg, out=out, device="cpu", progress=False)


def test_report_of_run_without_split_sizes_and_a_damaged_data_section_has_no_traceback(
    tmp_path, monkeypatch, capsys
):
    """``trainlab report`` of a run whose ``config.yaml`` was damaged by hand must not end in a
    traceback: the report reads a damaged config's sections as absent (as it reads a config
    that is not a mapping at all) and still reports the run. The new config fallback of
    ``tables.has_test_split``
    (a run whose ``population.json`` records no split sizes -- runs from before they were
    recorded -- and whose models have no numbers yet) does
    ``(config.get("data") or {}).get("test_fraction")``, which crashes with an AttributeError
    traceback when ``config.yaml``'s ``data`` is not a mapping (``data: digits``, a hand edit
    that ``load_config`` itself refuses with a clear message). ``RunData.planned_epochs`` guards
    the same shape for ``train``; this fallback does not."""
    run = tmp_path / "run"
    _train(run)
    pop = json.loads((run / "population.json").read_text())
    pop.pop("data_fingerprint")  # a run from before split sizes were recorded
    (run / "population.json").write_text(json.dumps(pop))
    (run / "summary.json").unlink()  # killed in its first epoch: no numbers yet
    (run / "metrics.jsonl").write_text("")
    (run / "config.yaml").write_text("name: t\ndata: digits\n")
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert "Traceback" not in err and code in (0, None), (code, err[-1500:])
    assert (run / "report.html").is_file()


def test_report_keep_init_of_a_config_built_model_does_not_claim_given_weights(
    tmp_path, monkeypatch, capsys
):
    """The report's run table now describes ``init.scheme: keep`` as "keep (the given weights
    and biases)". That is only true when a module was passed to ``train()``; for a model built
    from ``config.model`` (``population.json``: ``custom_model: false``) no weights were given:
    every model starts from the same template weights of PyTorch's default init. A reader of
    the report is told the run started from weights they supplied, which it did not."""
    run = tmp_path / "run"
    _train(run, init={"scheme": "keep"})
    assert json.loads((run / "population.json").read_text())["custom_model"] is False
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert code in (0, None), err
    cell = re.search(r'<th scope="row">init</th><td>([^<]*)', (run / "report.html").read_text())
    assert cell is not None, "no init row in the report"
    assert "given" not in cell.group(1), cell.group(1)


def test_existing_run_dir_of_a_custom_model_names_the_python_resume(tmp_path, monkeypatch):
    """After a run given its own module is killed, calling ``train(cfg, model=net, out=DIR)``
    again is refused because DIR exists, and the hint says ``trainlab resume DIR`` continues
    it. But ``trainlab resume`` refuses such a run ("resume it from Python:
    trainlab.train.resume(dir, model=the_same_module)"). The last commits moved the Ctrl-C
    note and the report's banner to ``errors.resume_command`` for exactly this case; the
    "already exists" hint in ``RunDir.create`` still sends the user to a command that fails."""
    from trainlab.train import train

    out = tmp_path / "run"
    cfg = small_config(train={"epochs": 3, "batch_size": 64})
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    mp = pytest.MonkeyPatch()
    kill_after_checkpoint(mp, 1)
    with pytest.raises(Killed):
        train(cfg, model=net, out=out, device="cpu", progress=False)
    mp.undo()
    from trainlab.errors import UserError

    with pytest.raises(UserError) as info:
        train(cfg, model=net, out=out, device="cpu", progress=False)
    msg = str(info.value)
    assert "already exists" in msg
    assert "trainlab resume" not in msg or "trainlab.train.resume" in msg, msg
    shutil.rmtree(out, ignore_errors=True)
