"""Adversarial review of the health verdicts (`trainlab.diagnostics.verdict`), the diagnose run
(`trainlab.diagnostics.run`), its figures and `trainlab diagnose`: each test states a contract
that the current code breaks."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from trainlab.config import parse_config
from trainlab.diagnostics import verdict, watch
from trainlab.diagnostics.run import read_records, run_findings
from trainlab.train import train


class BackwardNaNLinear(nn.Linear):
    """A Linear whose forward is finite but whose backward is NaN once ``armed``:
    ``y + 0 * sqrt(y - y)`` equals ``y``, and its derivative is ``0 * inf = NaN``."""

    def __init__(self, *args, armed: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.armed = armed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        return y + 0.0 * torch.sqrt(y - y) if self.armed else y


def _digits_config(name: str, *, every: int, seeds: list[int], lr: float = 0.01):
    return parse_config(
        {
            "name": name,
            "data": {"name": "digits"},
            "init": {"scheme": "keep"},
            "optim": {"name": "sgd", "lr": lr},
            "train": {"epochs": 1, "batch_size": 100, "diagnose_every": every},
            "population": {"seeds": seeds},
        }
    )


# -- NaN/Inf origin when the NaN appears only in the backward pass --------------------------------
def test_nan_that_starts_in_a_layers_backward_is_traced_to_that_layer_with_watch():
    """Issue 4 promises a NaN/Inf origin verdict: "first layer where it appears". Here layer
    '2' (a Linear whose backward, not forward, yields NaN) is armed at step 2: its gradient and
    those of every layer before it are NaN at step 2 (the records show it: grad_norm NaN for
    '0' and '2', finite for '4'), the SGD step then writes NaN into '0' and '2', and at step 3
    every output is NaN. The verdict only looks at outputs, so it says the NaN started at step 3
    in layer '0' - the one layer that is certainly *not* the origin. A user chasing a NaN is
    sent to the wrong layer and the wrong step."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 16), nn.Tanh(), BackwardNaNLinear(16, 16, armed=False), nn.Tanh(),
        nn.Linear(16, 3),
    )  # fmt: skip
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 8, generator=g), torch.randint(0, 3, (32,), generator=g)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, every=1) as w:
        for step in range(4):
            model[2].armed = step >= 2
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    recs = w.records()
    at2 = {r["layer"]: r for r in recs if r["step"] == 2}
    assert not any(r["nonfinite"] for r in at2.values())  # the forward of step 2 is finite
    assert at2["2"]["grad_norm"] != at2["2"]["grad_norm"]  # ... its backward is NaN in '2'
    assert at2["4"]["grad_norm"] == at2["4"]["grad_norm"]  # ... and finite after it
    (nf,) = [f for f in verdict(recs) if f.check == "nonfinite"]
    assert nf.status == "fail"
    assert (nf.step, nf.layer) == (2, "2"), nf.message


@pytest.mark.parametrize("seeds", [[0], [0, 1]], ids=["plain", "population"])
def test_trainer_stop_for_a_backward_nan_sampled_every_step_names_the_layer(tmp_path, seeds):
    """`train --diagnose` / `trainlab diagnose` with every step sampled, on a model whose NaN
    appears only in the backward of layer '3': the trainer stops the model(s) at step 0, and
    diagnostics.jsonl holds step 0 with grad_norm NaN (null) for '1' and '3' and finite for
    '5'. The verdict nevertheless says "no sampled output was non-finite: --every 1 finds the
    layer" with no layer - although every step *was* sampled, so the advice is false and the
    user has no way to find the origin. It must name '3' for every model of the population."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), BackwardNaNLinear(16, 16), nn.Tanh(),
        nn.Linear(16, 10),
    )  # fmt: skip
    cfg = _digits_config("bnan", every=1, seeds=seeds)
    res = train(cfg, out=tmp_path / "run", model=model, device="cpu", progress=False)
    assert [m["status"] for m in res.summary["models"]] == ["nan"] * len(seeds)
    recs = read_records(tmp_path / "run")
    at0 = {r["layer"]: r for r in recs if r["step"] == 0 and r["model"] == 0}
    # diagnostics.jsonl keeps a NaN gradient norm as NaN (as watch.write_jsonl), not null
    assert math.isnan(at0["1"]["grad_norm"]) and math.isnan(at0["3"]["grad_norm"])
    assert math.isfinite(at0["5"]["grad_norm"])
    assert not any(r["nonfinite"] for r in recs)  # no forward was ever non-finite
    found = [f for f in run_findings(recs, res.summary) if f.check == "nonfinite"]
    assert [f.model for f in found] == list(range(len(seeds)))
    for f in found:
        assert f.status == "fail"
        assert "--every 1 finds" not in f.message, f.message  # it was sampled every step
        assert f.layer == "3", f.message


# -- the gradient verdict must not depend on how the population engine runs a model --------------
class _SameLayersCustomForward(nn.Module):
    """The very same layers as an ``nn.Sequential``, called from a custom ``forward`` (the
    population engine then takes its vmap path instead of stacked twins)."""

    def __init__(self, seq: nn.Sequential) -> None:
        super().__init__()
        self.net = seq

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.net:
            x = m(x)
        return x


def _deep_relu(std: float = 0.6, depth: int = 7, width: int = 64) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Flatten()]
    d = 64
    for _ in range(depth):
        lin = nn.Linear(d, width)
        nn.init.normal_(lin.weight, 0.0, std)
        layers += [lin, nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


def test_exploding_gradient_verdict_does_not_depend_on_the_population_path(tmp_path):
    """README: the gradients check fires when ‖∂L/∂y‖ at the first layer / at the last > 1e2.
    A 7-layer ReLU net with N(0, 0.6²) weights (gain ~3.4 per layer) has that ratio ~700 at
    step 0, and trained as an nn.Sequential it is called "exploding gradients". The same
    weights, data and config, wrapped in a module with a custom forward (so the population
    engine uses vmap, where watch records no ‖∂L/∂y‖), are judged by the parameter-gradient
    ratio instead, 0.12, and called healthy. The verdict's own docstring explains why that
    fallback hides vanishing/exploding signals; a user's own nn.Module (README: "Any nn.Module
    trains the same way") gets a false all-clear on the headline check."""
    statuses = {}
    for label, model in (
        ("sequential", _deep_relu()),
        ("custom forward", _SameLayersCustomForward(_deep_relu())),
    ):
        cfg = _digits_config("expl", every=50, seeds=[0], lr=1e-6)
        res = train(cfg, out=tmp_path / label.replace(" ", "_"), model=model, device="cpu",
                    progress=False)  # fmt: skip
        recs = read_records(res.run_dir)
        found = [f for f in run_findings(recs, res.summary) if f.check == "gradients"]
        statuses[label] = [(g.status, g.message) for g in found]
    assert [s for s, _ in statuses["sequential"]] == ["warn"], statuses  # ratio ~7e2 > 1e2
    # without ‖∂L/∂y‖ the parameter-gradient ratio (0.12 here) may warn, never clear the net
    assert all(s != "ok" for s, _ in statuses["custom forward"]), statuses


# -- fraction checks must not certify a NaN output as healthy ------------------------------------
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_saturation_and_dead_relu_are_not_judged_ok_on_nan_outputs(act):
    """A net whose tanh layer is 100% saturated (or whose ReLU layer is 50% dead) at step 0,
    and whose weights then turn NaN (the usual end of a too-high learning rate in a plain
    training loop): at step 1 every output is NaN, and watch records saturated_fraction /
    dead_fraction = 0.0 there (NaN compares false). The verdict takes that latest step and
    reports "ok: at most 0%" - a healthy bill computed from NaN, hiding the saturation / dead
    units that were measured while the outputs were finite. A check must judge finite
    measurements only (here: step 0, where it fires)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh() if act == "tanh" else nn.ReLU(),
                          nn.Linear(16, 3))  # fmt: skip
    with torch.no_grad():
        if act == "tanh":
            model[0].weight.mul_(100.0)  # |y| > 0.99 almost everywhere
        else:
            model[0].bias[:8] = -100.0  # 8 of 16 units never fire
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 8, generator=g), torch.randint(0, 3, (64,), generator=g)
    with watch(model, every=1) as w:
        for step in range(2):
            if step == 1:
                with torch.no_grad():
                    model[0].weight.fill_(float("nan"))
            nn.functional.cross_entropy(model(x), y).backward()
            model.zero_grad()
    recs = w.records()
    check = "saturation" if act == "tanh" else "dead_relu"
    key = "saturated_fraction" if act == "tanh" else "dead_fraction"
    assert next(r[key] for r in recs if r["step"] == 0 and r["layer"] == "1") > 0.4
    found = {f.check: f for f in verdict(recs)}
    assert found["nonfinite"].status == "fail"
    f = found[check]
    assert f.status == "warn", (f.status, f.step, f.message)


# -- figures ------------------------------------------------------------------------------------
def test_histogram_panel_of_a_nan_layer_does_not_say_its_values_were_out_of_range():
    """histogram_grid writes, on a panel whose bins are empty, where the values went. For a
    layer whose outputs were all NaN it writes "all 64 values outside [-3, 3]" (NaN is counted
    in hist_over): a false statement in the figure that `trainlab diagnose` puts in the report
    - the values were not large, they were NaN (the record says nonfinite)."""
    from trainlab.diagnostics.figures import histogram_grid

    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))
    with watch(model, every=1) as w:
        model(torch.randn(8, 4)).sum().backward()
    recs = w.records()
    assert all(r["nonfinite"] for r in recs)
    fig = histogram_grid(recs)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts, "the empty panel should say why it is empty"
    assert not any("outside" in t for t in texts), texts


# -- the one-screen table is deterministic ------------------------------------------------------
_TABLE_LAYER = """
import importlib.util, sys
print(list({"act_a", "act_b"}))  # this process's set order: what the hash seed decides
spec = importlib.util.spec_from_file_location("v", sys.argv[1])
v = sys.modules["v"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(v)
verdict, verdict_rows = v.verdict, v.verdict_rows
recs = []
for model, dead in ((0, "act_a"), (1, "act_b")):
    for order, layer in enumerate(("act_a", "act_b")):
        recs.append({"model": model, "step": 0, "layer": layer, "kind": "relu", "order": order,
                     "dead_fraction": 0.9 if layer == dead else 0.0})
print(next(r["layer"] for r in verdict_rows(verdict(recs)) if r["check"] == "dead_relu"))
"""


def test_verdict_table_layer_column_does_not_depend_on_string_hashing():
    """The table that `trainlab diagnose` prints (and the report's Health verdict) names "the
    most common flagged layer". With a tie (model 0 flags 'act_a', model 1 'act_b') it is
    ``max(set(layers), key=layers.count)``: the set's order, i.e. Python's per-process string
    hash seed, decides. The same diagnostics.jsonl then prints a different layer from one run
    of `trainlab report` to the next - a result that depends on something it must not.

    Two hash seeds whose set orders of the two names differ (checked: else the test could not
    fail), run side by side (each process imports torch: ~2 s)."""
    mod = importlib.import_module("trainlab.diagnostics.verdict")  # the module, not the function
    procs = [
        subprocess.Popen([sys.executable, "-c", _TABLE_LAYER, mod.__file__],
                         env={**os.environ, "PYTHONHASHSEED": seed},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in ("0", "3")
    ]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-1500:] for _, err in outputs]
    orders, layers = zip(*(out.split("\n")[:2] for out, _ in outputs), strict=True)
    assert len(set(orders)) == 2, f"pick two hash seeds whose set orders differ: {orders}"
    assert len(set(layers)) == 1, layers


def test_a_nan_gradient_only_at_the_last_output_is_traced_not_a_crash() -> None:
    """A backward NaN whose only sign is ‖∂L/∂y‖ of the last layer (the loss's own gradient
    went NaN, no parameter gradient is recorded non-finite yet) names the last layer; the
    backward-origin search found no layer after it and raised a ValueError."""
    nan = float("nan")
    rows = [
        {"model": 0, "step": 0, "layer": name, "order": i, "nonfinite": False, "grad_norm": 1.0,
         "out_grad_norm": nan if i == 1 else 1.0, "weight_norm": 1.0}
        for i, name in enumerate(("0", "1"))
    ]  # fmt: skip
    (nf,) = [f for f in verdict(rows) if f.check == "nonfinite"]
    assert (nf.status, nf.step, nf.layer) == ("fail", 0, "1"), nf.message
