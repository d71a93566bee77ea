"""``trainlab schedule CONFIG`` reads the config as ``trainlab train`` will, but never builds
the model: an unknown model option (``hiden`` for ``hidden``) passed with exit 0, to fail only
at training. It is refused with the same one line and exit 2, as an optimizer typo already
was."""

from __future__ import annotations

from conftest import config_file, run_cli

TYPO = """
name: hiden
model: {name: mlp, hiden: [8]}
train: {epochs: 1, batch_size: 256}
population: {seeds: [0]}
"""


def test_schedule_refuses_an_unknown_model_option(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "schedule", config_file(tmp_path, TYPO))
    assert code == 2, (out, err)
    assert "model 'mlp' has no option 'hiden' (did you mean 'hidden'?)" in " ".join(err.split())
    assert "Traceback" not in err
