"""Review diff35h: e482649..HEAD (watch's flush probe and unbatched fallback, PCA's epsilon
docstring, read_run / RunDir.require messages for files and missing folders, --out naming a
file, the integer-text error shown once)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import trainlab
from trainlab.errors import UserError


class _LayerScale(nn.Module):
    """A learned per-channel scale (ConvNeXt / CaiT "layer scale"): own parameters, no known
    unit layout, so watch records it as a layer that forgets the units, with no batch flag it
    can tell (its rank is unknown: recorded as batched, False)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((c, 1, 1), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class _ConvScaleConvFlat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.scale = _LayerScale(8)
        self.conv2 = nn.Conv2d(8, 4, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.scale(self.conv1(x))).flatten(-3))


# watch.py _units_before (e97b410): the fallback (no layer's shape or unit count matches the
# activation's output: a flatten between them) now says "unbatched" only if *every* entry of
# the forward is unbatched. But an entry of a layer whose batch flag cannot be told (a
# parametrised layer of unknown rank: a layer scale, LayerNorm, ...: _unbatched_rank None) is
# stored as False, "batched", and vetoes: one unbatched (C, H, W) sample through conv ->
# layer scale -> conv -> flatten -> ReLU is read as a batch of 144 samples of one unit (0.0),
# while the same sample given as x[None] (and the code before e97b410: the latest entry, conv2,
# unbatched) reads the 144 features of one sample, 74 of them <= 0 (by hand below). An
# unbatched input must read as x[None] does (tests/test_diff21_contracts.py). Fix: in the
# fallback, ignore entries whose batch flag is unknown (store None for them), and say
# unbatched when every entry whose flag is known is unbatched.
def test_unbatched_sample_through_a_layer_of_unknown_rank_reads_as_one_sample() -> None:
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    m = _ConvScaleConvFlat()
    x = torch.randn(3, 6, 6)
    with torch.no_grad():
        y = m(x)  # (144,): one sample's features
    hand = (y <= 0).float().mean().item()
    assert 0.1 < hand < 0.9

    def dead(inp: torch.Tensor) -> float:
        with watch(m, every=1) as w:
            m(inp).sum().backward()
            recs = w.records()
        (rec,) = [r for r in recs if r["layer"] == "relu"]
        return rec["dead_fraction"]

    assert abs(dead(x[None]) - hand) < 1e-6  # the batched reading of the same sample
    assert abs(dead(x) - hand) < 1e-6


def _pretrain_like_run(root: Path) -> Path:
    """What `trainlab pretrain` leaves (checked by a real run): config.yaml, summary.json,
    report_sections.json, metrics.jsonl, model.npz, figures/; no population.json."""
    pr = root / "pr"
    (pr / "figures").mkdir(parents=True)
    (pr / "config.yaml").write_text("name: rbm-digits\nmodel: {kind: rbm}\n")
    (pr / "summary.json").write_text("{}\n")
    (pr / "report_sections.json").write_text("[]\n")
    (pr / "metrics.jsonl").write_text("")
    (pr / "model.npz").write_bytes(b"x")
    return pr


# runs.py RunDir.require (resume, load_run), the branch for a file: the "run's folder" it names
# is the nearest parent with a config.yaml, which a `trainlab pretrain` run has too. So
# `trainlab resume pr/config.yaml` (or load_run) says "pass its run's folder (pr)", and doing
# so is refused next: "pr is not a `trainlab train` run (no population.json) ... only training
# runs resume" (confirmed with a real pretrain run). The fix it names must be one that resume
# takes: look for a training run (config.yaml and population.json: RunDir.resumable), and for
# a pretrain/study folder say that it does not resume.
def test_load_run_on_a_file_in_a_pretrain_run_names_no_folder_it_then_refuses(tmp_path) -> None:
    pr = _pretrain_like_run(tmp_path)
    with pytest.raises(UserError) as follow:  # what following the named fix gives
        trainlab.load_run(pr)
    assert "not a `trainlab train` run" in str(follow.value)
    with pytest.raises(UserError) as info:
        trainlab.load_run(pr / "config.yaml")
    msg = str(info.value)
    assert f"pass its run's folder ({pr})" not in msg, msg


def _train_run(root: Path) -> Path:
    run = root / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "population.json").write_text(json.dumps({"models": []}))
    (run / "config.yaml").write_text("{}\n")
    (run / "checkpoints" / "last.pt").write_bytes(b"x")
    return run


def _named_folder(msg: str) -> Path | None:
    found = re.search(r"pass its run's folder \((.*)\)$", msg)
    return None if found is None else Path(found.group(1))


# report/rundata.py read_run and runs.py RunDir.require (0e34c7d): "a file inside a run names
# the run's folder" looks only at the path's *lexical* parents. Spelled from inside the run
# (`cd run/checkpoints && trainlab report last.pt`, or `trainlab resume last.pt`), the parents
# of "last.pt" are just "." (checkpoints/), so no run is found and the message falls back to
# the generic "pass a run's folder", while run/checkpoints/last.pt from the folder above names
# "run". The same file must get the same answer however its path is written. Fix: search
# path.absolute().parents (and name the folder found, e.g. as os.path.relpath from the cwd:
# "..").
@pytest.mark.parametrize("who", ["report", "load_run"])
def test_a_file_inside_a_run_given_relative_to_its_folder_names_the_run(
    tmp_path, monkeypatch, who
) -> None:
    from trainlab.report.rundata import read_run

    run = _train_run(tmp_path)
    call = read_run if who == "report" else trainlab.load_run
    with pytest.raises(UserError) as above:  # spelled from tmp_path: names the run (fine)
        monkeypatch.chdir(tmp_path)
        call(Path("run/checkpoints/last.pt"))
    assert _named_folder(str(above.value)) == Path("run")
    monkeypatch.chdir(run / "checkpoints")
    with pytest.raises(UserError) as info:
        call(Path("last.pt"))
    named = _named_folder(str(info.value))
    assert named is not None, str(info.value)
    assert named.resolve() == run.resolve()
