"""Contracts from a review of statistics with very few seeds: the studies' verdicts with one
or two seeds."""

from trainlab.studies import evidence, init_study, optimizers

_SYM = {"weight_diff": 1.0, "output_diff": 1.0, "weight_scale": 1.0, "finite": True}


def _model(i: int, scheme: str, train_loss: float, test_acc: float) -> dict:
    return {"index": i, "seed": 0, "scheme": scheme, "status": "ok", "symmetry": _SYM,
            "final": {"train_loss": train_loss, "test_acc": test_acc}}  # fmt: skip


def test_init_study_does_not_claim_xavier_stalls_he_trains_from_one_seed():
    # init study: with --seeds 1, claims (b)/(c) say "holds: yes" with no hedge, while every
    # other study (evidence.UNTESTABLE) refuses to judge a claim from one seed per cell; it
    # should say "not judged (one seed)" or at least say the verdict rests on one seed.
    cell = {"depth": 30, "act": "relu", "name": "digits-depth30-relu",
            "models": [_model(0, "Xavier", 2.3026, 0.10), _model(1, "He", 0.15, 0.88),
                       _model(2, "LSUV", 0.04, 0.95)]}  # fmt: skip
    for claim in init_study._claims([cell]):
        text = f"{claim['measured']} {claim['holds']}".lower()
        assert claim["holds"] is not True or "one seed" in text, claim


def test_two_seeds_that_happen_to_agree_do_not_confirm_a_claim():
    # evidence.welch: zero observed spread over 2 seeds per cell gives dof=inf, se=0, so judge
    # "confirms" any difference at a bound of 0; two draws of a discrete metric (test accuracy,
    # an LR count) coincide often (optimizers --quick --seeds 2: momentum 0.576, 0.576). With so
    # few seeds a zero sample spread is no noise estimate: not judged, never confirmed.
    se, dof = evidence.welch([(0.0, 2), (0.0, 2)])
    assert evidence.judge(0.001, se, dof) != evidence.CONFIRMED


def test_optimizer_claim_is_not_decided_by_two_coinciding_seeds():
    # optimizers._compare: LR-range widths [2, 2] vs [1, 1] (integers, 2 seeds) -> "confirmed,
    # 95% bound ±0.0000 (Welch dof ∞ (seeds agree exactly))"; 2 seeds give no noise estimate here.
    verdict, _ = optimizers._compare([2.0, 2.0], [1.0, 1.0])
    assert verdict != evidence.CONFIRMED
    verdict, _ = optimizers._compare([0.576, 0.576], [0.593, 0.593], pct=True)
    assert verdict != evidence.CONTRADICTED
