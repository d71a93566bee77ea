"""Review of ``trainlab pretrain`` (src/trainlab/pretrain/run.py, src/trainlab/cli/pretrain.py):
config validation, what a failed run leaves behind, and what the run directory promises."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_pretrain_cli


def _assert_one_line_user_error(code, err, out):
    assert "Traceback" not in err, err[-2000:]
    assert code == 2, (code, err[-2000:])
    assert len(err.strip().splitlines()) <= 2, err
    assert not out.exists(), sorted(p.name for p in out.iterdir())


# ------------------------------------------------------------------------- config types
@pytest.mark.parametrize(
    "text",
    [
        "model: {n_components: 2}\ntrain: {n_iter: true, batch_size: 200}\n",
        "seeds: [true, 2]\nmodel: {n_components: 2}\ntrain: {n_iter: 1, batch_size: 200}\n",
        "model: {n_components: true}\ntrain: {n_iter: 1, batch_size: 200}\n",
        "model: {n_components: 2}\ntrain: {n_iter: 1, batch_size: 200}\n"
        "grid: {learning_rate: [0.01, true]}\n",
    ],
    ids=["n_iter-true", "seed-true", "n_components-true", "grid-lr-true"],
)
def test_a_yaml_boolean_is_not_a_number_in_a_pretrain_config(tmp_path, monkeypatch, capsys, text):
    """A YAML boolean where a number belongs (``n_iter: true``, ``seeds: [true, 2]``) is a
    wrong type: the config must be refused with one line and exit 2, and no run made. The
    ``trainlab train`` config refuses it explicitly ("pydantic reads true as 1", config.py
    ``_NoBoolNumbers`` and ``_no_bool_seeds``); ``PretrainConfig`` silently trains with
    ``n_iter=1``, ``n_components=1``, seed 1 or learning rate 1.0 instead, which the user
    never asked for and which ``config.yaml`` then records as if they had."""
    code, err, out = run_pretrain_cli(tmp_path, monkeypatch, capsys, text)
    _assert_one_line_user_error(code, err, out)


# ------------------------------------------------------- settings the estimators refuse
@pytest.mark.parametrize(
    "text",
    [
        "model: {kind: dbn, layers: [3]}\ntrain: {n_iter: 1, learning_rate: .inf}\n",
        "model: {kind: dbn, layers: [3]}\ntrain: {n_iter: 1, weight_decay: .inf}\n",
        "model: {kind: sdae, layers: [3]}\ntrain: {n_iter: 1, learning_rate: .inf}\n",
    ],
    ids=["dbn-lr-inf", "dbn-decay-inf", "sdae-lr-inf"],
)
def test_an_infinite_rate_for_a_stack_is_one_line_and_leaves_no_run(
    tmp_path, monkeypatch, capsys, text
):
    """run.py promises that "the config ... [is] checked before the run directory is made ...
    so a mistake leaves no half-made run behind", and bad configs are one line with exit 2.
    ``learning_rate: .inf`` passes ``PretrainConfig`` (``gt=0``; no ``allow_inf_nan=False`` as
    the train config has) and, for ``rbm``, is refused up front by ``RBMPopulation``; for
    ``dbn``/``sdae`` the estimator refuses it only inside ``fit``, after the run directory
    exists, with scikit-learn's ``InvalidParameterError`` (a ValueError, not a UserError): the
    user gets a traceback, exit 1, and a half-made run (``.lock``, ``config.yaml``) that blocks
    the same ``--out`` on the next try."""
    code, err, out = run_pretrain_cli(tmp_path, monkeypatch, capsys, text)
    _assert_one_line_user_error(code, err, out)


@pytest.mark.parametrize("key", ["seed", "name"])
def test_data_options_that_collide_with_data_keys_are_one_line(tmp_path, monkeypatch, capsys, key):
    """``data.options`` is passed as ``**options`` to ``trainlab.data.load(name, seed=...)``.
    A user who writes the split seed (or the name) under ``options`` (``data: {options:
    {seed: 3}}``) gets ``TypeError: load() got multiple values for keyword argument 'seed'``
    as a traceback with exit 1, where every other bad option (``foo``, ``test_fraction: abc``)
    is one line naming it and exit 2."""
    text = (
        f"data: {{options: {{{key}: {'3' if key == 'seed' else 'digits'}}}}}\n"
        "model: {n_components: 2}\ntrain: {n_iter: 1}\n"
    )
    code, err, out = run_pretrain_cli(tmp_path, monkeypatch, capsys, text)
    _assert_one_line_user_error(code, err, out)
    assert key in err, err


# ------------------------------------------------------------------- the run directory
def test_a_pretrain_population_summary_aggregates_each_grid_point_over_seeds(tmp_path):
    """DESIGN.md's run directory: ``summary.json`` holds "final metrics per model and
    aggregates (mean, std, 95% CI)"; docs/ARCHITECTURE.md fixes the form (``groups``: one per
    override group with ``n`` and ``aggregates`` per metric). ``trainlab pretrain --grid``
    trains seeds x grid exactly so that each grid point can be compared across seeds (the
    example: 3 seeds x 2 learning rates), but its summary.json lists the models only, with no
    mean/std per learning rate, so the seed spread of a grid point is never reported."""
    from trainlab.pretrain.run import PretrainConfig, run_pretrain

    cfg = PretrainConfig.model_validate(
        {
            "model": {"n_components": 4},
            "train": {"n_iter": 1, "batch_size": 50},
            "seeds": [0, 1],
            "grid": {"learning_rate": [0.02, 0.1]},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    assert "groups" in summary, sorted(summary)
    groups = {g["group"]: g for g in summary["groups"]}
    assert len(groups) == 2, groups
    for name, g in groups.items():
        members = [m for m in summary["models"] if m["group"] == name]
        assert g["n"] == len(members) == 2
        want = np.mean([m["test_reconstruction_error"] for m in members])
        got = g["aggregates"]["test_reconstruction_error"]["mean"]
        assert got == pytest.approx(want, rel=1e-6)


def test_a_grid_value_given_twice_is_refused():
    """``--grid learning_rate=0.1,0.1`` made two identical models (duplicate seeds are refused,
    as a training config's grid refuses a value listed twice)."""
    from trainlab.errors import ConfigError
    from trainlab.pretrain.run import _validate

    with pytest.raises(ConfigError, match="lists 0.1 twice"):
        _validate({"grid": {"learning_rate": [0.1, 0.1]}}, "cfg")
