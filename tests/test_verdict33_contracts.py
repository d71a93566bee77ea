"""Review tests (verdict33): health verdicts against their documented thresholds."""

from __future__ import annotations

from trainlab.diagnostics import verdict
from trainlab.diagnostics.run import with_trainer_stops
from trainlab.diagnostics.verdict import verdict_rows

INF = float("inf")


def _row(layer, step, order, model=0, kind="linear", **kw):
    r = dict(
        model=model, layer=layer, step=step, kind=kind, order=order, calls=1, act_mean=0.0,
        act_std=1.0, dead_fraction=None, saturated_fraction=None, nonfinite=False,
        grad_norm=None, out_grad_norm=None, weight_norm=None, update_ratio=None, loss_scale=None,
    )  # fmt: skip
    if kind == "linear":
        r.update(grad_norm=1.0, out_grad_norm=1.0, weight_norm=1.0, update_ratio=1e-3)
    r.update(kw)
    return r


# verdict_rows (the one-screen table of `trainlab diagnose`) takes a row's status from the worst
# model ("fail") but its layer and detail from the most common flagged layer among all fired
# findings, warn ones included. Two models with a float32-overflow *warning* at 'b' and one
# model whose forward went NaN at 'c' (fail) give a row "fail | layer b | model 0: an infinite
# output-gradient norm ... (warn text)": the failing model and its origin 'c' appear nowhere on
# the screen, while verdict.json says model 2 fails at 'c'. The layer/detail of a row must come
# from a finding with the row's status.
def test_table_row_names_the_failing_model_not_a_warning():
    recs = []
    for m in (0, 1):
        recs += [_row("a", 0, 0, m), _row("b", 0, 1, m, out_grad_norm=INF), _row("c", 0, 2, m)]
    recs += [_row("a", 0, 0, 2), _row("b", 0, 1, 2),
             _row("c", 0, 2, 2, nonfinite=True, act_std=None)]  # fmt: skip
    findings = verdict(recs)
    fail = [f for f in findings if f.check == "nonfinite" and f.status == "fail"]
    assert [(f.model, f.layer) for f in fail] == [(2, "c")]
    row = next(r for r in verdict_rows(findings) if r["check"] == "nonfinite")
    assert row["status"] == "fail"
    assert row["layer"] == "c"
    assert "model 2" in row["detail"] and "'c'" in row["detail"]


# Same with the trainer's NaN stop (run_findings/with_trainer_stops: fail, no layer) beside a
# model with the overflow warning: the row reads "fail" with the warning's layer and text.
def test_table_row_with_trainer_stop_shows_the_stop():
    recs = []
    for m in (0, 1):
        recs += [_row("a", s, 0, m) for s in (0, 10)]
        recs += [_row("b", s, 1, m) for s in (0, 10)]
    recs[-1] = _row("b", 10, 1, 1, out_grad_norm=INF)  # model 1: overflow warning at 'b'
    findings = with_trainer_stops(verdict(recs), {0: 5}, {0: {0, 10}, 1: {0, 10}})
    assert [f.status for f in findings if f.check == "nonfinite"] == ["fail", "warn"]
    row = next(r for r in verdict_rows(findings) if r["check"] == "nonfinite")
    assert row["status"] == "fail"
    assert "model 0" in row["detail"] and "stopped by the trainer" in row["detail"]
    assert row["layer"] == ""


# The saturation (and dead_relu) finding reports step = the latest sampled step but value = the
# least fraction over the latest 3 sampled steps, which may come from another step: a tanh layer
# 99.9% saturated at steps 5 and 10 (lr 100, seen in `trainlab diagnose --epochs 1 --every 5`)
# is reported "ok, at most 6%" with step=10, although the record at step 10 says 99.9%. The
# finding's (step, value) must describe one record: the value at the step it names.
def test_saturation_finding_step_and_value_agree():
    recs = []
    for s, frac in ((0, 0.057), (5, 0.9985), (10, 0.9993)):
        recs += [_row("fc", s, 0), _row("act", s, 1, kind="tanh", saturated_fraction=frac)]
    f = next(f for f in verdict(recs) if f.check == "saturation")
    at_step = [r["saturated_fraction"] for r in recs if r["step"] == f.step and r["layer"] == "act"]
    assert at_step == [f.value]
