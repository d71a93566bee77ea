"""Review of b6431e7..HEAD: printed advice that must work when followed, and the
preprocessing study's sensitivity claim naming the diverged cells."""

from __future__ import annotations

import re

import pytest
import yaml

from trainlab.config import parse_config
from trainlab.errors import ConfigError

BASE = {"name": "t", "model": {"name": "mlp", "hidden": [4]}}


def _hint_form(message: str) -> str:
    m = re.search(r"write it nested \((.*)\): dotted keys", message)
    assert m, message
    return m.group(1)


def test_dotted_variants_key_hint_leads_somewhere_that_loads():
    """A dotted key written in a config file (``population.variants.optim.lr: [0.1, 0.2]``)
    gets the hint "write it nested (...)"; the commit promises printed advice that works when
    followed. Writing the printed nested form (with the user's value in place of ``...``) must
    not be refused with the very same unknown key again: the hint may not send the user in a
    circle. Today it prints ``population: {variants.optim.lr: ...}``, which is rejected as
    ``unknown key 'population.variants.optim.lr'`` once more (variants is a list of flat
    override dicts: ``population: {variants: [{optim.lr: 0.1}, {optim.lr: 0.2}]}``)."""
    key = "population.variants.optim.lr"
    with pytest.raises(ConfigError) as first:
        parse_config({**BASE, key: [0.1, 0.2]})
    form = _hint_form(str(first.value)).replace("[...]", "[0.1, 0.2]").replace("...", "[0.1, 0.2]")
    followed = {**BASE, **yaml.safe_load(form)}
    try:
        parse_config(followed)
    except ConfigError as err:
        assert f"unknown key '{key}'" not in str(err), (str(first.value), form, str(err))


def test_less_sensitive_zero_loss_is_not_called_diverged():
    """``less_sensitive`` now names the cells it cannot judge with "N of M seeds diverged", and
    its verdict reads "NaN/Inf runs at the best LR". A seed whose final loss is exactly 0.0
    (finite; float32 cross-entropy underflows to 0 on a perfectly fit batch) did not diverge:
    its log does not exist, so the ratio cannot be judged, but the detail must not report it as
    a diverged run and the verdict must not call it NaN/Inf. Today ``([0.0, 1.0], [1.0, 1.0])``
    for SGD reads "not judged (NaN/Inf runs at the best LR)" with "SGD raw: 1 of 2 seeds
    diverged" (``_measured``'s ``v > 0`` test is counted as divergence)."""
    from trainlab.studies.preprocessing import less_sensitive

    verdict, _, r_adam, detail = less_sensitive(([0.0, 1.0], [1.0, 1.0]), ([1.0, 1.1], [2.0, 2.1]))
    assert r_adam == pytest.approx((1.0 * 1.1) ** 0.5 / (2.0 * 2.1) ** 0.5)
    assert "diverged" not in detail, detail
    assert "NaN/Inf" not in verdict, verdict
