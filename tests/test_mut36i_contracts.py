"""Review (mut36i, mutation testing) of the ``init`` study's claim decisions: hand-made
measurements fed to ``init_study._claims`` and hand-built models fed to ``unit_symmetry``; no
training. Expected verdicts come from the rules stated in the study's docstring and the claim
rows (claim (a) "allows 1e-6"; "trains": every seed's train loss *below* 0.8·ln 10 and test
accuracy *above* 2x chance; claims (b)/(c) are about depth 30 with ReLU, issue 4)."""

from __future__ import annotations

import math

import torch

from trainlab.models import create
from trainlab.studies import init_study

LN10 = math.log(10)


def _sym(w: float, o: float = 0.0, finite: bool = True) -> dict:
    return {"weight_diff": w, "output_diff": o, "weight_scale": 0.1, "finite": finite}


def _m(scheme: str, sym: dict, loss: float = 2.0, acc: float = 0.5, status: str = "ok") -> dict:
    return {"scheme": scheme, "status": status, "stopped_step": None, "symmetry": sym,
            "final": {"train_loss": loss, "test_acc": acc}}  # fmt: skip


def _claim(cells: list[dict], prefix: str) -> dict:
    (c,) = [c for c in init_study._claims(cells) if c["claim"].startswith(prefix)]
    return c


def _cell(models: list[dict], depth: int = 4, act: str = "relu") -> dict:
    return {"name": f"digits-depth{depth}-{act}", "depth": depth, "act": act, "models": models}


# kills init_study.py:422 `worst <= 1e-6` -> `worst < 1e-6`: unit_symmetry's docstring says
# "claim (a) allows 1e-6" (the matmul kernel's rounding), so a spread of exactly 1e-6 holds.
def test_claim_a_allows_a_spread_of_exactly_1e_6() -> None:
    models = [_m("zeros", _sym(0.0, 1e-6)), _m("constant 0.1", _sym(1e-6, 0.0))]
    models += [_m("He", _sym(0.5, 2.0)) for _ in range(2)]
    a = _claim([_cell(models)], "(a)")
    assert a["holds"] is True, a["measured"]
    assert a["max_symmetric_diff"] == 1e-6


# kills init_study.py:422 `(not rnd_fin or least > 1e-3)` -> `True`: the symmetry measure is read
# "against the same number for random inits" (study docstring); when a random init also shows
# no spread over its units the measure does not discriminate, so (a) cannot be said to hold.
def test_claim_a_does_not_hold_when_random_inits_show_no_spread_either() -> None:
    models = [_m("zeros", _sym(0.0)), _m("constant 0.1", _sym(0.0))]
    models += [_m("He", _sym(0.0, 0.0)), _m("Xavier", _sym(0.0, 0.0))]
    a = _claim([_cell(models)], "(a)")
    assert a["holds"] is False, a["measured"]
    assert a["min_random_diff"] == 0.0


# kills init_study.py:421 `min(` -> `max(`: "smallest for random inits" is the minimum over the
# random-init models (hand: min(1e-5, 0.5) = 1e-5), and one random model whose units are as
# close as 1e-5 means the measure does not separate symmetric from random: (a) does not hold.
def test_claim_a_reports_the_smallest_random_spread() -> None:
    models = [_m("zeros", _sym(0.0)), _m("He", _sym(0.5, 2.0)), _m("Xavier", _sym(1e-5, 1.0))]
    a = _claim([_cell(models)], "(a)")
    assert a["min_random_diff"] == 1e-5
    assert a["holds"] is False, a["measured"]


# kills init_study.py:418 `> 1e-6` -> `> 1e-3` (broken_over): an overflowed symmetric model
# "counts against the claim if its finite entries differ" (study docstring), with the same 1e-6
# tolerance as the finite ones: finite entries 1e-4 apart break (a).
def test_claim_a_overflowed_model_with_units_1e_4_apart_breaks_the_claim() -> None:
    models = [_m("zeros", _sym(0.0)), _m("constant 0.1", _sym(1e-4, math.nan, finite=False))]
    models += [_m("He", _sym(0.5, 2.0)) for _ in range(2)]
    a = _claim([_cell(models)], "(a)")
    assert a["holds"] is False, a["measured"]


# kills init_study.py:420 dropping `if m["symmetry"]["finite"]` from the random-init list: an
# overflowed random model whose spread is NaN (nothing finite to compare) is no measurement;
# the smallest random spread is over the finite ones (hand: 0.3), and (a) holds.
def test_claim_a_ignores_overflowed_random_inits() -> None:
    models = [_m("zeros", _sym(0.0)), _m("constant 0.1", _sym(0.0))]
    models += [_m("N(0, 1)", _sym(math.nan, math.nan, finite=False)), _m("He", _sym(0.3, 1.0))]
    a = _claim([_cell(models)], "(a)")
    assert a["min_random_diff"] == 0.3
    assert a["holds"] is True, a["measured"]


def _deep(xavier: tuple[float, float], he: tuple[float, float], lsuv: tuple[float, float],
          depth: int = 30, act: str = "relu") -> dict:  # fmt: skip
    models = []
    for scheme, (loss, acc) in (("Xavier", xavier), ("He", he), ("LSUV", lsuv)):
        models += [_m(scheme, _sym(0.5, 1.0), loss, acc) for _ in range(3)]
    return _cell(models, depth, act)


# kills init_study.py:467 `tl < TRAIN_LOSS * CHANCE_LOSS` -> `<=`: "trains" is train loss
# *below* 0.8·ln 10 (docstring and claim row), so a loss of exactly 0.8·ln 10 does not train.
def test_lsuv_at_exactly_the_train_loss_bound_does_not_train() -> None:
    cell = _deep((LN10, 0.1), (0.2, 0.9), (0.8 * LN10, 0.9))
    assert _claim([cell], "(c)")["holds"] is False
    assert _claim([cell], "(b)")["holds"] is True  # He (0.2, 0.9) trains, Xavier at ln 10 stalls


# kills init_study.py:467 `ta > TRAIN_ACC` -> `>=`: test accuracy must be *above* 2x chance
# (0.2 for 10 classes), so exactly 0.2 does not train.
def test_lsuv_at_exactly_twice_chance_accuracy_does_not_train() -> None:
    cell = _deep((LN10, 0.1), (0.2, 0.9), (0.5, 0.2))
    assert _claim([cell], "(c)")["holds"] is False
    cell = _deep((LN10, 0.1), (0.2, 0.9), (0.5, 0.21))
    assert _claim([cell], "(c)")["holds"] is True


# kills init_study.py:446 `c["depth"] == 30 and` -> `c["depth"] >= 4 and`, and dropping
# `and c["act"] == "relu"`: claims (b) and (c) are about depth 30 with ReLU (issue 4, He et al.
# 2015 Fig. 3); a depth-4 ReLU cell or a depth-30 tanh cell gives no (b)/(c) row.
def test_claims_b_and_c_only_for_depth_30_relu_cells() -> None:
    cells = [_deep((LN10, 0.1), (0.2, 0.9), (0.2, 0.9), depth=4),
             _deep((LN10, 0.1), (0.2, 0.9), (0.2, 0.9), depth=30, act="tanh")]  # fmt: skip
    names = [c["claim"] for c in init_study._claims(cells)]
    assert not [n for n in names if n.startswith(("(b)", "(c)"))], names
    cells.append(_deep((LN10, 0.1), (0.2, 0.9), (0.2, 0.9)))
    names = [c["claim"] for c in init_study._claims(cells)]
    assert [n[:3] for n in names] == ["(b)", "(c)"], names  # no zeros/constant: no (a)
    assert "depth30-relu" in names[1]


def _mlp(hidden: tuple[int, ...]) -> torch.nn.Module:
    return create("mlp", input_shape=(3,), num_classes=2, hidden=hidden)


# kills init_study.py:199 `ok.sum(units) >= 2` -> `>= 1`: "a diff with no two finite units to
# compare is NaN" (unit_symmetry docstring); a hidden layer of width 1 has one unit per column.
def test_unit_symmetry_of_a_single_unit_layer_is_nan() -> None:
    m = _mlp((1,))
    sym = init_study.unit_symmetry(m, torch.randn(4, 3, generator=torch.Generator().manual_seed(0)))
    assert math.isnan(sym["weight_diff"]) and math.isnan(sym["output_diff"]), sym
    assert sym["finite"] is True


# kills init_study.py:206 (dropping the bias column): the weight spread is over the units'
# input weights "bias included"; identical weight rows with biases 0 and 0.25 spread by 0.25.
def test_unit_symmetry_counts_the_bias() -> None:
    m = _mlp((2,))
    with torch.no_grad():
        m.fc1.weight.fill_(0.1)
        m.fc1.bias.copy_(torch.tensor([0.0, 0.25]))
    x = torch.zeros(2, 3)  # hidden pre-activations = bias: ReLU outputs 0 and 0.25
    sym = init_study.unit_symmetry(m, x)
    assert sym["weight_diff"] == 0.25, sym
    assert sym["output_diff"] == 0.25, sym


# kills init_study.py:474 dropping `and not s["nan"]` from stalls(): "a seed that diverged (NaN)
# neither trains nor stalls" (study docstring), so Xavier with one NaN seed of three does not
# "stall" even though its two finite seeds sit at ln 10, and (b) does not hold.
def test_xavier_with_a_diverged_seed_does_not_stall() -> None:
    cell = _deep((LN10, 0.1), (0.2, 0.9), (0.2, 0.9))
    assert _claim([cell], "(b)")["holds"] is True  # all finite: Xavier stalls, He trains
    cell["models"][0] = _m("Xavier", _sym(0.5, 1.0), math.nan, math.nan, status="nan")
    assert _claim([cell], "(b)")["holds"] is False


# kills evidence.py:65 `diff > bound` -> `>=` (and the same for `<`): judge() confirms when
# diff > t·se, strictly; a difference of exactly t·se is inconclusive. t from scipy directly.
def test_judge_at_exactly_the_bound_is_inconclusive() -> None:
    from scipy.stats import t

    from trainlab.studies import evidence

    bound = float(t.ppf(0.975, 4)) * 1.0  # se = 1: the bound is t itself, 2.776
    assert evidence.judge(bound, 1.0, 4.0) == evidence.INCONCLUSIVE
    assert evidence.judge(-bound, 1.0, 4.0) == evidence.INCONCLUSIVE
    assert evidence.judge(bound * 1.001, 1.0, 4.0) == evidence.CONFIRMED


# kills evidence.py:60 `dof < 1` -> `dof <= 1`: two seeds per cell (dof = 1) are judged, with
# t = 12.71 (evidence docstring, "dof = 1: 12.7"): a difference of 13 se is confirmed.
def test_judge_with_one_degree_of_freedom_is_judged() -> None:
    from trainlab.studies import evidence

    assert evidence.judge(13.0, 1.0, 1.0) == evidence.CONFIRMED
    assert evidence.judge(12.0, 1.0, 1.0) == evidence.INCONCLUSIVE
