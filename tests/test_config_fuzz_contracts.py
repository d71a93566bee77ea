"""Adversarial review: training configs fuzzed through the Python API (``trainlab.train``).

A fuzzer drew several hundred random but valid configs (every model, activation, optimizer,
schedule, clipping, early stopping, populations with K=1..10 over seeds, variants and grids,
batch sizes 1 / N / > N, every registered synthetic data set and preprocessing) and trained
each for 1-3 epochs, then rebuilt the report, resumed the finished run, and compared a run
interrupted after its first epoch and resumed with the uninterrupted one (summary, weights,
metrics.jsonl, diagnostics.jsonl). All of that held. What broke is values that a Python user
builds configs from: numpy scalars, which the models and data sets accept (``np.int64`` widths
and sample counts are tested contracts) but which the run writer, and some validators, do not.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import trainlab
from trainlab.config import load_config
from trainlab.errors import UserError


def _raw(**sections):
    raw = {
        "name": "review",
        "data": {"name": "blobs", "options": {"n_samples": 60}},
        "model": {"name": "mlp", "hidden": [4]},
        "optim": {"name": "adam", "lr": 0.01},
        "train": {"epochs": 1, "batch_size": 16},
        "population": {"seeds": [0]},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return raw


NUMPY_VALUES = {
    "model.hidden=[np.int64(4)]": {"model": {"hidden": [np.int64(4)]}},
    "data.options.n_samples=np.int64(60)": {
        "data": {"name": "blobs", "options": {"n_samples": np.int64(60)}}
    },
    "model.batch_norm=np.bool_(True)": {"model": {"hidden": [4], "batch_norm": np.bool_(True)}},
    "grid optim.lr=float32 values": {
        "population": {"seeds": [0], "grid": {"optim.lr": [np.float32(0.01), np.float32(0.1)]}}
    },
}


@pytest.mark.parametrize("sections", NUMPY_VALUES.values(), ids=list(NUMPY_VALUES))
def test_a_config_with_numpy_numbers_that_trains_in_memory_also_trains_into_a_run_folder(
    tmp_path, sections
):
    """A config whose open sections or grid hold numpy scalars (a width ``np.int64(4)`` from
    ``np.arange``, a sample count from ``np.logspace(...).astype(int)``, ``np.bool_`` from a
    mask, float32 learning rates) trains with ``trainlab.train(..., write=False)``: the models
    and data sets accept numpy numbers on purpose (``_is_int``, ``check_switch``; numpy
    ``n_samples`` and ``depth`` are tested contracts). Whether a config is valid cannot depend
    on ``write=``: the same config given ``out=`` must train and write a run whose
    ``config.yaml`` loads back (or be refused with one UserError before anything is made).
    Today ``dump_config``'s ``model_dump(mode="json")`` raises pydantic's
    ``PydanticSerializationError`` (a traceback) after ``RunDir.create`` has claimed the folder,
    so ``out`` is left holding ``.lock`` and ``checkpoints/`` and a corrected retry into the
    same ``out`` is refused as "already exists"."""
    raw = _raw(**sections)
    in_memory = trainlab.train(raw, write=False, progress=False, device="cpu")
    assert all(m["status"] == "ok" for m in in_memory.summary["models"])
    out = tmp_path / "run"
    try:
        result = trainlab.train(raw, out=out, progress=False, device="cpu")
    except UserError:  # refused in one line is acceptable, but then nothing may be left
        assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())
        return
    assert result.run_dir is not None
    load_config(out / "config.yaml")  # the written config reads back
    assert [m["final"] for m in result.summary["models"]] == [
        m["final"] for m in in_memory.summary["models"]
    ]


def test_a_numpy_integer_schedule_parameter_is_a_number(tmp_path):
    """``create_schedule``'s parameters are documented as "each a number or a (K,) tensor", and
    a per-model list of numpy integers (``step_size: [np.int64(1), np.int64(2)]``) is accepted
    (``numbers.Real``). One numpy integer for all models (``step_size: np.int64(1)``, e.g. from
    ``np.arange``) must be accepted the same way, and train as ``step_size: 1`` does. Today
    ``_Params.num`` checks ``isinstance(value, int | float | Tensor)`` for a single value and
    refuses it with the self-contradictory "step_size must be a number, got np.int64(1)"."""
    plain = trainlab.train(
        _raw(schedule={"name": "step", "step_size": 1, "gamma": 0.5}),
        write=False, progress=False, device="cpu",
    )  # fmt: skip
    as_numpy = trainlab.train(
        _raw(schedule={"name": "step", "step_size": np.int64(1), "gamma": 0.5}),
        write=False, progress=False, device="cpu",
    )  # fmt: skip
    assert as_numpy.summary["models"][0]["final"] == plain.summary["models"][0]["final"]


def test_a_numpy_bool_optimizer_switch_is_a_switch():
    """``optim.nesterov: np.True_`` (a flag from a numpy array of settings) was refused as
    "must be true or false, got np.True_" (numpy 2 names its bool type ``bool``), while the
    models' switches take it: one rule for every switch."""
    from trainlab.optim import create_optimizer

    p = [torch.nn.Parameter(torch.zeros(2, 3))]
    opt = create_optimizer("sgd", p, lr=0.1, momentum=0.9, nesterov=np.True_)
    assert opt.param_groups[0]["nesterov"] is True
