"""watch()'s deferred reductions (DEFER_BYTES / DEFER_STEPS): the deferred path records what the
immediate path records, its slot buffers stay bounded, and odd steps (a forward that raises, an
empty batch, records() read inside a forward) are handled alike by both paths."""

from __future__ import annotations

import gc
import importlib
import math
import weakref
from collections.abc import Callable

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.population import Population

wm = importlib.import_module("trainlab.diagnostics.watch")  # the package's `watch` is the function

Run = Callable[[], list[dict]]


def _run(monkeypatch: pytest.MonkeyPatch, scenario: Run, defer: bool) -> list[dict]:
    with monkeypatch.context() as mp:
        if not defer:
            mp.setattr(wm, "DEFER_BYTES", 0)
        torch.manual_seed(0)
        return scenario()


def _assert_same_records(monkeypatch: pytest.MonkeyPatch, scenario: Run) -> list[dict]:
    deferred = _run(monkeypatch, scenario, defer=True)
    immediate = _run(monkeypatch, scenario, defer=False)
    assert len(deferred) == len(immediate) > 0
    for a, b in zip(deferred, immediate, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            where = (a["step"], a["layer"], a["model"], key)
            if isinstance(a[key], float) and isinstance(b[key], float):
                if math.isnan(b[key]):
                    assert math.isnan(a[key]), where
                else:
                    assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), where
            else:
                assert a[key] == b[key], where
    return deferred


def _train(model: nn.Module, steps: int, make_x: Callable[[int], torch.Tensor], **kw) -> list[dict]:
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with watch(model, **kw) as w:
        for s in range(steps):
            out = model(make_x(s))
            out = out[0] if isinstance(out, tuple) else out
            loss = out.float().pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert w._defer is not None
        return w.records()


def _mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    )


class _Boom(nn.Module):
    """Identity that raises while ``on``: a forward failing midway (an OOM skipped by the loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.on = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.on:
            raise RuntimeError("boom")
        return x


# -- bounds and odd steps -----------------------------------------------------------------------
def test_deferral_buffers_stay_within_16_mib_when_the_batch_grows():
    """The first sampled step (batch 4) decides to defer; a later batch of 1024 (4 MiB of
    outputs) stops deferring in its forward instead of getting 64 MiB buffers."""
    model = nn.Sequential(nn.Linear(8, 1024), nn.ReLU(), nn.Linear(1024, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    limit = wm.DEFER_STEPS * wm.DEFER_BYTES  # 16 MiB
    biggest = 0
    with watch(model, every=1) as w:
        for b in [4] * 3 + [1024] * 3:
            loss = model(torch.randn(b, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            biggest = max([biggest, *(t.nbytes for t in w._defer_bufs.values())])
    assert biggest <= limit, f"a deferral buffer of {biggest / 2**20:.0f} MiB"


def test_live_deferral_buffers_are_bounded_when_the_batch_size_changes_every_step():
    """With a new batch size at every step (variable-length batches), at most DEFER_SHAPES
    buffers per layer are alive at once: a new shape reduces the steps deferred before it."""
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    refs: dict[int, weakref.ref] = {}
    peak = 0
    with watch(model, every=1) as w:
        for s in range(40):
            loss = model(torch.randn(100 + s, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            for t in w._defer_bufs.values():
                refs.setdefault(id(t), weakref.ref(t))
            peak = max(peak, sum(r() is not None for r in refs.values()))
    assert peak <= wm.DEFER_SHAPES * len(w.layers), f"{peak} slot buffers alive at once"


@pytest.mark.parametrize("defer", [True, False], ids=["deferred", "immediate"])
def test_a_forward_that_raises_does_not_keep_its_activations(monkeypatch, defer):
    """A forward that raises after some watched layers ran (training goes on, as a loop that
    skips an OOM batch does) keeps neither its activations nor their autograd graph."""
    if not defer:
        monkeypatch.setattr(wm, "DEFER_BYTES", 0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), _Boom(), nn.Linear(64, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    seen: list[weakref.ref] = []
    handle = model[0].register_forward_hook(lambda m, a, out: seen.append(weakref.ref(out)))
    with watch(model, every=1) as w:
        for s in range(10):
            model[2].on = s == 4
            try:
                loss = model(torch.randn(16, 8)).pow(2).mean()
            except RuntimeError:
                continue
            opt.zero_grad()
            loss.backward()
            opt.step()
        w.records()
        gc.collect()
        alive = [s for s, r in enumerate(seen) if r() is not None]
    handle.remove()
    assert alive == [], f"activations of steps {alive} still alive"


def test_a_forward_that_raises_does_not_pin_a_deferral_buffer():
    """Nor does it keep its copies (slot views) alive: a buffer evicted from ``_defer_bufs``
    (two newer shapes came) is freed once records() has reduced the steps deferred in it."""
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), _Boom(), nn.Linear(64, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with watch(model, every=1) as w:
        model[2].on = False
        for b in (16, 9):
            loss = model(torch.randn(b, 8)).pow(2).mean()  # batch 9: buffers of that shape
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert w._defer is True
        nine = [weakref.ref(t) for k, t in w._defer_bufs.items() if k[1][1] == 9]
        model[2].on = True
        with pytest.raises(RuntimeError):
            model(torch.randn(9, 8))  # the first two layers copied into their slot
        model[2].on = False
        for s in range(6):  # shapes 16 and 5: the batch-9 buffers are evicted
            loss = model(torch.randn(16 if s % 2 else 5, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        w.records()  # flushes every finished deferred step
        gc.collect()
        assert nine and all(r() is None for r in nine), "a batch-9 buffer is still alive"


@pytest.mark.parametrize("defer", [True, False], ids=["deferred", "immediate"])
def test_a_step_with_an_empty_batch_does_not_crash(monkeypatch, defer):
    """``model(x[mask])`` with an empty mask is a valid training step in PyTorch: its empty
    outputs get no statistics, and the watch goes on."""
    if not defer:
        monkeypatch.setattr(wm, "DEFER_BYTES", 0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with watch(model, every=1) as w:
        for s in range(4):
            loss = model(torch.randn(0 if s == 2 else 16, 8)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        recs = w.records()
    assert {r["step"] for r in recs} == {0, 1, 2, 3}


def test_records_read_inside_a_forward_keep_each_step_its_own_statistics():
    """records() called during a forward (here once, from a user's forward hook on a middle
    layer at step 3, after step 3's first layers were copied) reduces the steps deferred
    before it; step 3 keeps its slot, and no later step overwrites it."""
    torch.manual_seed(0)
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    means: list[float] = []
    model[0].register_forward_hook(lambda m, a, out: means.append(out.detach().mean().item()))
    with watch(model, every=1) as w:

        def read_once(m: nn.Module, a: tuple, out: torch.Tensor) -> None:
            if len(means) == 4:
                w.records()

        model[2].register_forward_hook(read_once)
        for _ in range(10):
            loss = model(torch.randn(16, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        got = [r["act_mean"] for r in w.records() if r["layer"] == "0"]
    assert got == pytest.approx(means, rel=1e-5, abs=1e-6)


def test_device_constants_stay_bounded_when_the_batch_size_changes_every_step():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with watch(model, every=1) as w:  # histogram offsets are cached per set of output sizes
        for s in range(150):
            loss = model(torch.randn(1 + s, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert len(w._cache) <= 64  # not one set per batch size (150 sizes)
        recs = w.records()
    assert len(recs) == 150 * 3


# -- deferred equals immediate ------------------------------------------------------------------
def test_conv_batchnorm_relu_channels_deferred_equal_immediate(monkeypatch):
    def scenario() -> list[dict]:
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.Conv2d(4, 4, 3), nn.GroupNorm(2, 4), nn.PReLU(4), nn.ReLU(inplace=True),
        ).to(memory_format=torch.channels_last)  # fmt: skip
        with torch.no_grad():
            model[1].bias[:2] = -10.0  # two dead channels after the BatchNorm
        x = lambda s: torch.randn(2 + s % 3, 3, 7, 7).to(memory_format=torch.channels_last)  # noqa: E731
        return _train(model, 34, x, every=1)

    recs = _assert_same_records(monkeypatch, scenario)
    assert any(r["dead_fraction"] for r in recs)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_inplace_relu_saturation_and_dtypes_deferred_equal_immediate(monkeypatch, dtype):
    def scenario() -> list[dict]:
        model = nn.Sequential(
            nn.Linear(8, 16), nn.ReLU(inplace=True), nn.Linear(16, 16), nn.Sigmoid(),
            nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3),
        ).to(dtype)  # fmt: skip
        with torch.no_grad():
            model[2].weight.mul_(6)  # saturate
        return _train(model, 34, lambda s: torch.randn(16, 8, dtype=dtype), every=1)

    recs = _assert_same_records(monkeypatch, scenario)
    assert any(r["saturated_fraction"] for r in recs)


def test_lstm_tuple_outputs_with_varying_lengths_every_5_from_step_3(monkeypatch):
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn, self.act, self.head = (
                nn.LSTM(8, 12, batch_first=True),
                nn.ReLU(),
                nn.Linear(12, 3),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.act(self.rnn(x)[0]))

    recs = _assert_same_records(
        monkeypatch,
        lambda: _train(Net(), 90, lambda s: torch.randn(3, 2 + s % 4, 8), every=5, start_step=3),
    )
    assert sorted({r["step"] for r in recs}) == list(range(5, 93, 5))


def test_raise_midway_mid_accumulation_reads_and_reattach_equal_immediate(monkeypatch):
    """Forwards that raise, records()/pop_records() between two forwards of one step, and a
    watch detached and attached again."""

    def scenario() -> list[dict]:
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), _Boom(), nn.Linear(16, 3), nn.Tanh())
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        w = watch(model, every=1)
        recs: list[dict] = []
        for _ in range(3):
            w.attach()
            for s in range(15):
                model[2].on = s in (3, 9)
                b = 5 if s % 4 == 1 else 16
                try:
                    l1 = model(torch.randn(b, 8)).pow(2).mean()
                except RuntimeError:
                    continue
                if s % 3 == 0:
                    recs += w.pop_records()
                elif s % 5 == 0:
                    w.records()
                l2 = model(torch.randn(b, 8)).pow(2).mean()
                opt.zero_grad()
                (l1 + l2).backward()
                opt.step()
            w.detach()
        return recs + w.pop_records()

    recs = _assert_same_records(monkeypatch, scenario)
    assert {r["step"] for r in recs} == set(range(45))  # a raised step: no activation stats
    assert all(r["act_mean"] is None for r in recs if r["step"] in (3, 9, 18, 24, 33, 39))


def test_population_nan_in_one_model_is_reported_at_its_step_and_model(monkeypatch):
    def scenario() -> list[dict]:
        pop = Population.from_models([_mlp() for _ in range(3)])
        opt = torch.optim.SGD(pop.parameters(), lr=0.05)
        with watch(pop, every=2) as w:
            for s in range(40):
                xs = torch.randn(16, 8).expand(3, 16, 8).clone()
                if s in (21, 22):  # 21 is not sampled
                    xs[1, 0, 0] = float("nan")
                loss = pop(xs).nan_to_num(0.0).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                for p in pop.parameters():
                    p.grad.nan_to_num_(0.0)
                opt.step()
            return w.records()

    recs = _assert_same_records(monkeypatch, scenario)
    assert {(r["step"], r["model"]) for r in recs if r["nonfinite"]} == {(22, 1)}


def test_memory_stays_bounded_over_500_steps_without_records():
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with watch(model, every=1) as w:
        for s in range(500):
            b = 7 if s % 10 == 9 else 16  # a full batch and an epoch's last one
            loss = model(torch.randn(b, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            assert len(w._deferred) < wm.DEFER_STEPS
            assert len(w._defer_bufs) <= wm.DEFER_SHAPES * len(w.layers)
        assert w._defer is True
        assert sum(bool(smp.raw) for smp in w._samples) == len(w._deferred)
        assert len(w._cache) <= 8
        recs = w.records()
    assert len(recs) == 500 * 3 and all(r["act_std"] is not None for r in recs)
