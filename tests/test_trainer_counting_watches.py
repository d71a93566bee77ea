"""The trainer skips a watch's hooks on the steps it only counts (``counting_watches``).

Between samples, a ``train.diagnose_every`` watch's root hooks would only count the step; the
trainer calls the population's ``forward`` itself and counts it for them. What the run records
and trains must be what it is with the hooks called."""

import importlib

import pytest
import torch
from torch import nn

from conftest import small_config, watched_training_forwards
from trainlab.diagnostics import watch
from trainlab.diagnostics.watch import counting_watches
from trainlab.train import Trainer

watch_module = importlib.import_module("trainlab.diagnostics.watch")  # (the package's
# `watch` attribute is the function)


def test_counting_watches_only_where_every_root_hook_is_a_watch_that_only_counts():
    pop = Trainer(small_config(), device="cpu").pop
    assert counting_watches(pop) is None  # no hooks: nothing to count for
    with watch(pop, every=50) as w:
        assert counting_watches(pop) is None  # its step 0 is next: sampled
        w._step = 3  # as after steps 0..3: step 4 is not sampled
        assert counting_watches(pop) == [w]
        with watch(pop, every=1):  # a second watch, sampling every step
            assert counting_watches(pop) is None
        inner = next(m for m in pop.modules() if m is not pop)
        with watch(inner, every=1):  # hooks inside the population run in its forward
            assert counting_watches(pop) == [w]
        h = pop.register_forward_hook(lambda m, i, o: None)  # a user's hook on the root
        assert counting_watches(pop) is None
        h.remove()
        h = pop.register_forward_pre_hook(lambda m, i: None)
        assert counting_watches(pop) is None
        h.remove()
        h = pop.register_full_backward_hook(lambda m, gi, go: None)
        assert counting_watches(pop) is None
        h.remove()
        h = nn.modules.module.register_module_forward_hook(lambda m, i, o: None)
        try:
            assert counting_watches(pop) is None
        finally:
            h.remove()
        assert counting_watches(pop) == [w]
        pop._compiled_call_impl = lambda *a, **k: None  # as module.compile() leaves it
        try:
            assert counting_watches(pop) is None
        finally:
            pop._compiled_call_impl = None
        other = nn.Linear(3, 3)
        with watch(other, every=50):  # another model's watch: not on this root
            assert counting_watches(pop) == [w]
    assert counting_watches(pop) is None


def _fit(monkeypatch, skip: bool, user_hook: bool = False):
    """A 2-model trainer with diagnose_every 10 fitted for 3 epochs; the number of training
    forwards the watch's pre-forward hook saw."""
    if not skip:
        monkeypatch.setattr(watch_module, "counting_watches", lambda module: None)
    seen = watched_training_forwards(monkeypatch)
    cfg = small_config(train={"epochs": 3, "diagnose_every": 10}, population={"seeds": [0, 1]})
    trainer = Trainer(cfg, device="cpu")
    calls = []
    if user_hook:
        trainer.pop.register_forward_hook(lambda m, i, o: calls.append(m.training))
    trainer.fit(None, progress=False)
    monkeypatch.undo()
    return trainer, seen, calls


def test_unsampled_steps_run_no_watch_hook_and_record_what_hooked_steps_record(monkeypatch):
    hooked, seen_hooked, _ = _fit(monkeypatch, skip=False)
    skipped, seen_skipped, _ = _fit(monkeypatch, skip=True)
    steps = skipped.step
    assert steps == hooked.step and steps > 30
    assert seen_hooked == list(range(steps))  # every step called the hook
    sampled = list(range(0, steps, 10))
    # only a sampled step and the one after it (which finishes its update ratio) call it
    assert seen_skipped == sorted({s + d for s in sampled for d in (0, 1)} & set(range(steps)))
    assert skipped.diagnostics == hooked.diagnostics
    assert sorted({r["step"] for r in skipped.diagnostics}) == sampled
    for a, b in zip(skipped.pop.parameters(), hooked.pop.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_users_hook_on_the_population_still_runs_every_step(monkeypatch):
    trainer, seen, calls = _fit(monkeypatch, skip=True, user_hook=True)
    assert seen == list(range(trainer.step))
    assert calls.count(True) == trainer.step


@pytest.mark.parametrize("every", [1, 8])
def test_a_watch_with_layer_hooks_between_samples_is_not_skipped(every):
    """every <= 8 keeps the layer hooks registered: no step only counts."""
    pop = Trainer(small_config(), device="cpu").pop
    with watch(pop, every=every) as w:
        w._step = 2
        assert counting_watches(pop) is None
