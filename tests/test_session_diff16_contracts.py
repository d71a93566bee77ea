"""Review of this session's changes (from a3be544): a config.yaml with many seeds reads
back; parsed (key, value) sets."""

from __future__ import annotations

from trainlab import config as config_mod
from trainlab.config import apply_sets, dump_config, load_config


def test_a_config_with_more_seeds_than_the_yaml_cap_reads_back(tmp_path, monkeypatch):
    # --seeds now bypasses YAML, so `train --seeds 0-99999` trains, but the config.yaml it writes
    # is refused by resume/report ("give many seeds as a range, --seeds 0-99999"): what train
    # accepts and writes must load back (only alias expansion should hit the cap).
    monkeypatch.setattr(config_mod, "MAX_YAML_VALUES", 500)  # (100_000 seeds: same, but slow)
    cfg = load_config(None, [("population.seeds", list(range(600)))])
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path).population.seeds == list(range(600))


def test_a_parsed_grid_axis_pair_keeps_its_dots():
    # apply_sets' (key, value) pairs split population.grid.optim.lr into nested sections (the
    # string form keeps the axis 'optim.lr'), so diagnose(sets=[(...)]) / as_config fail with
    # "write per-model keys dotted"; a pair must set the same axis as the string form.
    assert apply_sets({}, [("population.grid.optim.lr", [0.1, 0.2])]) == apply_sets(
        {}, ["population.grid.optim.lr=[0.1, 0.2]"]
    )


def test_a_malformed_parsed_set_is_one_config_error():
    # a tuple that is not a (str, value) pair surfaced as a ValueError from unpacking
    import pytest

    from trainlab.config import ConfigError, apply_sets

    for bad in [("population.seeds",), ("", 1), (3, 1)]:
        with pytest.raises(ConfigError, match="pair"):
            apply_sets({}, [bad])
