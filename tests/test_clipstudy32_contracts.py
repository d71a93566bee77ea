"""Clipping study: the tanh claim says "saturation, not explosion" from NaN counts alone. In the
full run (review clipstudy32) every unclipped tanh model at LR 0.1 stayed finite but ended at
chance (0.100) while norm clipping took the same models to 0.948; the claim read "confirmed" and
the module docstring concluded "so clipping matters less" — the opposite of what was measured.
The measured text must show tanh's accuracy without and with clipping at the large LRs."""

from test_optim_science_contracts import _clip_rows


def test_tanh_claim_shows_accuracy_without_and_with_clipping():
    from trainlab.studies import clipping

    accs = {}
    for lr in clipping.LRS:
        if lr >= clipping.BIG_LR:
            accs[("tanh", "no clipping", lr)] = [0.100] * 5
            accs[("tanh", "clip norm 1", lr)] = [0.948] * 5
    n_nan = {("relu", "no clipping", lr): 5 for lr in clipping.LRS if lr >= clipping.BIG_LR}
    rows = _clip_rows(n_nan, accs)
    claims = clipping._claims(rows, ["relu", "tanh"], list(clipping.CLIPPING), quick=False)
    (row,) = [c for c in claims if c["claim"].startswith("tanh, large init")]
    assert "0.100" in row["measured"] and "0.948" in row["measured"], row


def test_docstring_does_not_conclude_clipping_matters_less_for_tanh():
    from trainlab.studies import clipping

    assert "clipping matters less" not in clipping.__doc__
