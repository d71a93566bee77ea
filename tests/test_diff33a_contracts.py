"""Review diff33a: today's changes (89feecd..HEAD)."""

from __future__ import annotations

import math
import warnings

import torch
import yaml
from torch import nn

from trainlab import init
from trainlab.pretrain.run import run_pretrain


# pretrain/run.py (548312a): _sets_reach_a_model now refuses a train.KEY the config gives when
# the grid sets KEY, and run_pretrain calls it AFTER merging the command line's --grid. So a
# --grid axis over any config that gives that train key is refused with "train.learning_rate
# changes no model ... remove train.learning_rate (or the grid axis)". Every rbm run's own
# config.yaml records train.learning_rate (the resolved value), so `trainlab pretrain
# runs/X/config.yaml --grid learning_rate=0.01,0.06` -- re-running a run as a sweep -- now
# fails; before 548312a it ran (the --grid axis set each model's lr). The commit also stopped
# config.yaml from recording a grid key under train, so nothing needs refusing here: a --grid
# given on the command line replaces the config's value for that key, as --set replaces one.
# Expected: the sweep runs, each model trains with its grid lr, config.yaml has no
# train.learning_rate and the grid as given.
def test_cli_grid_sweeps_a_config_that_gives_the_key(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: c\n"
        "data: {name: digits}\n"
        "model: {kind: rbm, n_components: 4}\n"
        "train: {learning_rate: 0.06, n_iter: 1}\n"  # as a run's config.yaml records it
    )
    out = run_pretrain(
        cfg, out=tmp_path / "run", device="cpu", grid={"learning_rate": [0.01, 0.06]}
    )
    written = yaml.safe_load((out / "config.yaml").read_text())
    assert written["grid"] == {"learning_rate": [0.01, 0.06]}
    assert "learning_rate" not in written["train"]


# init.py (7fec4d3): _as_left warns "rescaling later layers moved the output variance of '2'
# off 1 again (a weight they share with a later layer: tied embeddings?)" for a plain,
# untied MLP when layers= is given in another order than the forward calls them
# (layers=[m[2], m[0]]): rescaling m[0] after m[2] changes m[2]'s input, nothing is shared.
# The docstring says LSUV goes "for each Linear/Conv layer in the order the forward pass calls
# it". Expected: either the layers are taken in forward order (both end within tol, no
# warning), or at least the warning does not blame a shared weight the model does not have.
def test_lsuv_layers_out_of_forward_order_is_not_blamed_on_tied_weights():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(1)) * 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = init.lsuv_(m, x, layers=[m[2], m[0]])
    texts = [str(w.message) for w in caught]
    in_forward_order = all(math.isfinite(v) and abs(v - 1.0) < 0.1 for v in got)
    assert in_forward_order or not any("share" in t or "tied" in t for t in texts), texts
