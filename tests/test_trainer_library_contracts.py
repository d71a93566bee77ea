"""Adversarial review: ``trainlab.Trainer`` used as a library (its public methods and attributes
rather than ``train()``): state round trips, hand-driven loops, interruptions, docstrings."""

from __future__ import annotations

import copy
import inspect
import io

import pytest
import torch

from conftest import small_config
from trainlab.errors import UserError
from trainlab.train import Trainer


def _same_weights(a: Trainer, b: Trainer) -> bool:
    sa, sb = a.pop.state_dict(), b.pop.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _cfg(epochs: int = 3):
    return small_config(train={"epochs": epochs})


def test_one_checkpoint_dict_loaded_twice_gives_the_same_continuation():
    """A checkpoint dict kept in memory (deep-copied, as a careful user does) and loaded into
    two fresh Trainers must give both the same continuation: the uninterrupted run's weights.
    ``Trainer.load_state_dict`` keeps references into the dict it was given (the optimizer's
    moment tensors, the ``alive`` mask), so training the first Trainer rewrites the dict in
    place and the second one continues from the first one's *end* state. A notebook user who
    keeps a "best so far" snapshot and rolls back to it twice, or forks a run to try two
    things from one point, silently gets corrupted results."""
    cfg = _cfg(3)
    ref = Trainer(cfg, device="cpu")
    ref.fit(progress=False)

    a = Trainer(cfg, device="cpu")
    a.train_epoch()
    snapshot = copy.deepcopy(a.state_dict())

    b = Trainer(cfg, device="cpu")
    b.load_state_dict(snapshot)
    b.fit(progress=False)
    c = Trainer(cfg, device="cpu")
    c.load_state_dict(snapshot)
    c.fit(progress=False)
    assert _same_weights(b, ref)
    assert _same_weights(c, ref), (
        "the second load continued from a checkpoint dict that the first Trainer's training "
        "had rewritten"
    )


def test_a_nan_after_loading_does_not_mark_the_checkpoint_dicts_model_dead():
    """``load_state_dict`` must copy what it loads: a model that later fails (NaN/Inf) in the
    Trainer that loaded a checkpoint must not be marked dead in the checkpoint dict itself.
    Here ``self.alive = state["alive"].to(self.device)`` is the dict's own tensor on the same
    device, and ``step_on`` updates it in place (``self.alive &= ~failed``), so the snapshot
    taken while the model was healthy now says it failed: any Trainer loaded from it again
    starts with that model stopped (and its summary says ``nan``)."""
    cfg = _cfg(3)
    a = Trainer(cfg, device="cpu")
    a.train_epoch()
    snapshot = copy.deepcopy(a.state_dict())
    assert snapshot["alive"].tolist() == [True]

    b = Trainer(cfg, device="cpu")
    b.load_state_dict(snapshot)
    b.lr_override = torch.full((1,), 1e30, dtype=torch.float64)  # documented knob: blow it up
    b.train_epoch()
    assert b.alive.tolist() == [False]  # (the NaN happened, in b)
    assert snapshot["alive"].tolist() == [True], "b's NaN was written into the checkpoint dict"

    c = Trainer(cfg, device="cpu")
    c.load_state_dict(snapshot)
    assert c.alive.tolist() == [True]


def test_lr_override_survives_a_state_dict_round_trip():
    """``Trainer.lr_override`` is public (docs/ARCHITECTURE.md: "a ``(K,)`` tensor that replaces
    the schedule") and is the learning rate every following step uses, yet ``state_dict()``
    does not hold it (its comment says the step is the schedule's "whole state"). A Trainer
    restored from the state of one trained with an override continues on the config's
    schedule instead: not the continuation of the run it was saved from."""
    cfg = _cfg(3)
    a = Trainer(cfg, device="cpu")
    a.lr_override = torch.full((1,), 0.003, dtype=torch.float64)
    a.train_epoch()
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = Trainer(cfg, device="cpu")
    b.load_state_dict(torch.load(buf, weights_only=True))
    a.fit(progress=False)
    b.fit(progress=False)
    assert _same_weights(a, b), "the restored Trainer trained at other learning rates"


class _CtrlC:
    """A progress sink that raises KeyboardInterrupt at its ``n``-th tick (a Ctrl-C then)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def advance(self, task, amount) -> None:  # noqa: ARG002
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


def test_fit_after_a_ctrl_c_mid_epoch_continues_the_run_or_refuses():
    """In a notebook, Ctrl-C during ``fit()``/``train_epoch()`` and then ``fit()`` again is the
    natural way to go on. After an interrupted epoch the Trainer's ``step`` has advanced (the
    weights took those steps) but ``epoch`` has not, and ``train_epoch`` restarts the epoch
    from its first batch: the epoch's first batches are trained twice, the schedule and the
    dropout/step counters are shifted, and the run ends with more steps than
    ``epochs × steps_per_epoch`` — silently a different run. Going on must either reach the
    uninterrupted weights (the data order is a function of (seed, epoch), so the epoch can be
    finished from the step it stopped at) or be refused with a clear error."""
    cfg = _cfg(2)
    ref = Trainer(cfg, device="cpu")
    ref.fit(progress=False)

    t = Trainer(cfg, device="cpu")
    with pytest.raises(KeyboardInterrupt):
        t.train_epoch(progress=_CtrlC(5), task=None)  # tick = 1 step here: 5 steps done
    try:
        summary = t.fit(progress=False)
    except UserError:
        return  # refused clearly: acceptable
    assert summary["steps"] == ref.step, f"{summary['steps']} steps trained, the run has {ref.step}"
    assert _same_weights(t, ref)


def test_fit_given_a_folder_is_a_user_error_or_works(tmp_path):
    """``Trainer.fit(run)`` (docs/ARCHITECTURE.md lists ``.fit(run)``; the docstring does not say
    what ``run`` is) given a folder path, as every other trainlab function takes one, ends in
    ``AttributeError: 'PosixPath' object has no attribute 'lock'``; given a ``RunDir`` of a
    folder not made yet, in a raw ``FileNotFoundError`` on ``.lock``. User mistakes must raise
    :class:`UserError` naming the fix (docs/ARCHITECTURE.md conventions), or the call work."""
    from trainlab.runs import RunDir

    for run in (tmp_path / "as_path", RunDir(tmp_path / "not_made")):
        t = Trainer(_cfg(1), device="cpu")
        try:
            t.fit(run, progress=False)
        except UserError:
            continue


def test_every_public_trainer_method_says_what_it_does():
    """A power user reads ``help(Trainer)``: every public method must have a docstring.
    ``state_dict`` and ``load_state_dict`` have none, although their contract is subtle
    (what is held, whether the dict is copied, mid-epoch states, that the config is not
    compared as ``resume`` does)."""
    missing = [
        name
        for name, fn in inspect.getmembers(Trainer, inspect.isfunction)
        if not name.startswith("_") and not inspect.getdoc(fn)
    ]
    assert missing == []
