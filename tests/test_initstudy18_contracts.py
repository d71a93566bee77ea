"""Review (initstudy18) of the ``init`` study's claim logic: verdicts on edge inputs."""

from __future__ import annotations

import math

from trainlab.studies import init_study

_SYM = {"weight_diff": 1.0, "output_diff": 1.0, "weight_scale": 1.0, "finite": True}
_CHANCE = (math.log(10), 0.10)  # final train loss at ln 10, test accuracy at chance


def _model(scheme: str, train_loss: float, test_acc: float) -> dict:
    return {"scheme": scheme, "status": "ok", "symmetry": _SYM,
            "final": {"train_loss": train_loss, "test_acc": test_acc}}  # fmt: skip


def test_he_and_lsuv_do_not_train_when_most_of_their_seeds_stalled_at_chance() -> None:
    # init_study._claims: "trains" averages over seeds, so with 2 of 3 He (and LSUV) seeds stuck at
    # exactly ln 10 / 10% -- indistinguishable from Xavier -- (b) "Xavier stalls, He trains" and
    # (c) "LSUV trains" both say "yes"; a seed that stalled must count against "trains" as a NaN
    # seed already does (and as one trained seed counts against "stalls").
    models = [_model("Xavier", *_CHANCE) for _ in range(3)]
    for scheme in ("He", "LSUV"):
        models += [_model(scheme, *_CHANCE), _model(scheme, *_CHANCE), _model(scheme, 0.05, 0.95)]
    cell = {"name": "digits-depth30-relu", "depth": 30, "act": "relu", "models": models}
    claims = {c["claim"][:3]: c for c in init_study._claims([cell])}
    assert not claims["(b)"]["holds"], claims["(b)"]["measured"]
    assert not claims["(c)"]["holds"], claims["(c)"]["measured"]
