"""Review diff35i: 818bbe4 (Population expanded inputs, seeds, load_member of numpy/lists) and
838f2ae (runs.enclosing_folder, watch's unknown batch flag)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import trainlab
from trainlab.errors import UserError
from trainlab.population import Population


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


# population.py Population.__init__ (818bbe4): "seeds given as one int give UserErrors", but a
# 0-d numpy array (np.array(5), what np.random.default_rng().integers(9, size=()) returns) is
# an Iterable by isinstance, passes the new check, and list(seeds) raises numpy's raw
# TypeError "iteration over a 0-d array". It is one integer, like 5 or np.int64(5), which get
# "seeds must be a list of K integers". Fix: treat an ndarray with ndim != 1 like the 0-d/2-d
# tensors (refuse with the UserError).
def test_seeds_as_a_0d_numpy_array_is_a_user_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UserError, match="seeds"):
            Population(_mlp(), 3, seeds=np.array(5))


# population.py Population.__init__: Python bools (True) and numpy bools are refused as seeds
# ("seeds must be integers"), but a bool tensor torch.tensor([True, False, True]) (a 1-D
# tensor, now explicitly let through) is taken as seeds [1, 0, 1]: its elements are 0-d
# tensors that are neither floating nor of numel != 1. A mask passed by mistake must be refused
# as the bools are. Fix: also refuse tensors of dtype torch.bool in the element check.
def test_bool_tensor_seeds_are_refused_like_bools() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UserError, match="integers"):
            Population(_mlp(), 3, seeds=[True, False, True])  # (refused today: the contract)
        with pytest.raises(UserError, match="integers"):
            Population(_mlp(), 3, seeds=torch.tensor([True, False, True]))


# population.py load_member (818bbe4): numpy values are converted with torch.as_tensor, which
# refuses an array with a negative stride (np.flip(w), w[::-1]); the UserError then says
# "'0.weight' is a ndarray, not a tensor", although it is an ordinary float array of the right
# shape that the commit promises to load ("numpy/list values ... load"; a transposed array,
# also a view, loads). Expected: it loads, as np.ascontiguousarray(w) does. Fix: convert
# ndarrays with torch.as_tensor(np.ascontiguousarray(t)) (or torch.tensor(t)).
def test_load_member_loads_a_flipped_numpy_array() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(_mlp(), 2)
    state = {n: t.detach().numpy().copy() for n, t in _mlp().state_dict().items()}
    w = np.arange(12, dtype=np.float64).reshape(4, 3)
    state["0.weight"] = w[::-1]
    pop.load_member(1, state)
    torch.testing.assert_close(
        pop.member_state(1)["0.weight"], torch.tensor(w[::-1].copy(), dtype=torch.float32)
    )


def _train_run(root: Path) -> Path:
    run = root / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "population.json").write_text(json.dumps({"models": []}))
    (run / "config.yaml").write_text("{}\n")
    (run / "checkpoints" / "last.pt").write_bytes(b"x")
    return run


# runs.py enclosing_folder (838f2ae; used by RunDir.require and report/rundata.read_run) walks
# path.absolute().parents, which are lexical: ".." is not collapsed. From inside a training run
# (cwd = run/), a file of a sibling folder "../notes/x.txt" has the "parents" run/../notes,
# run/.. and run/ itself, so the message says "pass its run's folder (.)": the file is in no
# run, and "." is not its folder. (Absolute paths with ".." name "…/run/checkpoints/.." the
# same way.) Expected: no run folder named for a file outside every run. Fix: walk the parents
# of Path(os.path.normpath(path.absolute())) (or of path.resolve(), which also follows a
# symlink such as ck -> run/checkpoints in "ck/last.pt").
@pytest.mark.parametrize("who", ["report", "load_run"])
def test_a_file_outside_the_run_reached_through_dotdot_names_no_run(
    tmp_path, monkeypatch, who
) -> None:
    from trainlab.report.rundata import read_run

    run = _train_run(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("hi\n")
    call = read_run if who == "report" else trainlab.load_run
    monkeypatch.chdir(run)
    with pytest.raises(UserError) as info:
        call(Path("../notes/x.txt"))
    msg = str(info.value)
    assert "pass its run's folder" not in msg, msg
    with pytest.raises(UserError) as info:  # the same file written absolutely, through ".."
        call(Path(os.path.join(run, "checkpoints", "..", "..", "notes", "x.txt")))
    assert "pass its run's folder" not in str(info.value), str(info.value)


# diagnostics/watch.py _units_before (838f2ae): a LayerNorm's (or layer scale's) entry now
# stores its batch flag as unknown (None), but the first loop, which returns the entry whose
# output has the activation's shape, turns None into bool(None) = False, "batched". One
# unbatched sample x (5,) through Linear(5, 8) -> LayerNorm(8) -> ReLU is then read as a batch
# of 8 samples of one unit: dead_fraction 0.0, while the same sample as x[None] gives the
# fraction of the 8 units <= 0 (computed by hand below; 0.5 here). The Linear before it knows
# the input is unbatched. Fix: for an entry with an unknown flag, take the flag of the latest
# earlier entry that knows it (as the fallback's "every layer that tells") instead of False.
def test_unbatched_sample_through_layernorm_then_relu_reads_as_one_sample() -> None:
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 8), nn.LayerNorm(8), nn.ReLU())
    x = torch.randn(5)
    with torch.no_grad():
        hand = (m(x) <= 0).float().mean().item()
    assert 0.1 < hand < 0.9

    def dead(inp: torch.Tensor) -> float:
        with watch(m, every=1) as w:
            m(inp).sum().backward()
            recs = w.records()
        (rec,) = [r for r in recs if r["layer"] == "2"]
        return rec["dead_fraction"]

    assert abs(dead(x[None]) - hand) < 1e-6
    assert abs(dead(x) - hand) < 1e-6
