"""Review: what the README, docs/ARCHITECTURE.md and the docstrings of today's changes promise
about resuming a run trained on a dataset passed in, and about claiming a run folder, checked
against what the code does."""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import small_config
from trainlab.errors import UserError

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def _one_epoch_run(tmp_path: Path, name: str, dataset=None) -> Path:
    """A 1-epoch run (on ``dataset`` if given, else config.data = digits), its config.yaml
    raised to 2 epochs, which resume allows."""
    from trainlab.train import train

    out = tmp_path / name
    train(small_config(train={"epochs": 1}), out=out, dataset=dataset, device="cpu",
          progress=False)  # fmt: skip
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    cfg["train"]["epochs"] = 2
    (out / "config.yaml").write_text(yaml.safe_dump(cfg))
    return out


def test_resume_refuses_another_dataset_of_the_same_size(digits, tmp_path):
    """README: a run trained with ``train(cfg, dataset=ds)`` "resumes from Python with the same
    dataset passed again", and the change that added it says resume "refuses another" (the
    record in population.json is documented as "enough to refuse a different one"). The
    record is only the name, split sizes, input shape and classes, so a *different* dataset of
    the same size -- another slice of the user's data, a re-drawn split, the default name
    ``arrays`` that every ``arrays_dataset`` gets -- is accepted and the run silently goes on
    training and evaluating on other samples than it started with: its final metrics are
    neither those of the first nor of the second dataset, and nothing says so."""
    from trainlab.pretrain import arrays_dataset
    from trainlab.train import resume

    X, y = digits
    first = arrays_dataset(X[:300], y[:300], X[1000:1100], y[1000:1100])
    other = arrays_dataset(X[300:600], y[300:600], X[1100:1200], y[1100:1200])
    run = _one_epoch_run(tmp_path, "own-data", dataset=first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the train.epochs note
        with pytest.raises(UserError, match="not the one"):
            resume(run, dataset=other, device="cpu", progress=False)


def test_resume_of_a_run_on_config_data_refuses_a_dataset_passed_in(digits, tmp_path):
    """The resume change "refuses another" dataset than the one a run trained on (it
    "silently went on on digits"). The opposite case is still silent: a run trained on its
    config's data (digits, recorded as ``custom_dataset: null``) resumed with ``dataset=``
    (a user who passes their data to every call, as the README's example does for runs on
    their own data) continues on the passed dataset -- the first epoch on digits, the rest on
    other samples -- and its summary says ``dataset: arrays``. A run must resume on the data
    it trained on, or be refused in one line."""
    from trainlab.pretrain import arrays_dataset
    from trainlab.train import resume

    X, y = digits
    other = arrays_dataset(X[:300], y[:300], X[1000:1100], y[1000:1100])
    run = _one_epoch_run(tmp_path, "digits-data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = resume(run, dataset=other, device="cpu", progress=False)
        except UserError:
            return  # refused: the contract holds
    pytest.fail(
        "a run trained on config.data (digits) was resumed on another dataset: summary "
        f"dataset={result.summary['dataset']!r}"
    )


@pytest.mark.parametrize(
    ("study", "work"),
    [("pretraining", "_run_dataset"), ("init_study", "_cells"), ("activations", "measure")],
)
def test_a_study_keeps_its_folder_claimed_while_it_runs(study, work, tmp_path, monkeypatch):
    """``RunDir.create`` documents the run-folder claim: "of two processes that create the
    same folder at once, one gets it and the other is refused" (the crash-safety change: "two
    runs started at once never write into one folder"). The pretraining study calls
    ``create()`` and then removes the claim (``checkpoints/``) at once, leaving the folder
    empty for the whole study (minutes in full mode: it writes nothing until summary.json at
    the end). Meanwhile any other run -- ``trainlab train --out``, the same study started
    again with the same ``--out`` -- finds an empty folder, claims it and writes its
    config.yaml, metrics and report into it; the study then writes its summary.json and
    report.html over that run's. The init and activations studies remove the claim the same
    way. Here another claim is attempted while the study works: it must be refused."""
    import importlib

    from trainlab.runs import RunDir

    module = importlib.import_module(f"trainlab.studies.{study}")

    out = tmp_path / "study"
    attempts: list[str] = []

    class Stop(Exception):
        pass

    def second_writer(*args, **kwargs):  # stands in for the study's training
        try:
            RunDir(out).create()
            attempts.append("claimed by a second run")
        except UserError:
            attempts.append("refused")
        raise Stop

    monkeypatch.setattr(module, work, second_writer)
    with pytest.raises(Stop):
        module.run(out, quick=True, seeds=1, device="cpu")
    assert attempts == ["refused"], attempts


def test_architecture_lists_the_resume_keywords_a_run_may_need():
    """docs/ARCHITECTURE.md gives the public surface of ``train.py`` with full signatures
    (``train(config, *, out=None, device="auto", model=None, dataset=None, ...)``) but
    ``resume(run_dir, *, device=, on_note=)``. Since today's change a run trained on a module
    or dataset passed in cannot be resumed without ``model=`` / ``dataset=`` (the CLI refuses
    it and says so), yet the documented surface has neither keyword: the doc a user or another
    module reads says such runs cannot be resumed from Python at all."""
    from trainlab.train import resume

    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    shown = re.search(r"`resume\(run_dir, \*,([^`]*)\)`", doc)
    assert shown, "ARCHITECTURE.md no longer shows resume's signature"
    documented = set(re.findall(r"(\w+)=", shown.group(1)))
    params = inspect.signature(resume).parameters
    needed = {"model", "dataset"} & set(params)
    assert needed == {"model", "dataset"}
    assert needed <= documented, f"ARCHITECTURE.md's resume() lacks {sorted(needed - documented)}"
