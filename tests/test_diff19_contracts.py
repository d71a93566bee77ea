"""Review of c450b49..HEAD (diff19): CLI count options, the trainer's new _check_fits refusals."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from conftest import SMALL_YAML as SMALL
from conftest import config_file, run_cli, small_config
from trainlab.errors import UserError


@pytest.mark.parametrize(
    "args",
    [
        ("lr-find", "--steps", "²"),
        ("diagnose", "--every", "¹"),
    ],
)
def test_a_count_option_of_unicode_digits_is_one_clear_error(monkeypatch, capsys, tmp_path, args):
    # whole_number checks str.isdigit(), which is true for '²', then int('²') raises ValueError:
    # a traceback (exit 1); it must be the one-line "takes a whole number ... got '²'" (exit 2)
    small = config_file(tmp_path, SMALL)
    command, *rest = args
    code, _, err = run_cli(monkeypatch, capsys, command, small, *rest, "--out", tmp_path / "r")
    assert code == 2, (code, err[-600:])
    assert "Traceback" not in err and f"got '{rest[-1]}'" in err, err


class _EvalDetached(nn.Module):
    """Trains as any MLP; its eval-mode output is detached (nothing backpropagates in eval)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        y = self.net(x)
        return y if self.training else y.detach()


def test_a_model_detached_only_in_eval_mode_still_trains():
    # _check_fits probes the model in eval mode and refuses an output without requires_grad;
    # the trainer backpropagates only training-mode outputs, so this model (which trained at
    # c450b49) is now wrongly refused: the grad check belongs to a training-mode probe
    from trainlab.train import Trainer

    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1, "batch_size": 256})
    torch.manual_seed(0)
    trainer = Trainer(cfg, device="cpu", model=_EvalDetached())  # (refused here today)
    trainer.train_epoch()
    assert trainer.summary()["models"][0]["status"] == "ok"


class _BugInForward(nn.Module):
    """forward(x) takes one batch; its body has a TypeError of its own."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x) * len(3)


def test_a_type_error_inside_forward_is_not_blamed_on_the_call_signature():
    # _probe turns every TypeError into "the model's forward cannot be called with one batch
    # tensor ... give extra inputs defaults", also one raised by a bug inside a forward(x) that
    # binds the batch fine: the bug's own error (or a UserError naming it) must not claim a
    # signature problem that is not there
    from trainlab.train import Trainer

    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1})
    with pytest.raises((UserError, TypeError)) as info:
        Trainer(cfg, device="cpu", model=_BugInForward())
    assert "give extra inputs defaults" not in str(info.value), str(info.value)
