"""Review data35: trainlab.data splits, preprocessing, synthetic sets, data options."""

from __future__ import annotations

import pytest

from trainlab.config import parse_config
from trainlab.train import load_dataset


# data.seed (the train/val/test split's seed) must be an integer >= 0, but DataConfig declares
# it as a plain `int`, so `data: {seed: -1}` passes config validation and only fails later in
# trainlab.data.load with "seed must be an integer >= 0, got -1": the message names no key,
# while its sibling keys are checked up front with their path ("config: data.val_fraction:
# Input should be greater than or equal to 0"), and a negative population seed
# (population.seeds: [-1]) is accepted, so the user cannot tell which "seed" is meant.
# Expected: the error (from parse_config, or at the latest from loading the data) names
# `data.seed`, like every other data key's.
def test_negative_data_seed_error_names_data_seed() -> None:
    with pytest.raises(Exception) as err:
        load_dataset(parse_config({"data": {"seed": -1}}))
    assert "data.seed" in str(err.value)
