"""Review findings for `trainlab report` (reviewer: reportcmd)."""

from __future__ import annotations

import pytest

from trainlab import parse_config, train
from trainlab.errors import UserError
from trainlab.report import build_report


def _finished_run(tmp_path):
    """A finished two-epoch run of one small digits MLP."""
    cfg = parse_config(
        {
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [16]},
            "train": {"epochs": 2, "batch_size": 100},
            "population": {"seeds": [0]},
        }
    )
    out = tmp_path / "run"
    train(cfg, out=out, device="cpu")
    return out


def test_report_of_finished_run_without_metrics_does_not_claim_it_never_finished_an_epoch(tmp_path):
    # report/html.py _standard_sections: a finished run (summary.json says 2 epochs) whose
    # metrics.jsonl is missing is reported as "Run complete." AND "the run stopped before its
    # first epoch ended" -- false; it should refuse (UserError naming metrics.jsonl) or say the
    # file is missing.
    out = _finished_run(tmp_path)
    (out / "metrics.jsonl").unlink()
    try:
        path = build_report(out)
    except UserError as err:
        assert "metrics.jsonl" in str(err)
        return
    assert "stopped before its first epoch ended" not in path.read_text()


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a sentence\n", "42\n"])
def test_report_refuses_a_config_yaml_that_is_not_a_mapping(tmp_path, text):
    """A run's config.yaml that parses to a list, a string or a number is damaged: one clear
    error naming the file (it used to be skipped silently, the report showing no config)."""
    run = _finished_run(tmp_path)
    (run / "config.yaml").write_text(text)
    with pytest.raises(UserError, match=r"config.yaml is not a YAML mapping"):
        build_report(run)
