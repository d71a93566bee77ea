"""Review rng31: randomness and reproducibility (seeds, streams, docs of their limits)."""

from __future__ import annotations

import re
from pathlib import Path

from trainlab.config import parse_config
from trainlab.errors import ConfigError

README = Path(__file__).resolve().parents[1] / "README.md"


# PopulationConfig._seeds (config.py) accepts -2**63 (its range check is -(2**63) <= s < 2**63)
# while saying "|seed| < 2**63", but Population.__init__ (population.py) refuses any seed with
# abs(s) >= 2**63, so a config that parses (and --seeds=-9223372036854775808,0) fails only after
# the data is loaded, when the trainer is built. The two checks must agree: either the config
# refuses the seed up front (as its own message says), or the trainer trains it (it fits int64).
def test_seed_minus_two_pow_63_config_and_trainer_agree(tmp_path):
    from trainlab.train import train

    raw = {
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [4]},
        "train": {"epochs": 1, "batch_size": 256},
        "population": {"seeds": [-(2**63), 0]},
    }
    try:
        cfg = parse_config(raw)
    except ConfigError:
        return  # refused up front, as "|seed| < 2**63" says: consistent
    result = train(cfg, out=tmp_path / "run", progress=False)  # accepted: must then train
    assert [m["seed"] for m in result.summary["models"]] == [-(2**63), 0]


# rng._keys documents (and tests/test_rng_contracts.py keeps as a strict xfail) that seed and
# site are combined as ``seed ^ site`` before hashing, so a valid config seed
# (site_a ^ site_b, < 2**63) replays at one layer the dropout mask / data-order stream that
# seed 0 draws at another. The README's paragraph on per-model streams lists its "Known
# limitations" (the 32-bit init seed fold, activation checkpointing) but not this one, and
# presents the streams as keyed by (seed, step, site) without saying seed and site are
# interchangeable. The README should state it next to the other known limitations.
def test_readme_known_limitations_state_seed_site_xor():
    text = " ".join(README.read_text(encoding="utf-8").split())
    start = text.index("Known limitations: initial weights")
    para = text[start : text.index("Per-model hyperparameters", start)]
    assert re.search(r"seed\s*(\^|xor|XOR)\s*site|interchangeab", para), para[:600]
