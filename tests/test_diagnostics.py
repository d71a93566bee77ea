"""Tests of trainlab.diagnostics: watch() on plain modules and populations, stats, verdicts."""

from __future__ import annotations

import importlib
import json
import math

import pytest
import torch
from torch import nn

from trainlab.diagnostics import Thresholds, stats, verdict, verdict_table, watch
from trainlab.errors import UserError


def _data(n: int = 64, d: int = 8, c: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, c, (n,), generator=g)


def _sgd_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float = 0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for s in range(steps):
        xb, yb = x[(s * 16) % len(x) :][:16], y[(s * 16) % len(x) :][:16]
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _all_hooks(model: nn.Module) -> int:
    n = 0
    for m in model.modules():
        n += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
    for p in model.parameters():
        n += len(getattr(p, "_post_accumulate_grad_hooks", None) or {})
    return n


# -- plain modules ------------------------------------------------------------------------------
def test_watch_plain_sequential_records_every_n_training_steps():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    x, y = _data()
    w0 = model[0].weight.detach().clone()
    b0 = model[0].bias.detach().clone()
    with watch(model, every=2) as w:
        model.eval()
        model(x)  # evaluation forwards are not steps
        model.train()
        _sgd_steps(model, x, y, steps=6)
    recs = w.records()
    assert sorted({r["step"] for r in recs}) == [0, 2, 4]
    assert [r["layer"] for r in recs if r["step"] == 0] == ["0", "1", "2"]
    assert {r["model"] for r in recs} == {0}
    first = next(r for r in recs if r["step"] == 0 and r["layer"] == "0")
    h = x[:16] @ w0.T + b0  # the first layer's output at step 0
    assert first["act_mean"] == pytest.approx(h.mean().item(), rel=1e-5)
    assert first["act_std"] == pytest.approx(h.std(correction=0).item(), rel=1e-5)
    assert sum(first["hist"]) + first["hist_under"] + first["hist_over"] == h.numel()
    assert len(first["hist"]) == len(first["hist_edges"]) - 1 == 60
    relu = next(r for r in recs if r["step"] == 0 and r["layer"] == "1")
    assert relu["grad_norm"] is None and relu["weight_norm"] is None
    assert relu["dead_fraction"] is not None and relu["saturated_fraction"] is None
    assert first["dead_fraction"] is None
    for r in recs:
        if r["layer"] != "1":
            assert r["grad_norm"] > 0 and r["weight_norm"] > 0 and r["update_ratio"] > 0
    assert _all_hooks(model) == 0


def test_start_step_numbers_steps_and_sampling_is_absolute():
    model = nn.Sequential(nn.Linear(8, 2))
    x, y = _data(c=2)
    with watch(model, every=5, start_step=7) as w:  # a run resumed at step 7
        _sgd_steps(model, x, y, steps=10)  # steps 7..16
    assert sorted({r["step"] for r in w.records()}) == [10, 15]
    assert w.step == 16


def test_update_ratio_verdict_ignores_models_with_no_update():
    rows = [
        {"model": 0, "layer": n, "step": 0, "update_ratio": 0.0, "grad_norm": 1.0}
        for n in ("a", "b")
    ]
    assert verdict(rows)[0].status == "ok"
    rows[0]["update_ratio"], rows[1]["update_ratio"] = 1e-7, 1e-3
    assert verdict(rows)[0].status == "warn" and verdict(rows)[0].layer == "a"


def test_hooks_removed_after_exception_inside_block():
    model = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
    x, _ = _data()
    before = _all_hooks(model)
    with pytest.raises(RuntimeError, match="boom"), watch(model, every=1):
        model(x).sum().backward()
        assert _all_hooks(model) > before  # gradient hooks wait for the next step
        raise RuntimeError("boom")
    assert _all_hooks(model) == before == 0


def test_hooks_removed_after_exception_inside_forward():
    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("inside forward")

    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), Boom())
    x, _ = _data()
    with pytest.raises(RuntimeError, match="inside forward"), watch(model, every=1):
        model(x)
    assert _all_hooks(model) == 0


def test_dead_fraction_exactly_three_of_eight_relu_units():
    lin = nn.Linear(4, 8)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
        lin.weight[:, 0] = 1.0
        lin.bias[:3] = -100.0  # units 0..2 never fire on inputs in [-1, 1]
    model = nn.Sequential(lin, nn.ReLU())
    x = torch.linspace(-1, 1, 32).unsqueeze(1).repeat(1, 4)  # (32, 4): half positive
    with watch(model) as w:
        model(x)
    relu = next(r for r in w.records() if r["layer"] == "1")
    assert relu["dead_fraction"] == pytest.approx(3 / 8)
    # one sample where unit 3 fires keeps it alive
    y = torch.zeros(1, 5, 8)  # (K, B, U)
    y[0, 2, 3] = 0.5
    assert stats.dead_fraction(y).tolist() == [7 / 8]


@pytest.mark.parametrize("act", [nn.LeakyReLU(), nn.ELU(), nn.GELU(), nn.SiLU(), nn.PReLU()])
def test_activations_with_a_gradient_below_zero_have_no_dead_fraction(act):
    """Units of LeakyReLU, ELU, GELU, ... below 0 on every sample still pass gradient (that is
    what these activations are for): no dead fraction, and no dying-ReLU verdict; ReLU6 can."""
    lin = nn.Linear(4, 8)
    with torch.no_grad():
        lin.bias.fill_(-100.0)  # every unit below 0 on every sample
    x = torch.rand(32, 4)
    for model, dead in ((nn.Sequential(lin, act), None), (nn.Sequential(lin, nn.ReLU6()), 1.0)):
        with watch(model) as w:
            model(x).sum().backward()
        rec = next(r for r in w.records() if r["layer"] == "1")
        assert rec["dead_fraction"] == dead, type(model[1]).__name__
        assert rec["act_std"] is not None  # still watched as an activation


def test_dead_fraction_counts_conv_channels_and_models():
    y = torch.rand(2, 4, 3, 5, 5) + 0.1  # (K, B, C, H, W), all active
    y[0, :, 1] = 0.0  # model 0: channel 1 dead
    y[1, :, :2] = 0.0  # model 1: channels 0, 1 dead ...
    y[1, 3, 0, 2, 2] = 1.0  # ... but channel 0 fires at one position of one sample
    assert stats.dead_fraction(y).tolist() == pytest.approx([1 / 3, 1 / 3])


def test_saturated_fraction_tanh_and_sigmoid_known_answers():
    pre = torch.tensor([-5.0, -4.0, -3.0, 0.0, 0.1, 1.6, 2.5, 3.0, 10.0, 0.5, -0.2]).unsqueeze(1)
    # tanh: |tanh(x)| > 0.99 for |x| >= 3 (tanh(2.5) = 0.987 and tanh(1.6) = 0.922 are not)
    # sigmoid: sigmoid(-5) = 0.0067 < 0.01 and sigmoid(10) > 0.99; sigmoid(-4) = 0.018 is not
    for act, expected in ((nn.Tanh(), 5 / 11), (nn.Sigmoid(), 2 / 11)):
        lin = nn.Linear(1, 1)
        with torch.no_grad():
            lin.weight.fill_(1.0)
            lin.bias.zero_()
        model = nn.Sequential(lin, act)
        with watch(model) as w:
            model(pre)
        rec = next(r for r in w.records() if r["layer"] == "1")
        assert rec["saturated_fraction"] == pytest.approx(expected)
        assert rec["dead_fraction"] is None


def test_update_ratio_grad_norm_weight_norm_by_hand_after_one_sgd_step():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 2))
    x, y = _data(n=16, d=5, c=2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    with watch(model) as w:
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
        opt.step()
    recs = {r["layer"]: r for r in w.records()}
    for layer in ("0", "2"):
        names = [f"{layer}.weight", f"{layer}.bias"]
        w_norm = torch.cat([before[n].reshape(-1) for n in names]).norm().item()
        g_norm = torch.cat([grads[n].reshape(-1) for n in names]).norm().item()
        after = dict(model.named_parameters())
        d_norm = torch.cat([(after[n] - before[n]).reshape(-1) for n in names]).norm().item()
        assert recs[layer]["weight_norm"] == pytest.approx(w_norm, rel=1e-5)
        assert recs[layer]["grad_norm"] == pytest.approx(g_norm, rel=1e-5)
        assert recs[layer]["update_ratio"] == pytest.approx(d_norm / w_norm, rel=1e-4)
        assert recs[layer]["update_ratio"] == pytest.approx(0.5 * g_norm / w_norm, rel=1e-4)


def test_grad_norm_is_the_parameters_grad_when_the_backward_ends():
    """grad_norm reads .grad at the end of the sampled step's backward: with accumulation
    (no zero_grad between backwards) it is the norm of the sum so far."""
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    x, y = _data(n=16, d=5, c=2)
    with watch(model, every=1) as w:
        for s in range(2):  # two training forwards = steps 0 and 1, gradients accumulate
            xb, yb = x[s * 8 : s * 8 + 8], y[s * 8 : s * 8 + 8]
            nn.functional.cross_entropy(model(xb), yb).backward()
            expected = torch.cat([model[2].weight.grad.reshape(-1), model[2].bias.grad]).norm()
            rec = next(r for r in w.records() if r["layer"] == "2" and r["step"] == s)
            assert rec["grad_norm"] == pytest.approx(expected.item(), rel=1e-5)


def test_grad_norm_without_any_hooked_output_comes_from_the_model_output():
    """Only the in-place ReLU is watched and its output is the one a later in-place op would
    change; the layers' outputs carry no hook, yet the backward's end is seen."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(inplace=True), nn.Linear(4, 2))
    x, y = _data(n=8, d=5, c=2)
    with watch(model, layers=["0"]) as w:
        nn.functional.cross_entropy(model(x), y).backward()
    (rec,) = w.records()
    assert rec["out_grad_norm"] is None  # ReLU(inplace=True) overwrote layer 0's output
    g = torch.cat([model[0].weight.grad.reshape(-1), model[0].bias.grad]).norm().item()
    assert rec["grad_norm"] == pytest.approx(g, rel=1e-5)


def test_update_ratio_is_none_before_any_optimizer_step():
    model = nn.Sequential(nn.Linear(5, 3))
    with watch(model) as w:
        model(torch.randn(4, 5)).sum().backward()
    assert w.records()[0]["update_ratio"] is None


def test_nan_origin_is_the_first_nonfinite_layer_in_forward_order():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(),
        nn.Linear(8, 3),
    )  # fmt: skip
    x, y = _data(n=32, d=4, c=3)
    with watch(model, every=1) as w:
        _sgd_steps(model, x, y, steps=2, lr=0.01)
        with torch.no_grad():
            model[4].weight[0, 0] = float("inf")  # layer '4' is where it starts
        _sgd_steps(model, x, y, steps=2, lr=0.01)
    recs = w.records()
    assert not any(r["nonfinite"] for r in recs if r["step"] < 2)
    bad = [f for f in verdict(recs) if f.check == "nonfinite"]
    assert len(bad) == 1 and bad[0].status == "fail"
    assert bad[0].layer == "4" and bad[0].step == 2


def _tanh_net(std: float | None, depth: int = 7, width: int = 64) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = 16
    for _ in range(depth):
        lin = nn.Linear(d, width)
        if std is None:
            nn.init.xavier_normal_(lin.weight)
        else:
            nn.init.normal_(lin.weight, 0.0, std)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.Tanh()]
        d = width
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


def _train_and_judge(model: nn.Module) -> dict[str, str]:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(256, 16, generator=g), torch.randint(0, 10, (256,), generator=g)
    with watch(model, every=5) as w:
        _sgd_steps(model, x, y, steps=11, lr=0.05)
    return {f.check: f.status for f in verdict(w.records())}


def test_verdicts_fire_on_vanishing_tanh_net_and_not_on_a_healthy_one():
    torch.manual_seed(0)
    bad = _train_and_judge(_tanh_net(0.01))
    assert bad["gradients"] == "warn"
    assert bad["activations"] == "warn"
    assert bad["update_ratio"] == "warn"
    torch.manual_seed(0)
    good = _train_and_judge(_tanh_net(None))
    assert set(good) >= {"gradients", "activations", "saturation", "update_ratio", "nonfinite"}
    assert all(s == "ok" for s in good.values()), good


def test_verdicts_saturation_and_dead_relu_fire():
    torch.manual_seed(0)
    sat = _train_and_judge(_tanh_net(1.0))
    assert sat["saturation"] == "warn"
    torch.manual_seed(0)
    relu = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10))
    with torch.no_grad():
        relu[0].bias[:16] = -50.0  # half the units can never fire
    status = _train_and_judge(relu)
    assert status["dead_relu"] == "warn"
    strict = verdict(
        [{"model": 0, "layer": "1", "step": 0, "dead_fraction": 0.5}], Thresholds(dead=0.6)
    )
    assert strict[0].status == "ok"


def test_verdict_table_renders_one_row_per_check():
    from rich.console import Console

    torch.manual_seed(0)
    model = _tanh_net(0.01, depth=3)
    x, y = _data(d=16, c=10)
    with watch(model) as w:
        _sgd_steps(model, x, y, steps=2)
    console = Console(width=120, record=True)
    console.print(verdict_table(verdict(w.records())))
    text = console.export_text()
    for check in ("gradients", "activations", "saturation", "update_ratio"):
        assert check in text


def test_verdict_table_shows_brackets_in_layer_names_and_messages_as_text():
    """A layer named ``heads[cls]`` and a message with ``[...]`` print as written, not as rich
    markup (which dropped ``[cls]`` and ``[relu]``)."""
    from rich.console import Console

    from trainlab.diagnostics.verdict import Finding

    found = [Finding("activations", "warn", 0, "std 0.01 after [relu]", layer="heads[cls]")]
    console = Console(width=160, record=True)
    console.print(verdict_table(found))
    text = console.export_text()
    assert "std 0.01 after [relu]" in text and "│ heads[cls]" in text


def test_inplace_relu_and_bad_inputs():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(inplace=True), nn.Linear(8, 2))
    x, y = _data(c=2)
    with watch(model) as w:
        _sgd_steps(model, x, y, steps=2)
    assert all(r["grad_norm"] is None or math.isfinite(r["grad_norm"]) for r in w.records())
    with pytest.raises(UserError, match="every"):
        watch(model, every=0)
    with pytest.raises(UserError, match="did you mean '2'"):
        watch(model, layers=["22"])
    with pytest.raises(UserError, match="nn.Module"):
        watch(lambda x: x)  # type: ignore[arg-type]


def test_memory_flat_summaries_do_not_grow_with_batch_or_steps(tmp_path):
    def held(batch: int) -> int:
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
        with watch(model, every=1) as w:
            for _ in range(3):
                model(torch.randn(batch, 8)).sum().backward()
            n = sum(
                t.numel()
                for s in w._samples
                for layer in s.layers.values()
                for t in [*layer.act.values(), layer.hist]
                if t is not None
            )
            w.pop_records()
            assert w._samples == []
        return n

    assert held(4) == held(256)
    model = nn.Sequential(nn.Linear(8, 4), nn.Sigmoid())
    with watch(model, every=1) as w:
        model(torch.randn(5, 8))
    path = w.write_jsonl(tmp_path / "d.jsonl")
    lines = [json.loads(s) for s in path.read_text().splitlines()]
    assert [r["layer"] for r in lines] == ["0", "1"]


# -- populations --------------------------------------------------------------------------------
class _Custom(nn.Module):
    """Not an nn.Sequential and not population-safe: a Population takes the vmap path."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


@pytest.mark.parametrize("kind", ["stacked", "vmap"])
def test_population_statistics_are_per_model_and_match_plain_models(kind):
    from trainlab.population import Population

    torch.manual_seed(0)
    if kind == "stacked":
        make = lambda: nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))  # noqa: E731
    else:
        make = _Custom
    plains = [make() for _ in range(3)]
    pop = Population.from_models(plains)
    assert pop.mode == kind
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(3, 16, 8, generator=g), torch.randint(0, 3, (3, 16), generator=g)

    def step(model, xb, yb):
        out = model(xb)
        loss = nn.functional.cross_entropy(out.reshape(-1, 3), yb.reshape(-1), reduction="sum")
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.01 * p.grad
                p.grad = None

    with watch(pop) as w:
        step(pop, x, y)
    recs = w.records()
    assert {r["model"] for r in recs} == {0, 1, 2}
    for i, plain in enumerate(plains):
        with watch(plain) as wp:
            step(plain, x[i], y[i])
        mine = {r["layer"]: r for r in recs if r["model"] == i}
        ref = {r["layer"]: r for r in wp.records()}
        assert mine.keys() == ref.keys()
        for layer, r in ref.items():
            keys = ["act_mean", "act_std", "dead_fraction", "saturated_fraction", "hist"]
            keys += ["grad_norm", "weight_norm", "update_ratio"]
            if kind == "stacked":
                keys.append("out_grad_norm")
            for key in keys:
                if r[key] is None:
                    assert mine[layer][key] is None, (layer, key)
                elif key == "hist":
                    assert mine[layer][key] == r[key]
                else:
                    assert mine[layer][key] == pytest.approx(r[key], rel=1e-4, abs=1e-7)


# -- the diagnose command and figures ------------------------------------------------------------
def test_diagnose_command_writes_jsonl_and_verdict(tmp_path):
    from typer.testing import CliRunner

    from trainlab.cli import app

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "name: tiny\ndata: {name: digits}\nmodel: {name: mlp, hidden: [16, 16], activation: tanh}\n"
        "init: {scheme: normal, std: 0.01}\noptim: {name: sgd, lr: 0.01}\n"
        "train: {epochs: 1, batch_size: 200}\n"
    )
    out = tmp_path / "run"
    res = CliRunner().invoke(
        app,
        [
            "diagnose", str(cfg), "--every", "2", "--epochs", "1", "--seeds", "2",
            "--out", str(out), "--no-report",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "training health" in res.output and "activations" in res.output
    lines = [json.loads(s) for s in (out / "diagnostics.jsonl").read_text().splitlines()]
    assert {r["model"] for r in lines} == {0, 1}
    steps = json.loads((out / "summary.json").read_text())["steps"]
    assert steps >= 4 and {r["step"] for r in lines} == set(range(0, steps, 2))
    found = json.loads((out / "verdict.json").read_text())
    # N(0, 0.01²) weights in a tanh net: activations collapse layer by layer
    assert any(f["check"] == "activations" and f["status"] == "warn" for f in found)


def test_figures_render_from_records():
    from trainlab.diagnostics.figures import histogram_grid, layer_profile

    torch.manual_seed(0)
    model = _tanh_net(0.01, depth=3)
    x, y = _data(d=16, c=10)
    with watch(model, every=2) as w:
        _sgd_steps(model, x, y, steps=3)
    recs = w.records()
    fig = histogram_grid(recs)
    assert len([a for a in fig.axes if a.axison]) == 2 * 3  # steps 0, 2 x three tanh layers
    assert layer_profile(recs).axes
    with pytest.raises(ValueError, match="model 5"):
        histogram_grid(recs, model=5)


@pytest.mark.parametrize("opt_name", ["adam", "sgd"])
def test_update_ratio_estimate_on_strided_subset_is_within_2_percent(opt_name):
    """Large parameters: ‖Δθ‖ from the fixed strided subset matches the exact ratio."""
    from sklearn.datasets import load_digits

    from trainlab.diagnostics.watch import UPDATE_SAMPLE

    digits = load_digits()  # bundled with scikit-learn; constant-zero pixels give zero columns
    x = torch.tensor(digits.data[:128], dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target[:128])
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)
    )  # fmt: skip
    if opt_name == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    exact: dict[tuple[int, str], float] = {}
    with watch(model, every=1) as w:
        assert max(w._strides) > 1  # the 1024 x 1024 weight is measured on a subset
        small = [
            s for (_, p), s in zip(w._params, w._strides, strict=True) if p.numel() <= UPDATE_SAMPLE
        ]
        assert small and all(s == 1 for s in small)  # small parameters are exact
        for step in range(4):
            before = {n: p.detach().clone() for n, p in model.named_parameters()}
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for layer in ("0", "2", "4"):
                names = [f"{layer}.weight", f"{layer}.bias"]
                after = dict(model.named_parameters())
                d = torch.cat([(after[n] - before[n]).reshape(-1) for n in names]).norm()
                b = torch.cat([before[n].reshape(-1) for n in names]).norm()
                exact[(step, layer)] = (d / b).item()
    recs = {
        (r["step"], r["layer"]): r["update_ratio"] for r in w.records() if r["kind"] == "linear"
    }
    assert recs.keys() == exact.keys()
    for key, ratio in exact.items():
        assert recs[key] == pytest.approx(ratio, rel=0.02), key


@pytest.mark.parametrize(
    "move",
    [
        "double",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
        ),
    ],
)
def test_update_ratio_after_the_model_moves(move):
    """model.double() / model.cuda() inside the block: the subset copy follows the parameters."""
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(256, 256))  # 65,536 weights: measured on a subset
    x = torch.randn(8, 256)
    with watch(model) as w:
        model(x).sum().backward()
        model.to(torch.float64 if move == "double" else torch.device("cuda"))
        x = x.to(model[0].weight)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        before = [p.detach().clone() for p in model.parameters()]
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    (rec,) = [r for r in w.records() if r["step"] == 1]
    after = [p.detach() for p in model.parameters()]
    delta = torch.cat([(a - b).reshape(-1) for a, b in zip(after, before, strict=True)]).norm()
    norm = torch.cat([b.reshape(-1) for b in before]).norm()
    assert max(w._strides) > 1
    assert rec["update_ratio"] == pytest.approx((delta / norm).item(), rel=0.02)


def test_inplace_relu_does_not_change_the_previous_layer_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(inplace=True), nn.Linear(32, 2))
    x = torch.randn(64, 8)
    with torch.no_grad():
        pre = model[0](x)  # the Linear output before the in-place ReLU overwrites it
    with watch(model) as w:
        model(x).sum().backward()
    recs = {r["layer"]: r for r in w.records()}
    assert recs["0"]["act_mean"] == pytest.approx(pre.mean().item(), rel=1e-5, abs=1e-7)
    assert recs["0"]["act_std"] == pytest.approx(pre.std(correction=0).item(), rel=1e-5)
    assert recs["0"]["hist_under"] + sum(recs["0"]["hist"]) + recs["0"]["hist_over"] == 64 * 32
    assert recs["1"]["act_mean"] == pytest.approx(pre.clamp_min(0).mean().item(), rel=1e-5)


def test_every_step_and_sparse_sampling_record_the_same_values():
    """Permanent layer hooks (every <= 8) and per-step hooks (every > 8) measure alike."""

    def run(every: int) -> dict[tuple[int, str], dict]:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                              nn.Linear(16, 3))  # fmt: skip
        x, y = _data(n=32, d=8, c=3)
        with watch(model, every=every) as w:
            _sgd_steps(model, x, y, steps=10)
        return {(r["step"], r["layer"]): r for r in w.records() if r["step"] in (0, 9)}

    dense, sparse = run(1), run(9)
    assert sparse.keys() == dense.keys() and len(dense) == 10
    for key, r in sparse.items():
        assert r == dense[key], key


def test_histogram_sample_of_non_contiguous_outputs_matches_the_flat_strided_sample():
    w = watch(nn.Sequential(nn.Linear(4, 4)))
    base = torch.randn(3, 40, 25)
    dense = base.transpose(1, 2)  # (3, 25, 40): a permuted, dense layout (index_select path)
    sparse = torch.randn(3, 25, 80)[:, :, ::2]  # not dense (advanced-indexing path)
    for y in (dense, sparse):
        assert not y.is_contiguous()
        for step in (1, 7, 13):
            got = w._gather_strided(y, step)
            assert torch.equal(got, y.reshape(3, -1)[:, ::step])


# -- dead units of channel-last outputs, repeated forwards, leaf models, .data updates ----------
def _half_dead_linear(d: int = 8) -> nn.Linear:
    lin = nn.Linear(d, d)
    with torch.no_grad():
        lin.bias[: d // 2] = -100.0  # features 0..d/2-1 never fire on N(0, 1) inputs
    return lin


@pytest.mark.parametrize("shape", [(32, 8), (32, 10, 8), (32, 10, 3, 8)])
def test_dead_fraction_units_are_the_last_axis_after_a_linear(shape):
    """A Linear on (B, T, D) / (B, ..., D) inputs: its units are the D features, not axis 1."""
    torch.manual_seed(0)
    model = nn.Sequential(_half_dead_linear(), nn.ReLU(), nn.Linear(8, 1))
    x = torch.randn(*shape)
    with watch(model) as w:
        model(x).sum().backward()
    assert next(r for r in w.records() if r["layer"] == "1")["dead_fraction"] == 0.5
    with watch(model, layers=["1"]) as w:  # only the ReLU: the layout comes from the tree
        model(x).sum().backward()
    assert w.records()[0]["dead_fraction"] == 0.5
    y = torch.relu(model[0](x)).detach().unsqueeze(0)  # (1, B, ..., 8)
    assert stats.dead_fraction(y, "last").tolist() == [0.5]


def test_dead_fraction_units_are_channels_after_a_conv():
    torch.manual_seed(0)
    conv = nn.Conv1d(3, 4, kernel_size=1)
    with torch.no_grad():
        conv.bias[:1] = -100.0  # channel 0 of 4 never fires
    model = nn.Sequential(conv, nn.BatchNorm1d(4), nn.ReLU())
    with torch.no_grad():
        model[1].bias[:1] = -100.0  # after the norm too
    x = torch.randn(16, 3, 6)  # (B, C, L): L != C, so the axes cannot be confused
    with watch(model) as w:
        model(x).sum().backward()
    assert next(r for r in w.records() if r["layer"] == "2")["dead_fraction"] == 0.25


def test_dead_fraction_of_a_population_on_sequences_is_per_model():
    from trainlab.population import Population

    torch.manual_seed(0)
    plains = [nn.Sequential(_half_dead_linear(), nn.ReLU(), nn.Linear(8, 1)) for _ in range(2)]
    with torch.no_grad():
        plains[1][0].bias.fill_(1.0)  # model 1: every unit alive
    pop = Population.from_models(plains)
    x = torch.randn(2, 16, 5, 8)  # (K, B, T, D)
    with watch(pop) as w:
        pop(x).sum().backward()
    dead = {r["model"]: r["dead_fraction"] for r in w.records() if r["layer"] == "1"}
    assert dead == {0: 0.5, 1: 0.0}


def _siamese_steps(model: nn.Module, steps: int, lr: float = 0.1) -> list[dict[str, torch.Tensor]]:
    """Two forwards of the model per step, one backward; returns each step's gradients."""
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    grads = []
    for _ in range(steps):
        x1, x2 = torch.randn(16, 4, generator=g), torch.randn(16, 4, generator=g)
        opt.zero_grad()
        (model(x1) - model(x2)).pow(2).mean().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
        opt.step()
    return grads


@pytest.mark.parametrize("every", [1, 2, 50])
def test_two_forwards_before_one_backward_are_one_step_with_gradients(every):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with watch(model, every=every) as w:
        grads = _siamese_steps(model, steps=4)
    recs = w.records()
    assert w.step == 3
    assert sorted({r["step"] for r in recs}) == list(range(0, 4, every))
    for r in recs:
        assert r["out_grad_norm"] is not None and r["calls"] == 1
        if r["layer"] in ("0", "2"):
            g = grads[r["step"]]
            want = torch.cat([g[f"{r['layer']}.weight"].reshape(-1), g[f"{r['layer']}.bias"]])
            assert r["grad_norm"] == pytest.approx(want.norm().item(), rel=1e-5)
            step = 0.1 * want.norm().item()  # SGD: ‖Δθ‖ = lr·‖g‖
            assert r["update_ratio"] == pytest.approx(step / r["weight_norm"], rel=1e-4)
    assert {f.check for f in verdict(recs)} >= {"gradients", "update_ratio"}


def test_a_forward_without_autograd_is_not_a_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(16, 4)
    with watch(model, every=2, start_step=1) as w:  # resumed at step 1: samples 2 and 4
        for _ in range(4):
            with torch.no_grad():
                model(x)  # e.g. logging the loss, model still in training mode
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
            with torch.inference_mode():
                model(x)
    recs = w.records()
    assert w.step == 4 and sorted({r["step"] for r in recs}) == [2, 4]
    assert all(r["grad_norm"] is not None for r in recs if r["layer"] != "1")
    assert all(r["update_ratio"] is not None for r in recs if r["layer"] != "1")


def test_steps_end_with_a_backward_through_any_output():
    """A model returning (a, b) trained on b only; a model whose output needs no gradient."""

    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 2)

        def forward(self, x):
            return self.a(x), {"b": self.b(x)}

    model = Two()
    with watch(model, every=1) as w:
        for _ in range(3):
            model(torch.randn(5, 4))[1]["b"].sum().backward()
    assert w.step == 2 and sorted({r["step"] for r in w.records()}) == [0, 1, 2]
    frozen = nn.Sequential(nn.Linear(4, 2)).requires_grad_(False)
    with watch(frozen, every=1) as w:
        for _ in range(3):
            frozen(torch.randn(5, 4))  # no backward can follow: each forward is a step
    assert w.step == 2


@pytest.mark.parametrize("every", [1, 20])
def test_a_watched_leaf_model_records_its_own_activations(every):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    x = torch.randn(5, 4)
    with watch(model, every=every) as w:
        out = model(x)
        out.sum().backward()
    (rec,) = w.records()
    assert rec["layer"] == "" and rec["order"] == 0
    assert rec["act_mean"] == pytest.approx(out.mean().item(), rel=1e-5)
    assert rec["act_std"] == pytest.approx(out.std(correction=0).item(), rel=1e-5)
    assert rec["out_grad_norm"] == pytest.approx(math.sqrt(out.numel()), rel=1e-5)
    assert rec["grad_norm"] is not None and not rec["nonfinite"]


@pytest.mark.parametrize("style", ["sub_", "add_", "assign"])
def test_update_ratio_of_manual_updates_through_data(style):
    """p.data -= lr * p.grad (CS231n), p.data.add_(...) and p.data = ... move no version
    counter; the update is found by comparing values."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    x = torch.randn(16, 4)
    exact = {}
    with watch(model, every=1) as w:
        for step in range(3):
            before = {n: p.detach().clone() for n, p in model.named_parameters()}
            model.zero_grad()
            model(x).pow(2).mean().backward()
            for p in model.parameters():
                if style == "sub_":
                    p.data -= 0.1 * p.grad
                elif style == "add_":
                    p.data.add_(p.grad, alpha=-0.1)
                else:
                    p.data = p.data - 0.1 * p.grad
            after = dict(model.named_parameters())
            for layer in ("0", "2"):
                names = [f"{layer}.weight", f"{layer}.bias"]
                d = torch.cat([(after[n] - before[n]).reshape(-1) for n in names]).norm()
                b = torch.cat([before[n].reshape(-1) for n in names]).norm()
                exact[(step, layer)] = (d / b).item()
        recs = w.records()
    got = {(r["step"], r["layer"]): r["update_ratio"] for r in recs if r["layer"] != "1"}
    assert got.keys() == exact.keys()
    for key, ratio in exact.items():
        assert got[key] == pytest.approx(ratio, rel=1e-4), key


def test_update_ratio_waits_for_an_optimizer_step_after_accumulated_steps():
    """Two forward/backward steps per optimizer step: the ratio of step 0 is the update made
    after step 1 (a version counter moves then), not the zero change seen at step 1."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    w0 = torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])
    with watch(model, every=2) as w:
        for step in range(4):
            model(x).sum().backward()
            if step % 2:
                opt.step()
                opt.zero_grad()
                if step == 1:
                    w1 = torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])
    ratios = {r["step"]: r["update_ratio"] for r in w.records()}
    assert ratios[0] == pytest.approx(((w1 - w0).norm() / w0.norm()).item(), rel=1e-5)
    assert ratios[2] is not None and ratios[2] > 0
    with watch(model) as w:  # no update at all: None, not 0
        model(x).sum().backward()
        model.zero_grad()
    assert w.records()[0]["update_ratio"] is None


def test_activations_verdict_flags_a_layer_below_an_asymmetric_low_threshold():
    def rows(*stds: float) -> list[dict]:
        return [
            {"model": 0, "layer": n, "step": 0, "kind": "linear", "order": i, "act_std": s}
            for i, (n, s) in enumerate(zip("abc", stds, strict=False))
        ]

    # 50x is the largest change but within the high bound; 0.4x is below the low bound
    (f,) = verdict(rows(1.0, 0.4, 50.0), Thresholds(act_ratio_low=0.5, act_ratio_high=1e3))
    assert (f.status, f.layer, f.layers, f.value) == ("warn", "b", ["b"], 0.4)
    assert "collapsing" in f.message
    # mirrored: 0.01x is the largest change but within the low bound; 3x is above the high one
    (f,) = verdict(rows(1.0, 0.01, 3.0), Thresholds(act_ratio_low=1e-3, act_ratio_high=2.0))
    assert (f.status, f.layer, f.layers, f.value) == ("warn", "c", ["c"], 3.0)
    assert "exploding" in f.message
    (f,) = verdict(rows(1.0, 0.01, 3.0), Thresholds(act_ratio_low=1e-3, act_ratio_high=4.0))
    assert f.status == "ok" and f.value == 0.01


def test_checkpointing_the_whole_model_recomputes_the_step_not_a_new_one():
    """Non-reentrant ``torch.utils.checkpoint`` of the watched model runs its forward again in
    the backward: that recomputation belongs to the step, so steps, gradients and update
    ratios are those of the same training without checkpointing."""
    from torch.utils.checkpoint import checkpoint

    x, y = _data()
    runs = []
    for use_checkpoint in (False, True):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with watch(model, every=2) as w:
            for s in range(5):
                xb, yb = x[s * 8 :][:8], y[s * 8 :][:8]
                out = checkpoint(model, xb, use_reentrant=False) if use_checkpoint else model(xb)
                opt.zero_grad()
                nn.functional.cross_entropy(out, yb).backward()
                opt.step()
        runs.append((w.step, w.records()))
    (plain_step, plain), (ckpt_step, ckpt) = runs
    assert ckpt_step == plain_step == 4
    assert [(r["step"], r["layer"]) for r in ckpt] == [(r["step"], r["layer"]) for r in plain]
    for a, b in zip(ckpt, plain, strict=True):
        for key in ("act_std", "grad_norm", "out_grad_norm", "update_ratio"):
            assert (a[key] is None) == (b[key] is None), (key, a, b)
            if a[key] is not None:
                assert a[key] == pytest.approx(b[key], rel=1e-5), (key, a["layer"], a["step"])


@pytest.mark.parametrize("batch_first", [True, False])
def test_attention_parameters_of_their_own_are_watched(batch_first):
    """nn.MultiheadAttention holds in_proj_weight/in_proj_bias itself (beside its child
    out_proj, which it never calls as a module): it is a layer, with the attention output's
    statistics and the gradient and update of its own parameters."""
    torch.manual_seed(0)
    enc = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=batch_first)
    x = torch.randn(3, 5, 16)
    seen: list[torch.Tensor] = []
    enc.self_attn.register_forward_hook(lambda m, a, out: seen.append(out[0].detach().clone()))
    own = [enc.self_attn.in_proj_weight, enc.self_attn.in_proj_bias]
    before = torch.cat([p.detach().flatten() for p in own])
    opt = torch.optim.SGD(enc.parameters(), lr=0.1)
    with watch(enc) as w:
        loss = (enc(x) @ torch.linspace(-1, 1, 16)).square().mean()
        opt.zero_grad()
        loss.backward()
        grad = torch.cat([p.grad.flatten() for p in own]).norm().item()
        opt.step()
    rec = next(r for r in w.records() if r["layer"] == "self_attn")
    assert rec["kind"] == "multiheadattention" and rec["order"] == 0
    assert rec["act_std"] == pytest.approx(seen[0].std(correction=0).item(), rel=1e-5)
    assert rec["grad_norm"] == pytest.approx(grad, rel=1e-5)
    assert rec["weight_norm"] == pytest.approx(before.norm().item(), rel=1e-5)
    after = torch.cat([p.detach().flatten() for p in own])
    ratio = ((after - before).norm() / before.norm()).item()
    assert rec["update_ratio"] == pytest.approx(ratio, rel=1e-4)


def test_update_ratio_says_when_a_stuck_model_had_too_large_a_step_before():
    """lr 10: the first update is huge (ratio 0.4), then the model no longer moves; the verdict
    tells the story with that earlier step instead of a plain "no update"/"too small"."""

    def rec(step: int, layer: str, ratio: float) -> dict:
        order = 0 if layer == "fc1" else 1
        return {"model": 0, "layer": layer, "step": step, "update_ratio": ratio,
                "grad_norm": 1.0, "weight_norm": 1.0, "order": order}  # fmt: skip

    early = [rec(0, "fc1", 0.4), rec(0, "fc2", 0.05)]
    (stuck,) = [f for f in verdict(early + [rec(50, "fc1", 0.0), rec(50, "fc2", 0.0)])
                if f.check == "update_ratio"]  # fmt: skip
    assert stuck.status == "warn" and stuck.layer == "fc1"
    assert "no update" in stuck.message and "at step 0 it was too large: 4.0e-01" in stuck.message
    (slow,) = [f for f in verdict(early + [rec(50, "fc1", 1e-7), rec(50, "fc2", 1e-3)])
               if f.check == "update_ratio"]  # fmt: skip
    assert slow.status == "warn" and "too small: 1.0e-07" in slow.message
    assert "at step 0 it was too large" in slow.message
    (healthy,) = [f for f in verdict([rec(50, "fc1", 1e-3), rec(50, "fc2", 2e-3)])
                  if f.check == "update_ratio"]  # fmt: skip
    assert healthy.status == "ok" and "too large" not in healthy.message
    (stopped,) = [f for f in verdict([rec(50, "fc1", 0.0), rec(50, "fc2", 0.0)])
                  if f.check == "update_ratio"]  # fmt: skip
    assert stopped.status == "ok"  # a stopped model with no history of large steps


def test_large_activations_are_flagged_in_absolute_terms_also_in_the_first_layer():
    """Raw 0..255 inputs into N(0, 1) weights: the first layer's std is already ~1e3, which the
    relative check (each layer against the first) cannot see; the absolute bound (1e2) flags
    it."""
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    with torch.no_grad():
        model[0].weight.normal_(0.0, 1.0, generator=g)
    x = torch.randint(0, 256, (128, 64), generator=g).float()  # unscaled pixels
    with watch(model) as w:
        model(x).sum().backward()
    (act,) = [f for f in verdict(w.records()) if f.check == "activations"]
    assert act.status == "warn" and act.message.startswith("large activations: std ")
    assert act.layer == "0" and "standardize" in act.message
    with watch(model) as w:
        model(x / 255.0).sum().backward()
    (ok,) = [f for f in verdict(w.records()) if f.check == "activations"]
    assert ok.status == "ok"


# -- deferred reductions (permanent hooks on small outputs) ----------------------------------------
def _varied_batches_run(every: int, pop: bool = False) -> tuple[list[dict], object]:
    """40 SGD steps with batches of 16 and, every 7th step, 5 (a shape change), reading the
    records twice mid-way (partial flushes)."""
    from trainlab.population import Population

    torch.manual_seed(0)
    make = lambda: nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),  # noqa: E731
                                 nn.Linear(16, 3))  # fmt: skip
    model = Population.from_models([make() for _ in range(3)]) if pop else make()
    x, y = _data(n=64, d=8, c=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    recs: list[dict] = []
    with watch(model, every=every) as w:
        for s in range(40):
            b = 5 if s % 7 == 3 else 16
            xb, yb = x[(s * 16) % 48 :][:b], y[(s * 16) % 48 :][:b]
            if pop:
                out = model(xb.expand(3, *xb.shape))
                loss = nn.functional.cross_entropy(out.flatten(0, 1), yb.repeat(3))
            else:
                loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if s in (11, 30):
                recs += w.pop_records()
        recs += w.pop_records()
    return recs, w


@pytest.mark.parametrize("pop", [False, True])
def test_deferred_reductions_equal_immediate_ones(monkeypatch, pop):
    """Steps reduced DEFER_STEPS at a time (with shape changes and partial flushes) record
    what reducing each step at once records."""
    watch_mod = importlib.import_module("trainlab.diagnostics.watch")  # the function shadows it

    deferred, wd = _varied_batches_run(every=1, pop=pop)
    assert wd._defer is True  # the outputs are small: reductions were deferred
    monkeypatch.setattr(watch_mod, "DEFER_BYTES", 0)
    immediate, wi = _varied_batches_run(every=1, pop=pop)
    assert wi._defer is False
    assert len(deferred) == len(immediate) == 40 * 5 * (3 if pop else 1)
    for a, b in zip(deferred, immediate, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], float):  # float32 sums in another order: ~1e-7 of the scale
                assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), (a["step"], key)
            else:
                assert a[key] == b[key], (a["step"], a["layer"], key)


def test_deferring_stops_when_the_outputs_grow(monkeypatch):
    watch_mod = importlib.import_module("trainlab.diagnostics.watch")  # the function shadows it

    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    per_row = (16 + 16 + 3) * 4  # bytes of the three outputs per sample, float32
    monkeypatch.setattr(watch_mod, "DEFER_BYTES", 20 * per_row)
    x, y = _data(n=64, d=8, c=3)
    with watch(model, every=1) as w:
        _sgd_steps(model, x, y, steps=3)  # batches of 16: deferred
        assert w._defer is True and len(w._deferred) == 3  # from the first step on
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loss = nn.functional.cross_entropy(model(x[:32]), y[:32])  # 32 rows: too large
        # the large step stops deferring in its forward: it and the deferred steps are reduced
        assert w._defer is False and not w._deferred and not w._defer_bufs
        opt.zero_grad()
        loss.backward()
        opt.step()
        recs = w.records()
        _sgd_steps(model, x, y, steps=1)
        assert len(w._deferred) == 1  # a 16-row step defers again: decided per input shape
        model(x[:32]).sum().backward()  # 32 rows: known too large, measured at once
        assert w._defer is False and len(w._deferred) == 1
    assert {r["step"] for r in w.records()} == {0, 1, 2, 3, 4, 5}
    assert all(r["act_std"] is not None for r in recs)


def test_deferred_buffers_are_kept_per_output_shape():
    """An epoch's smaller last batch gets a buffer of its own; alternating shapes reuse them."""
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = _data(n=64, d=8, c=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen: list[set[int]] = []
    with watch(model, every=1) as w:
        for s in range(40):
            b = 16 if s % 2 else 5
            loss = nn.functional.cross_entropy(model(x[:b]), y[:b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen.append({id(t) for t in w._defer_bufs.values()})
        recs = w.records()
    assert len(seen[-1]) == 2 * 3  # three watched layers, two batch shapes
    assert seen[3] == seen[-1]  # no buffer made anew after the first steps of each shape
    assert len(recs) == 40 * 3 and all(r["act_std"] is not None for r in recs)
