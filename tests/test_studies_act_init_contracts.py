"""Adversarial review of the ``activations`` and ``init`` studies (issue 4): the public
``activations.measure`` against a plain-torch recomputation, the studies' claim on their output
folder, and what their tables say about the spread over seeds. Tiny sizes only."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from trainlab import init as init_mod
from trainlab.errors import UserError
from trainlab.studies import activations as act_study
from trainlab.studies import init_study, run_study


def _plain_torch_stds(fn, scheme: str, *, width: int, depth: int, batch: int, seed: int):
    """Seed ``seed``'s per-layer std recomputed as ``measure`` documents it: the seed's
    generator draws the input first, then the weights layer by layer."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g)
    stds = []
    for _ in range(depth):
        w = init_mod.init_tensor(torch.empty(width, width), scheme, generator=g)
        x = fn(x @ w.T)
        stds.append(float(x.std()))
    return stds


@pytest.mark.parametrize(
    ("name", "fn"),
    [("sigmoid", torch.sigmoid), ("Tanh", torch.tanh), ("gelu", torch.nn.functional.gelu)],
)
def test_measure_does_not_silently_compute_relu_for_another_activation(name, fn) -> None:
    """``trainlab.studies.activations.measure`` is public (in ``__all__``) and takes the
    activation by name. A name it does not implement must be refused with a ``ValueError``
    naming the choices (the house rule for every registry name), or else measured with that
    activation. Today every name other than the exact string ``"tanh"`` is run as ReLU: a
    notebook user who asks for ``"sigmoid"``, ``"gelu"`` or ``"Tanh"`` gets ReLU statistics
    labelled with the name they asked for, with no warning, and draws the wrong conclusion about
    how that activation behaves at initialization."""
    kw = {"width": 32, "depth": 3, "batch": 16, "seeds": [0]}
    try:
        got = act_study.measure(name, "xavier_normal", {}, **kw)
    except ValueError:
        return  # refused: fine
    expected = _plain_torch_stds(fn, "xavier_normal", width=32, depth=3, batch=16, seed=0)
    relu = _plain_torch_stds(torch.relu, "xavier_normal", width=32, depth=3, batch=16, seed=0)
    stds = [layer[0] for layer in got["std"]]
    assert stds != pytest.approx(relu, rel=1e-5), f"measure({name!r}) computed ReLU statistics"
    assert stds == pytest.approx(expected, rel=1e-4), (name, stds, expected)


class _Reached(Exception):
    """Raised in place of the study's computation, once it has claimed its folder."""


def test_default_study_folder_taken_at_the_same_moment_takes_the_next_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_study(name)`` with no ``out`` picks ``runs/study-<name>[-quick]`` "or -2, -3, ...
    if taken (as train does)" (its own comment). ``trainlab train`` claims a name it chose with
    ``RunDir.create(renumber=True)``, so that a run started at the same moment takes the next
    free name (runs.py: "with ``renumber`` (a name trainlab chose, not the user's ``--out``)
    takes the next free ``<name>-N``"). The studies claim the chosen default with a plain
    ``create()``: when another process takes ``runs/study-activations-quick`` between the
    choice and the claim (two CI jobs or two terminals started together), the study fails with
    "already exists; pass a new --out" although the user passed no ``--out``. Simulated here by
    occupying the chosen folder right after it was chosen; the other process's folder must be
    left alone and this study must go on in a folder of its own."""
    import trainlab.train as train_mod

    monkeypatch.chdir(tmp_path)
    real = train_mod.default_run_dir
    taken: list[Path] = []

    def chosen_then_taken(name: str, *args, **kwargs) -> Path:
        path = real(name, *args, **kwargs)
        path.mkdir(parents=True)  # another process claims it first
        (path / "other.txt").write_text("the other run's data")
        taken.append(path)
        return path

    def reached(*_args, **_kwargs):
        raise _Reached

    monkeypatch.setattr(train_mod, "default_run_dir", chosen_then_taken)
    monkeypatch.setattr(act_study, "measure", reached)  # stop once the folder is claimed
    try:
        run_study("activations", quick=True, seeds=1, device="cpu")
    except _Reached:
        pass
    except UserError as err:
        pytest.fail(f"a default study folder taken at the same moment was not renumbered: {err}")
    (other,) = taken
    assert (other / "other.txt").read_text() == "the other run's data"
    claimed = [p for p in (tmp_path / "runs").iterdir() if p != other]
    assert claimed, "the study did not claim a folder of its own"


@pytest.fixture(scope="module")
def one_seed_init(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The init study shrunk to one tiny cell (digits, 2 hidden layers of width 8, 1 epoch),
    run with ``seeds=1``."""
    cell = {"data": "digits", "depth": 2, "act": "relu", "schemes": ["zeros", "He"], "epochs": 1}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(init_study, "_cells", lambda quick: [dict(cell)])
        mp.setattr(init_study, "QUICK_WIDTH", 8)
        return init_study.run(
            tmp_path_factory.mktemp("init1") / "s", quick=True, seeds=1, device="cpu"
        )


def test_init_table_does_not_claim_zero_spread_over_one_seed(one_seed_init: Path) -> None:
    """With ``--seeds 1`` there is no spread over seeds to report: ``aggregate`` says "one seed
    says nothing about the spread", the run report's group table shows the mean alone for
    n = 1 (``fmt_mean_std``), and the init study's own ``_fmt`` has a branch that prints the
    mean alone — but it tests ``std is not None`` while ``aggregate`` returns ``std = 0.0`` for
    n = 1, so that branch never runs and the study's "Final accuracy and loss (mean ± std over
    seeds)" table prints ``0.287 ± 0.000``: a user reads that the seeds agree exactly, a
    statistic nobody measured."""
    res = json.loads((one_seed_init / "results.json").read_text())
    assert res["seeds"] == [0]
    sections = json.loads((one_seed_init / "report_sections.json").read_text())["sections"]
    table = next(
        s for s in sections if s["kind"] == "table" and s["title"].startswith("Final accuracy")
    )
    cols = table["columns"]
    for row in table["rows"]:
        cells = dict(zip(cols, row, strict=True))
        assert cells["n"] == 1
        for key in ("test acc", "train loss"):
            assert "±" not in str(cells[key]), (cells["scheme"], key, cells[key])
    # the numbers themselves are the one seed's (a sanity check of the fixture, not the bug)
    models = res["cells"][0]["models"]
    assert all(math.isfinite(m["final"]["test_acc"]) for m in models)


def test_study_cells_and_optimizer_claims_show_no_spread_for_one_seed() -> None:
    """The shared cell formatter (``cells.pm``) and the optimizers study's claim formatter print
    ``mean ± std`` over seeds. With one seed there is no spread to report: ``± 0.000`` would read
    as seeds agreeing exactly. They show the mean alone, and keep ``±`` for two seeds or more."""
    from trainlab.studies import cells, optimizers

    assert "±" not in cells.pm([0.5]) and "0.500" in cells.pm([0.5])
    assert "±" in cells.pm([0.5, 0.7])
    assert optimizers._ms([0.25], pct=True) == "25.0%"
    assert "±" in optimizers._ms([0.25, 0.3])
