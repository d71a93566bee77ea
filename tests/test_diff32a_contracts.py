"""Review diff32a: this session's diagnostics changes (verdict_rows sides, exact fractions)."""

import numpy as np

from trainlab.diagnostics.verdict import verdict, verdict_rows


def _update_records(seq):
    recs = []
    for m, ratios in seq.items():
        for si, u in enumerate(ratios):
            for li, layer in enumerate(["0", "2"]):
                recs.append(
                    dict(
                        model=m, layer=layer, step=si * 10, order=li, kind="linear",
                        weight_norm=1.0, grad_norm=1.0, update_ratio=u, act_std=1.0,
                        out_grad_norm=1.0,
                    )
                )  # fmt: skip
    return recs


# verdict_rows (verdict.py, _side) takes a two-sided check's direction as "the message up to
# its first colon". The update_ratio "no update (model stopped or frozen)" finding carries
# "; at step N it was too large: ..." before its first colon, so two models that fired the
# SAME way (both blew up with a too-large update, then stopped) but at different steps are
# split into two "sides": the row reads "...; also 1 with no update (model stopped or frozen);
# at step 20 it was too large (model 1)", as if model 1 had fired the other way. Both models
# fired the same direction, so the row must not add an "also ... (model 1)" clause.
def test_update_ratio_row_same_direction_at_other_steps_is_not_the_other_way():
    # model 0: too large at step 10, then no update; model 1: too large at step 20, then none;
    # model 2 healthy
    recs = _update_records({0: [1e-3, 0.5, 0.0, 0.0], 1: [1e-3, 1e-3, 0.5, 0.0], 2: [1e-3] * 4})
    fs = verdict(recs)
    ups = [f for f in fs if f.check == "update_ratio" and not f.ok]
    assert [f.model for f in ups] == [0, 1]
    assert all(f.message.startswith("no update (model stopped or frozen)") for f in ups)
    row = next(r for r in verdict_rows(fs) if r["check"] == "update_ratio")
    assert row["models"] == "2/3"
    assert "also" not in row["detail"], row["detail"]


# The exact c/n fractions are made only when watch writes new records (_exact_fraction). A
# diagnostics.jsonl written before this change holds float32 quotients, e.g. 1 of 5 values
# saturated stored as 0.20000000298023224, and `verdict` on that run still warns
# "saturated tanh/sigmoid: 20.000% in '1' > 20.000%": exactly the threshold, which the check
# ("more than 20%") must not flag. A fraction c/n (n < 2**23) within float32 rounding of the
# threshold is the threshold itself, so the verdict can tell: the expected status is ok.
def test_verdict_on_old_float32_fraction_at_threshold_is_ok():
    old = float(np.float32(0.2))  # how older versions wrote 1/5
    assert old != 0.2
    recs = []
    for s in (0, 10, 20):
        recs.append(
            dict(model=0, layer="0", step=s, order=0, kind="linear", weight_norm=1.0,
                 grad_norm=1.0, act_std=1.0)
        )  # fmt: skip
        recs.append(
            dict(model=0, layer="1", step=s, order=1, kind="tanh", act_std=0.5,
                 saturated_fraction=old)
        )  # fmt: skip
    sat = next(f for f in verdict(recs) if f.check == "saturation")
    assert sat.status == "ok", sat.message
