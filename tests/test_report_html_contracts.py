"""Review of the HTML report (second pass): what report.html says about a run must be true of
the run (its model, its data, its per-group settings, its NaN stops), and damaged run files
must be one-line user errors from ``trainlab report DIR``, as rundata.py and build_report
document."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch
from torch import nn

from conftest import assert_user_error, run_cli, small_config
from trainlab.report import build_report
from trainlab.runs import RunDir
from trainlab.train import train


def _kv(html: str) -> dict[str, str]:
    """The header's key/value table (``<table class="kv">``) as a dict."""
    i = html.index('<table class="kv">')
    table = html[i : html.index("</table>", i)]
    return dict(re.findall(r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td></tr>", table))


# -- the header describes the run that was trained -------------------------------------------
class _TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.classifier = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.relu(self.encoder(x)))


def _sensor_dataset():
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    y = torch.arange(128) % 2
    x = torch.randn(128, 4, generator=g) * 0.5 + (y[:, None] * 2 - 1)
    return Dataset("sensor-readings", x, y, x[:16], y[:16], x[:16], y[:16], (4,), 2)


def test_the_header_of_a_run_on_a_users_module_and_dataset_does_not_claim_digits_and_mlp(
    tmp_path,
):
    """``train(config, model=module, dataset=ds)`` (and ``pretrain.fine_tune``, which a DBN's
    fine-tuning goes through) trains the user's module on the user's dataset; population.json
    records ``custom_model: true`` and the dataset's name, and summary.json says
    ``"dataset": "sensor-readings"``. The report header, however, summarizes config.yaml's
    unused ``data``/``model`` sections, so it tells the reader the run trained
    ``mlp, hidden=[16], activation=relu`` on ``digits`` — a different model on different data —
    and the dataset's name appears nowhere in report.html. A report shared as the record of
    an experiment must not misstate what was trained."""
    out = tmp_path / "custom"
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1, "batch_size": 32})
    train(cfg, out=out, model=_TwoLayer(), dataset=_sensor_dataset(), progress=False,
          device="cpu")  # fmt: skip
    html = build_report(out).read_text()
    kv = _kv(html)
    assert "digits" not in kv.get("data", ""), kv
    assert not kv.get("model", "").startswith("mlp"), kv
    assert "sensor-readings" in html


def test_the_header_does_not_state_a_base_setting_that_every_group_overrides(tmp_path):
    """A population with ``init: {scheme: normal, std: 0.05}`` and a grid over ``init.scheme``
    (``he_normal``, ``xavier_uniform``) and ``optim.lr`` (0.1, 0.3) trains no model with
    N(0, 0.05²) init or lr 0.01 (``config.resolve`` even drops ``std`` for these schemes). The
    header's ``init`` and ``optim`` rows still read ``normal, std=0.05`` and ``adam, lr=0.01``,
    the base values every model overrode, so a reader of the report is told the run used an
    init and a learning rate that no model used. Keys that vary per model should be shown as
    varying (or with their values), not with the overridden base value."""
    out = tmp_path / "grid"
    cfg = small_config(
        init={"scheme": "normal", "std": 0.05},
        train={"epochs": 1, "batch_size": 512},
        population={
            "seeds": [0],
            "grid": {"init.scheme": ["he_normal", "xavier_uniform"], "optim.lr": [0.1, 0.3]},
        },
    )
    train(cfg, out=out, progress=False, device="cpu")
    kv = _kv(build_report(out).read_text())
    assert "std=0.05" not in kv["init"] and not kv["init"].startswith("normal"), kv["init"]
    assert "lr=0.01" not in kv["optim"], kv["optim"]


# -- the verdict agrees with the NaN flags of a killed run -------------------------------------
class _Killed(BaseException):
    """What ``kill -9`` does to the process, raised where the kill lands."""


def test_the_verdict_of_a_killed_run_does_not_call_a_nan_stopped_model_finite(
    tmp_path, monkeypatch
):
    """A run killed after epoch 2 (no summary.json yet) in which the lr=1e30 model's loss
    became NaN/Inf at step 1: the report's "Models stopped for NaN/Inf" section lists it (from
    metrics.jsonl), but the "Health verdict" table directly below is built with
    ``run_findings(diagnostics, run.summary or {})`` — with no summary there are no trainer
    stops to fold in — so it says ``nonfinite ok 0/2 … all outputs and gradients finite``.
    The finished run's report says ``fail 1/2 … stopped by the trainer``. The same report
    contradicting itself about the one thing that went wrong, only because the run was killed,
    is what a user debugging a killed run reads first."""
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        train={"epochs": 3, "batch_size": 5000, "diagnose_every": 10},
        population={"seeds": [0], "grid": {"optim.lr": [0.1, 1e30]}},
    )
    save = RunDir.save_checkpoint
    calls = []

    def killed_at_second_checkpoint(self, state):
        calls.append(1)
        if len(calls) == 2:
            raise _Killed
        return save(self, state)

    monkeypatch.setattr(RunDir, "save_checkpoint", killed_at_second_checkpoint)
    with pytest.raises(_Killed):
        train(cfg, out=tmp_path / "killed", progress=False, device="cpu")
    monkeypatch.undo()
    html = build_report(tmp_path / "killed").read_text()
    i = html.index("<h2>Models stopped for NaN/Inf")
    assert "model 1 (seed 0, optim.lr=1e+30)" in html[i : html.index("</ul>", i)]
    i = html.index("<h3>Health verdict</h3>")
    verdict = html[i : html.index("</table>", i)]
    row = re.search(r"<tr><td>nonfinite</td><td>(\w+)</td><td>([\d/]+)</td>", verdict)
    assert row is not None, verdict
    assert row.groups() == ("fail", "1/2"), verdict


# -- damaged files are one-line errors ---------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "run"
    train(
        small_config(train={"epochs": 1, "batch_size": 512}, population={"seeds": [0, 1]}),
        out=out,
        progress=False,
        device="cpu",
    )
    return out


def _edit_json(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


_DAMAGE = {
    "report_sections.json table rows are not lists": (
        "report_sections.json",
        lambda p: p.write_text(
            json.dumps({"sections": [{"kind": "table", "title": "t", "rows": [1, 2]}]})
        ),
    ),
    "report_sections.json title is not text": (
        "report_sections.json",
        lambda p: p.write_text(json.dumps({"title": 7, "sections": []})),
    ),
    "summary.json final is not an object": (
        "summary.json",
        lambda p: _edit_json(p, lambda d: d["models"][0].__setitem__("final", [0.5, 0.9])),
    ),
    "population.json index is not a number": (
        "population.json",
        lambda p: _edit_json(p, lambda d: d["models"][0].__setitem__("index", "zero")),
    ),
}


@pytest.mark.parametrize("damage", list(_DAMAGE))
def test_report_of_a_run_with_a_damaged_file_is_one_line_naming_it(
    tiny_run, tmp_path, monkeypatch, capsys, damage
):
    """rundata.py promises "Every problem with a file becomes a UserError that names the file
    and the fix", and ``build_report`` that a corrupt file raises a UserError naming it; the
    CLI turns those into one line and exit 2. Files of the right JSON syntax but the wrong
    shape (a table's rows that are not lists, a title that is a number, a model's ``final``
    that is a list, a model index that is not an integer — what a hand edit or another tool
    leaves) instead crash ``trainlab report DIR`` with a TypeError/AttributeError/ValueError
    traceback deep in the renderer, without saying which file is wrong."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    name, damage_it = _DAMAGE[damage]
    damage_it(run / name)
    try:
        code, _, err = run_cli(monkeypatch, capsys, "report", run)
    except Exception as exc:  # what the shell shows as a traceback
        pytest.fail(f"trainlab report crashed with a traceback: {type(exc).__name__}: {exc}")
    assert_user_error(code, err, name)
