"""Review (config_set): YAML typing of config files and ``--set`` values.

trainlab's loader promises to read numbers "as YAML 1.2 does" (``config._Loader``), to refuse a
key given twice, and to give one clear line for every config mistake. These tests pin cases
where the code does not keep those promises.
"""

from __future__ import annotations

import re

import pytest
import yaml

from trainlab.config import Config, load_config, load_yaml
from trainlab.errors import ConfigError

MERGE = """\
population:
  variants:
    - &base {optim.lr: 0.1, init.scheme: zeros}
    - <<: *base
      optim.lr: 0.2
"""


def test_yaml_merge_keys_load_like_pyyaml_safe_load(tmp_path):
    """A config that reuses a block with an anchor and a merge key (``<<: *base``, the usual
    way to write variants that differ in one key) is valid YAML that PyYAML's own safe loader
    reads. trainlab's duplicate-key check (``_Loader.construct_mapping``) constructs the
    ``<<`` key node itself, which has no constructor, so the file is refused as "not valid
    YAML ... check indentation and colons", an error that is wrong and that the user cannot
    fix by following it. An explicit key that overrides a merged one (``optim.lr`` here) is
    YAML's merge semantics, not a duplicate key."""
    assert yaml.safe_load(MERGE)["population"]["variants"][1] == {
        "optim.lr": 0.2,
        "init.scheme": "zeros",
    }
    assert load_yaml(MERGE) == yaml.safe_load(MERGE)
    path = tmp_path / "c.yaml"
    path.write_text(MERGE)
    assert load_config(path).population.variants == [
        {"optim.lr": 0.1, "init.scheme": "zeros"},
        {"optim.lr": 0.2, "init.scheme": "zeros"},
    ]


@pytest.mark.parametrize(
    ("where", "text", "field", "expected"),
    [
        pytest.param("file", "train: {epochs: 010}\n", "epochs", 10, id="file-epochs-010"),
        pytest.param("set", "data.seed=0100", "seed", 100, id="set-seed-0100"),
        pytest.param("set", "population.seeds=[007, 010]", "seeds", [7, 10], id="set-seeds"),
    ],
)
def test_zero_padded_integers_are_decimal_as_in_yaml_1_2(tmp_path, where, text, field, expected):
    """``_Loader`` documents that it reads numbers as YAML 1.2 does; in YAML 1.2 (core schema)
    ``010`` is the decimal integer 10 (octal is written ``0o10``). PyYAML's YAML 1.1 resolver,
    which trainlab keeps, reads a zero-padded number as octal, so ``train.epochs: 010`` trains
    8 epochs and ``--set data.seed=0100`` silently uses seed 64, while ``0089`` is 89: a
    zero-padded seed or count silently becomes another number."""
    if where == "file":
        path = tmp_path / "c.yaml"
        path.write_text(text)
        cfg = load_config(path)
    else:
        cfg = load_config(None, [text])
    got = {
        "epochs": lambda: cfg.train.epochs,
        "seed": lambda: cfg.data.seed,
        "seeds": lambda: cfg.population.seeds,
    }[field]()
    assert got == expected


@pytest.mark.parametrize("setting", ["train.epochs=1:30", "train.batch_size=1:04"])
def test_a_clock_time_is_not_a_base_60_number(setting):
    """YAML 1.2, which ``_Loader`` says it follows for numbers, has no base-60 integers:
    ``1:30`` is the string "1:30", which is not an integer, so ``--set train.epochs=1:30`` (a
    typo, or a time pasted by mistake) must be refused in one line. PyYAML's YAML 1.1 resolver
    reads it as 1*60+30, and the run silently trains 90 epochs (``1:04`` gives batch 64)."""
    with pytest.raises(ConfigError):
        load_config(None, [setting])


@pytest.mark.parametrize("key", ["optim.lr", "train.epochs"])
def test_a_dotted_key_in_a_file_gets_no_hint_that_cannot_work(tmp_path, key):
    """``--set`` and ``population.grid`` use dotted keys, so people write ``optim.lr: 0.1`` at
    the top of a YAML file. The error then says "unknown key 'optim.lr' (did you mean 'lr'?)":
    ``_format_error`` splits the dotted key as if it were a path and suggests a field of the
    ``optim`` section, but a top-level ``lr`` is just as unknown. A "did you mean" hint must
    name a key that is valid where the user wrote it (or say to nest it under ``optim:``)."""
    path = tmp_path / "c.yaml"
    path.write_text(f"{key}: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "\n" not in msg
    hint = re.search(r"did you mean '([^']+)'", msg)
    assert hint is None or hint.group(1) in Config.model_fields, msg


def test_a_duplicate_key_in_a_set_value_is_named_as_such():
    """The loader refuses a key given twice in a mapping (a file gets "duplicate key 'x' ...;
    give each key once"). In a ``--set`` value, ``apply_sets`` swallows that YAMLError and
    keeps the raw text, so ``--set 'population.grid={optim.lr: [0.1], optim.lr: [0.2]}'``
    reports "population.grid: Input should be a valid dictionary (got '{optim.lr: ...}')":
    the value *is* a mapping, and the line names the wrong problem. (Where the key takes a
    string, the mistyped mapping is silently kept as text.)"""
    with pytest.raises(ConfigError) as err:
        load_config(None, ["population.grid={optim.lr: [0.1], optim.lr: [0.2]}"])
    msg = str(err.value)
    assert "duplicate" in msg or "twice" in msg, msg


def test_a_section_set_after_one_of_its_keys_is_refused_not_silently_dropped():
    """``--set train.epochs=3 --set 'train={batch_size: 10}'`` replaced the whole section and
    dropped ``epochs=3`` without a word; the other order merges (both kept)."""
    from trainlab.config import ConfigError, apply_sets

    with pytest.raises(ConfigError, match=r"drop the earlier --set train\.epochs"):
        apply_sets({}, ["train.epochs=3", "train={batch_size: 10}"])
    merged = apply_sets({}, ["train={batch_size: 10}", "train.epochs=3"])
    assert merged["train"] == {"batch_size": 10, "epochs": 3}
    assert apply_sets({}, ["optim.lr=0.1", "optim.lr=0.2"])["optim"]["lr"] == 0.2
    with pytest.raises(ConfigError, match="population.grid.optim.lr"):
        apply_sets({}, ["population.grid.optim.lr=[0.1, 0.2]", "population.grid={}"])
