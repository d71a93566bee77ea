"""Review (diff17): defects introduced by this session's changes (3a2150f..HEAD). Each test fails
on the code it was written against."""

from __future__ import annotations

import signal

import pytest
import torch
import yaml
from sklearn import datasets as _sklearn_datasets  # noqa: F401 (imported once, at collection)

from conftest import small_config
from trainlab.errors import UserError
from trainlab.train import Trainer, resume, train


def test_resume_of_a_finished_run_with_diagnose_every_newly_set_does_not_fail(tmp_path):
    # train.py _fit: the trainer now writes verdict.json whenever a watch ran, via read_records,
    # which raises "diagnostics.jsonl does not exist; train with --diagnose" when a resume had
    # nothing left to train (train.diagnose_every may change on resume): the resume fails (exit 2
    # in the CLI) after writing summary.json. Right: it completes (no records: no verdict, or one)
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1, "batch_size": 256}), out=out, progress=False,
          device="cpu")  # fmt: skip
    path = out / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["train"]["diagnose_every"] = 5
    path.write_text(yaml.safe_dump(raw))
    result = resume(out, progress=False, device="cpu", on_note=lambda _: None)
    assert result.summary["models"][0]["status"] == "ok"


def test_step_on_refuses_an_empty_batch():
    # Trainer.step_on's new shape check takes a (K, 0) index tensor: the step's loss is NaN and
    # every model is marked dead for good (alive all False), silently. Right: a UserError, as for
    # any other wrong shape (a batch has at least one row)
    trainer = Trainer(small_config(population={"seeds": [0, 1]}), device="cpu")
    with pytest.raises(UserError):
        trainer.step_on(torch.zeros(2, 0, dtype=torch.int64))
    assert bool(trainer.alive.all())


def test_coprime_stride_with_a_zero_length_returns_instead_of_looping_forever():
    # stats.coprime_stride (new, in __all__): every s divides 0, so a 0 among `lengths` (a
    # 0-size dimension) loops forever. Right: return (a 0 length constrains nothing), or raise
    from trainlab.diagnostics import stats

    def _hang(*_):
        raise TimeoutError("coprime_stride([0], 2) did not return")

    old = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(2)
    try:
        s = stats.coprime_stride([0, 16], 2)
    except (UserError, ValueError):
        s = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert s is None or 16 % s != 0
