"""Review of the changes since b2ccdd0~1 (pretrain's report after summary.json, --set's
YAML-quoted values, text numbers in open-section grid options, the Ctrl-C note as text,
group_params / __setstate__ of the population optimizers, dtype-aware from_models)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "item",
    ["name='sweep' # 'final'", "optim.lr='1e-3' # '1e-2'"],
    ids=["string-field", "number-field"],
)
def test_set_does_not_drop_text_after_a_hash_when_the_value_ends_with_a_quote(item):
    """``config._set_value`` promises that "``#`` after a scalar starts no comment: a shell
    argument is not a YAML document, so ``name=sweep #2`` is ``sweep #2``", and indeed
    ``--set "optim.lr=1e-3 # 1e-2"`` keeps the whole text (and is refused as no number). The
    new "YAML-quoted" shortcut only looks at the first and last characters: a value that
    starts and ends with a quote but holds *two* quoted scalars around a ``#`` (``'sweep' #
    'final'``) is taken as one quoted scalar, YAML drops ``# 'final'`` as a comment, and the
    run is silently named ``sweep`` (or trains at lr 1e-3) with the rest of what the user
    typed thrown away. The text after ``#`` must be kept (or the value refused), as it is
    for an unquoted value."""
    from trainlab.config import apply_sets

    raw = apply_sets({}, [item])
    key = item.split("=", 1)[0].split(".")
    value = raw
    for part in key:
        value = value[part]
    assert "#" in str(value), f"--set {item!r} gave {value!r}: the text after '#' was dropped"
