"""Review (teacher19): what `trainlab diagnose` prints for a sick population."""

from trainlab.diagnostics.verdict import verdict, verdict_rows


def _records(dead_layer_by_model):
    recs = []
    for model, dead in dead_layer_by_model.items():
        for step in (0, 10, 20):
            for order, layer in enumerate(("act1", "act2")):
                recs.append(
                    {
                        "model": model,
                        "step": step,
                        "layer": layer,
                        "kind": "relu",
                        "order": order,
                        "dead_fraction": 1.0 if layer == dead else 0.0,
                    }
                )
    return recs


def test_diagnose_table_row_layer_and_detail_name_the_same_layer():
    # Bug: the row's `layer` is the most common flagged layer (act1) but its `detail` is the first
    # fired model's message, which names another layer ("model 0: ... 100% in 'act2'"), as
    # `trainlab diagnose lr10.yaml --seeds 0-3` prints; the detail must be from a model that
    # flagged the layer shown (here model 1 or 2), so the row does not contradict itself.
    findings = verdict(_records({0: "act2", 1: "act1", 2: "act1"}))
    row = next(r for r in verdict_rows(findings) if r["check"] == "dead_relu")
    assert row["layer"] == "act1", row
    assert "'act1'" in row["detail"], row


def test_a_dead_fraction_just_below_one_is_not_shown_as_100_percent():
    # 255 of 256 ReLU units dead was printed "100% in 'act2'": a student reads "all dead" where
    # one unit still lives; the message keeps the decimal that tells them apart
    from trainlab.diagnostics import verdict

    recs = [
        {"model": 0, "step": s, "layer": "act", "kind": "relu", "order": 0,
         "dead_fraction": 255 / 256}
        for s in range(3)
    ]  # fmt: skip
    (dead,) = [f for f in verdict(recs) if f.check == "dead_relu"]
    assert dead.status == "warn" and "99.6%" in dead.message, dead.message
