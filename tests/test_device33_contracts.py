"""device33 review: global state a notebook user keeps after trainlab calls."""

from __future__ import annotations

import subprocess
import sys
import textwrap


# The first trainlab.train() in a process advances Python's global `random` generator: train()
# imports rich lazily, and rich/style.py runs `count(getrandbits(24))` at import time, drawing
# from the user's seeded `random` stream. A user who does `random.seed(0); trainlab.train(cfg);
# random.random()` gets a different number in a fresh kernel than on a re-run of the cell, so
# the rest of their script is not reproducible. trainlab must leave the caller's global RNGs
# as it found them (torch's and numpy's already are): the number after train() must be the
# one random.seed(0) gives with nothing in between. Runs in a fresh interpreter, where rich is
# not yet imported (the pytest process imported it long ago).
def test_first_train_in_a_process_leaves_pythons_random_state_alone():
    code = textwrap.dedent(
        """
        import random, sys
        from trainlab.config import parse_config
        from trainlab.train import train
        cfg = parse_config({"name": "t", "model": {"name": "mlp", "hidden": [4]},
                             "train": {"epochs": 1, "batch_size": 256},
                             "population": {"seeds": [0]}})
        random.seed(0)
        expected = random.Random(0).random()
        train(cfg, device="cpu", progress=False, write=False)
        print(random.random() == expected)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "True", out.stdout + out.stderr
