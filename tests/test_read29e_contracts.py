"""Review read29e: trainlab.init and the per-model init of a population."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from trainlab.config import parse_config
from trainlab.train import Trainer


class _ScaledLinear(nn.Linear):
    """A Linear with an extra per-unit scale (a common hand-written layer): it inherits
    nn.Linear.reset_parameters, which resets weight and bias only, never ``scale``."""

    def __init__(self, i: int, o: int) -> None:
        super().__init__(i, o)
        self.scale = nn.Parameter(torch.rand(o))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.scale


# Trainer._init_members (src/trainlab/train.py) counts a skipped parameter as "drawn per model by
# PyTorch's default init (their modules' reset_parameters)" whenever its module has *some*
# reset_parameters, without checking that the call changes it. nn.Linear.reset_parameters never
# touches a subclass's extra parameter, so ``1.scale`` stays the given module's value in every
# model (seeds 0 and 1 start with the same scale) while the warning tells the user each model got
# its own draw. Expected: a parameter the warning says is drawn per model differs between seeds;
# one that is not redrawn is named in the "kept as the module given has them, the same in every
# model (initialize them yourself)" part.
def test_warning_does_not_claim_a_parameter_reset_parameters_leaves_alone_is_drawn_per_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), _ScaledLinear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    cfg = parse_config(
        {
            "name": "r",
            "init": {"scheme": "he_normal"},
            "train": {"epochs": 1, "batch_size": 64},
            "population": {"seeds": [0, 1]},
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = Trainer(cfg, device="cpu", model=net)
    text = " ".join(str(w.message) for w in caught if str(w.message).startswith("init:"))
    s0, s1 = trainer.pop.member_state(0), trainer.pop.member_state(1)
    same = torch.equal(s0["1.scale"], s1["1.scale"])
    assert same  # (what the code does, and what nn.Linear.reset_parameters implies)
    drawn_part = text.split("drawn per model")[0] if "drawn per model" in text else ""
    assert "1.scale" not in drawn_part, text
    assert "1.scale" in text and "kept" in text, text
