"""Review types36: what the public hints and exports promise."""

import typing

import trainlab.pretrain
from trainlab.config import load_config


# The README's pre-training section names run_pretrain(..., progress=True) "in Python", but
# trainlab.pretrain did not export it (it lived in trainlab.pretrain.run only).
def test_run_pretrain_is_exported_where_the_readme_points() -> None:
    from trainlab.pretrain import run_pretrain
    from trainlab.pretrain.run import run_pretrain as defined

    assert run_pretrain is defined
    assert "run_pretrain" in trainlab.pretrain.__all__


# load_config's sets were hinted list[...] (invariant): a user's list[str] or tuple of
# overrides was rejected by a type checker although any sequence works at run time.
def test_load_config_sets_hint_is_a_sequence() -> None:
    hint = typing.get_type_hints(load_config)["sets"]
    assert "Sequence" in str(hint)
    cfg = load_config(None, ("train.epochs=3",))
    assert cfg.train.epochs == 3
