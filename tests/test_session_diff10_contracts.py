"""Adversarial review of commit faf9178 (the SGD fused 16-bit refusal moved to the start of
``step``, ``Dataset.checked``'s 0-d check, ``--seeds``' new range regex): holes left in those
changes. Every test here fails on the code it was written against, for the reason its
docstring gives."""

from __future__ import annotations

import pytest
import torch

from conftest import config_file, run_cli
from trainlab.cli.app import parse_seeds
from trainlab.data import Dataset
from trainlab.errors import ConfigError, UserError
from trainlab.optim.sgd import SGD, fused_sgd_handles_16bit

SMALL = """
name: cli
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


# -- SGD: a fused 16-bit group refused before any group steps -----------------------------------


@pytest.mark.skipif(fused_sgd_handles_16bit(), reason="this torch's fused kernel handles 16-bit")
def test_fused_16bit_group_refused_before_any_group_steps_with_a_closure():
    """faf9178 promises "a fused 16-bit SGD group is refused before any group steps": a
    ``ConfigError`` must leave every parameter as it was, so that the user can fix the config
    and go on from the same weights. The check at the start of ``step``
    (``_refuse_at_step``) only looks at parameters whose ``.grad`` is set, and it runs before
    the closure. With the standard ``optimizer.step(closure)`` pattern (the closure zeroes the
    gradients to None and calls ``backward()``, as LBFGS-style loops and many training scripts
    do), no gradient exists yet when the check runs, so it passes; the closure then makes the
    gradients, the float32 group steps, and only the bfloat16 ``fused=True`` group raises: the
    error comes after the first group's weights were already changed."""
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(2, 3))
    b = torch.nn.Parameter(torch.randn(2, 3, dtype=torch.bfloat16))
    opt = SGD([{"params": [a]}, {"params": [b]}], lr=0.1, fused=True)
    a0, b0 = a.detach().clone(), b.detach().clone()

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = a.square().sum() + b.float().square().sum()
        loss.backward()
        return loss

    with pytest.raises(ConfigError, match="fused"):
        opt.step(closure)
    assert torch.equal(b, b0)
    assert torch.equal(a, a0), (
        "the float32 group stepped before the bfloat16 fused=True group was refused"
    )


# -- --seeds: the new range regex ---------------------------------------------------------------


def test_seed_range_with_very_long_numbers_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    """A mistyped ``--seeds`` is a user error: one line naming ``--seeds``, exit code 2, no
    traceback (the CLI's rule for user errors). Before faf9178 both ends of a range went
    through ``_seed_int``, which turns any ``ValueError`` of ``int()`` into that one line. The
    new regex path calls ``int()`` directly, and Python 3.11+ ``int()`` raises ``ValueError``
    for a string of more than 4300 digits (a pasted hash, a held-down key): ``--seeds
    '1,999…9-999…9'`` now prints a ``ValueError`` traceback and exits 1, while the same long
    number alone in a list (``'1,999…9'``) or as a count is still refused in one line."""
    cfg = config_file(tmp_path, SMALL)
    big = "9" * 5000
    code, out, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--seeds", f"1,{big}-{big}", "--out", tmp_path / "r",
        "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert "Traceback" not in err + out, err[-800:]
    assert code == 2, (code, err[-800:])
    assert "--seeds" in err
    assert not (tmp_path / "r").exists()


def test_a_lone_negative_number_follows_the_lone_number_rule():
    """``parse_seeds``' docstring: "a lone number is a count; inside a list it is a seed", and
    a count below 1 is refused ("a count needs at least 1 model (seed 0 alone: '0-0')"). Before
    faf9178, ``--seeds -0`` and ``--seeds -5`` were refused; the new regex path reads them as
    one seed each (``[0]``, ``[-5]``), so ``--seeds 0`` is refused while ``--seeds -0`` (the
    same number) trains seed 0, and ``--seeds 5`` trains five models while ``--seeds -5``
    silently trains one. A lone number must mean the same thing whatever its sign: a count
    (refused below 1), as documented."""
    with pytest.raises(UserError):
        parse_seeds("0")
    for text in ("-0", "-5"):
        try:
            got = parse_seeds(text)
        except UserError:
            continue
        pytest.fail(f"--seeds {text} (a lone number: a count below 1) was read as seeds {got}")


# -- Dataset.checked: the new 0-d / 1-D check ---------------------------------------------------


def test_an_empty_validation_split_of_any_shape_is_still_no_split():
    """Commit 265b168 made ``Dataset.checked`` accept "empty splits of any shape" (its
    comment: "no split: any empty tensors"): an empty validation split is replaced by
    ``(0, *input_shape)`` inputs and ``(0,)`` int64 labels. faf9178 puts a new check before
    that branch (``x.ndim == 0 or y.ndim != 1``), so a dataset whose validation split is one
    empty tensor used for both inputs and labels, ``empty = torch.empty(0, 4)`` (the shape
    of an input batch), is now refused with "needs ... 1-D labels (N,)", though no sample is
    there to label and the same dataset was accepted before."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 4, generator=g)
    y = torch.arange(30) % 3
    empty = torch.empty(0, 4)
    ds = Dataset("mine", x, y, empty, empty, x[:6], y[:6], (4,), 3)
    checked = ds.checked()
    assert tuple(checked.x_val.shape) == (0, 4)
    assert tuple(checked.y_val.shape) == (0,) and checked.y_val.dtype == torch.int64
