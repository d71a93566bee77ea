"""Review: the pre-train then fine-tune journey (DBN / SDAE -> ``to_module()`` -> the trainer).

Each test states one contract a user relies on when fine-tuning a pre-trained stack as a
population, and fails on the current code.
"""

from __future__ import annotations

import pytest
import torch

from conftest import ctrl_c_in_second_epoch, run_cli
from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.pretrain import DBN, arrays_dataset, fine_tune


@pytest.fixture(scope="module")
def small():
    """A fitted 64-16-8 DBN on digits in [0, 1] and an ``arrays_dataset`` to fine-tune on."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    dbn = DBN([16, 8], n_iter=1, random_state=0).fit(X[:500])
    ds = arrays_dataset(X[:500], y[:500], X[500:700], y[500:700])
    return dbn, ds


def _module(dbn):
    return dbn.to_module(10, generator=torch.Generator().manual_seed(0))


def test_fine_tune_trains_a_module_with_frozen_layers_as_frozen_beside_an_unfrozen_one(small):
    """``fine_tune(modules, ...)``: "model ``i`` starts from ``modules[i]``'s weights" and every
    module must have the same architecture, else a clear refusal. The classic transfer
    comparison -- fine-tune only the top layer (``fc1``/``fc2`` frozen with
    ``requires_grad_(False)``) vs the whole net -- passes two modules that differ only in which
    parameters are frozen. ``fine_tune`` builds the population from ``modules[0]`` alone and
    copies only the others' ``state_dict``, and its architecture check (class, ``repr``, names,
    shapes, dtypes) does not see ``requires_grad``; so the frozen net in slot 1 is silently
    trained end to end (and, the other way round, a full net beside a frozen one is silently
    frozen). A model's result must depend only on its own module and seed, never on its
    neighbour (DESIGN.md principle 2): it must end where it ends alone, or be refused."""
    dbn, ds = small
    full = _module(dbn)
    top = _module(dbn)
    top.fc1.requires_grad_(False)
    top.fc2.requires_grad_(False)
    alone = fine_tune([top], ds, seeds=[1], epochs=2, lr=1e-2)["models"][0]["final"]
    try:
        mixed = fine_tune([full, top], ds, seeds=[0, 1], epochs=2, lr=1e-2)
    except UserError:
        return  # refusing modules that freeze different parameters keeps the contract
    got = mixed["models"][1]["final"]
    assert got["train_loss"] == pytest.approx(alone["train_loss"], rel=1e-6), (got, alone)


@pytest.mark.parametrize("what", ["the DBN itself", "a list holding the DBN", "no modules"])
def test_fine_tune_given_no_module_is_a_clear_error(small, what):
    """The DBN docstring says: unroll with ``to_module()``, then "fine-tune it with
    :func:`fine_tune`". Forgetting the ``to_module`` step -- ``fine_tune(dbn, ds)`` or
    ``fine_tune([dbn], ds)`` -- or passing an empty list (a comprehension over zero seeds) is a
    plausible user mistake. ``train(cfg, model=dbn)`` answers it with a one-line
    ``UserError`` ("model must be an nn.Module instance, got DBN(...)"), and ``fine_tune``
    already checks ``modules[1:]`` with ``isinstance(m, nn.Module)``; but ``modules[0]`` is
    used unchecked, so the user gets a raw ``TypeError: 'DBN' object is not iterable``,
    ``AttributeError: 'DBN' object has no attribute 'named_parameters'`` or ``IndexError``
    from inside trainlab. It must be a ``UserError`` that says what to pass."""
    dbn, ds = small
    modules = {"the DBN itself": dbn, "a list holding the DBN": [dbn], "no modules": []}[what]
    with pytest.raises(UserError):
        fine_tune(modules, ds, epochs=1)


def test_interrupted_fine_tuning_run_names_a_resume_that_works(
    small, tmp_path, monkeypatch, capsys
):
    """A Ctrl-C during ``train(cfg, model=module, out=DIR)`` (fine-tuning an unrolled DBN, as
    the README and ``train``'s docstring describe) re-raises ``KeyboardInterrupt`` with a note
    that tells the user what to run next (``errors.on_interrupt``: "what became of the work,
    what to run next"). The note says "continue the run with `trainlab resume DIR`", but that
    command refuses every run trained on a module passed in ("resume it from Python:
    trainlab.train.resume(dir, model=the_same_module)", exit 2). The advice printed at the
    moment of the interruption must work: either the note names the Python resume with
    ``model=``, or the command it names resumes the run."""
    from trainlab.train import Trainer, train

    dbn, ds = small
    cfg = parse_config(
        {
            "name": "ft",
            "init": {"scheme": "keep"},
            "train": {"epochs": 2, "batch_size": 64},
            "population": {"seeds": [0]},
        }
    )
    real = ctrl_c_in_second_epoch(monkeypatch)
    run = tmp_path / "ft"
    with pytest.raises(KeyboardInterrupt) as info:
        train(cfg, model=_module(dbn), dataset=ds, out=run, progress=False, device="cpu")
    monkeypatch.setattr(Trainer, "train_epoch", real)
    note = " ".join(getattr(info.value, "__notes__", []))
    assert note, "the interruption carries no note on how to continue"
    if "model=" in note:
        return  # the note names the resume that works for a module passed in
    assert "trainlab resume" in note, note
    code, _, err = run_cli(monkeypatch, capsys, "resume", run)
    assert code == 0, f"the note said {note!r}, but that command answers: {err.strip()}"


def test_keep_scheme_rejects_a_misspelt_init_option_like_every_other_scheme(small):
    """Fine-tuning a pre-trained module needs ``init: {scheme: keep}``. Issue 3 promises that
    config keys a user gets wrong are rejected with a "did you mean" hint, and the trainer
    does so for every scheme (``init: {scheme: he_normal, bais: 0.01}`` -> "init scheme
    'he_normal' has no option 'bais' (did you mean 'bias'?)"); ``trainlab.init.apply(model,
    'keep', std=0.1)`` refuses unknown options too. But with ``scheme: keep`` the trainer never
    calls ``init.apply``, so ``init: {scheme: keep, bais: 0.01}`` (or ``std: 0.1``) trains
    without a word and ``config.yaml`` records a key that did nothing. A key that does not
    apply must be an error, never silently ignored."""
    from trainlab.train import Trainer

    dbn, ds = small
    cfg = parse_config(
        {
            "name": "ft",
            "init": {"scheme": "keep", "bais": 0.01},
            "train": {"epochs": 1, "batch_size": 64},
            "population": {"seeds": [0]},
        }
    )
    with pytest.raises(UserError, match="bais"):
        Trainer(cfg, device="cpu", model=_module(dbn), dataset=ds)
