"""Review pretraincfg31: `trainlab pretrain CONFIG` config handling (pretrain/run.py)."""

from __future__ import annotations

import pytest

from trainlab.errors import ConfigError
from trainlab.pretrain.run import load_pretrain_config


# A pre-training config whose text key YAML reads as a date or a number (`name: 2026-11-29`,
# `data: {name: 2024}`) is refused by pretrain/run.py's _validate with pydantic's bare "Input
# should be a valid string" -- to the user the value *is* text, so the message misleads. The same
# YAML given to `trainlab train` (trainlab.config.load_config) says why and how to fix it ("YAML
# read a date: put the text in quotes (name: '...')"). The pretrain reader must give that hint too.
@pytest.mark.parametrize(
    "text, key",
    [
        ("name: 2026-11-29\n", "name"),
        ("name: 123\n", "name"),
        ("data: {name: 2024}\n", "data.name"),
    ],
)
def test_text_key_read_as_date_or_number_says_put_it_in_quotes(tmp_path, text, key):
    path = tmp_path / "pre.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_pretrain_config(path)
    msg = str(err.value)
    assert key in msg
    assert "quotes" in msg, msg
