"""A newcomer's walk through README.md, docs/ARCHITECTURE.md, examples/*.yaml and the CLI's
--help, running what they say as written (epochs/passes shortened where noted) and checking the
sentences that the code contradicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from conftest import run_cli

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def _all_keys(node) -> set[str]:
    """Every mapping key in a parsed YAML tree, dotted keys (``init.gain``) also by their last
    part (``gain``)."""
    keys: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            keys |= {str(k), str(k).rsplit(".", 1)[-1]}
            keys |= _all_keys(v)
    elif isinstance(node, list):
        for v in node:
            keys |= _all_keys(v)
    return keys


@pytest.mark.parametrize("kind", ["dbn", "sdae"])
def test_pretrain_summary_of_a_stack_has_final_numbers_and_aggregates(
    kind, tmp_path, monkeypatch, capsys
):
    """``trainlab pretrain`` documents its ``summary.json`` (``trainlab.pretrain.run``'s module
    docstring, the run directory contract): "per model its seed, group and final numbers;
    ``aggregates`` and per grid point ``groups`` with mean, std and 95% CI over seeds, as a
    training run's". For ``rbm`` it is so, but for ``dbn`` (``examples/pretrain_dbn.yaml``, run
    here with 2 passes per layer and seeds [0, 1] instead of 30 passes and one seed) and
    ``sdae`` every model row is only ``{index, seed, layers}``: no group, no final
    reconstruction error/loss, and ``aggregates`` and every group's ``aggregates`` are ``{}``.
    A user who pre-trains a DBN over several seeds to compare them gets nothing to compare in
    the summary (and the report shows no table), although the per-pass numbers exist in
    metrics.jsonl."""
    raw = yaml.safe_load((EXAMPLES / "pretrain_dbn.yaml").read_text())
    raw["seeds"] = [0, 1]
    if kind == "dbn":
        raw["train"]["n_iter"] = 2
    else:
        raw["model"] = {"kind": "sdae", "layers": [32, 16]}
        raw["train"] = {"n_iter": 2}
    cfg = tmp_path / f"{kind}.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", out, "--device", "cpu")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    for row in summary["models"]:
        finals = {k for k, v in row.items() if k not in ("index", "seed", "layers", "group")
                  and isinstance(v, float)}  # fmt: skip
        assert "group" in row and finals, f"model row without group/final numbers: {row}"
    assert summary["aggregates"], "summary.json aggregates is empty"
    for group in summary["groups"]:
        assert group["aggregates"], f"group {group['group']!r} has empty aggregates"
        for stats in group["aggregates"].values():
            assert {"mean", "std", "ci95"} <= set(stats)


def _user_module() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10)
    )


def test_a_global_model_dropout_of_zero_applies_to_a_user_module_as_the_override_does():
    """README: "Any ``nn.Module`` trains the same way: ``train(cfg, model=my_module)``", and
    ``model.dropout`` is one of the keys that "--set a.b=value overrides" and a per-model
    override. For a user module the trainer honours ``model.dropout`` when it comes from
    ``population.variants``/``grid`` (``{model.dropout: 0.0}`` turns the module's
    ``nn.Dropout(0.2)`` off) and when it is a non-zero global value (``model: {dropout: 0.5}``
    sets p = 0.5), but a global ``model: {dropout: 0.0}`` is silently ignored: the model
    trains with p = 0.2 while ``config.yaml`` records ``dropout: 0.0``. The same setting
    written globally or as the only variant must give the same model (K = 1 both times)."""
    from trainlab.train import train

    base = {"init": {"scheme": "keep"}, "train": {"epochs": 1, "batch_size": 64}}
    glob = train(
        {**base, "model": {"dropout": 0.0}, "population": {"seeds": [0]}},
        model=_user_module(), write=False, progress=False, device="cpu",
    )  # fmt: skip
    variant = train(
        {**base, "population": {"seeds": [0], "variants": [{"model.dropout": 0.0}]}},
        model=_user_module(), write=False, progress=False, device="cpu",
    )  # fmt: skip
    got, want = glob.population.member_state(0), variant.population.member_state(0)
    differ = [n for n in want if not torch.equal(got[n], want[n])]
    assert not differ, f"model: {{dropout: 0.0}} was ignored (still p=0.2): {differ} differ"


def test_config_yaml_records_the_init_defaults_of_a_population_over_init_schemes(
    tmp_path, monkeypatch, capsys
):
    """README, Configs: "every default, the model's, init scheme's and optimizer's included,
    is written to the run's ``config.yaml``" (and DESIGN.md: every run is reproducible from its
    directory). Run as the README's quick start does (``trainlab train
    examples/init_schemes.yaml --set train.epochs=5 --out runs/init``, here 1 epoch), the run
    trains Xavier-uniform and He-normal models, yet neither ``config.yaml`` nor anything else
    in the run records Xavier's ``gain`` or He's ``mode``/``nonlinearity``/``negative_slope``
    defaults: once ``population.variants`` override ``init.scheme`` no init default is written
    at all (``init: {scheme: default, bias: 0.0}``). The demo (``make demo``) and every init
    sweep are therefore not fully recorded, contrary to the sentence. (Each model's init scheme
    with every option is now in population.json, as the README says.)"""
    out = tmp_path / "init"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", EXAMPLES / "init_schemes.yaml",
        "--set", "train.epochs=1", "--out", out, "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 0, err
    from trainlab import init

    models = json.loads((out / "population.json").read_text())["models"]
    used = {m["init"]["scheme"] for m in models}
    assert used == {"zeros", "normal", "xavier_uniform", "he_normal"}, used
    for m in models:
        scheme = m["init"]["scheme"]
        missing = set(init.scheme_options(scheme)) - set(m["init"])
        assert not missing, f"model {m['index']} ({scheme}): no record of {sorted(missing)}"
