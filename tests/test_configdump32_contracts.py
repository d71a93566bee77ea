"""configdump32 review: the resolved config.yaml a run writes must read back as written."""

import pytest
import yaml

from trainlab.config import dump_config, load_yaml, parse_config


# config.dump_yaml's _Dumper drops PyYAML's YAML 1.1 int resolvers (binary 0b…, base-60
# 1:30, signed hex) and keeps only trainlab's YAML 1.2 ones, so a text value that YAML 1.1
# reads as an int is written unquoted (`name: 1:30`). trainlab's own loader reads it back as
# text, but any YAML 1.1 reader -- yaml.safe_load, which a user re-saving config.yaml uses
# (and trainlab.pretrain.run itself uses on config.yaml) -- reads 90 / 5: after a no-op
# safe_load/safe_dump re-save, `trainlab resume` fails with "name: Input should be a valid
# string ... (got 90)". The text must be quoted (as '010', '1e-3', 'yes' already are), so
# that both readers get the string back.
@pytest.mark.parametrize("text", ["1:30", "0b101", "190:20:30", "-0x1F"])
def test_text_that_yaml11_reads_as_int_is_quoted(text):
    config = parse_config({"name": text, "data": {"preprocess": "none"}})
    dumped = dump_config(config)
    assert parse_config(load_yaml(dumped)) == config  # (holds today)
    assert yaml.safe_load(dumped)["name"] == text
    resaved = yaml.safe_dump(yaml.safe_load(dumped), sort_keys=False)
    assert parse_config(load_yaml(resaved)) == config
