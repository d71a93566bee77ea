"""Review (convnet20): the built-in convnet/resnet trained as populations.

What held up (not tested here): alone == inside a population (stacked, vmap and loop modes;
float32 ~1e-7, float64 ~1e-12) with per-model lr, weight decay, init scheme/scale and dropout
0 vs >0; per-model batch-norm running statistics, val/test metrics from running stats;
init schemes on conv layers equal torch.nn.init with the right fans; tiny inputs (4x4, length
5, 1x1) build and train; bad options are one line (exit 2 in the CLI); resume after SIGKILL
mid-epoch is bitwise on the CPU for convnet and resnet (mnist1d and 32x32x3 .npz).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.models import create
from trainlab.train import train


@pytest.mark.parametrize("name", ["convnet", "resnet"])
def test_square_input_warning_of_create_points_at_the_callers_line(name):
    # conv_dims warns with a fixed stacklevel=3, right only for ConvNet(...) called directly:
    # through create() it blames trainlab/models/__init__.py:97; it must name the caller's line
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create(name, input_shape=(28, 28), num_classes=10)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert Path(caught[0].filename).resolve() == Path(__file__).resolve(), (
        caught[0].filename,
        caught[0].lineno,
    )


def test_square_input_warning_of_train_points_at_the_callers_line():
    # train() on (N, 28, 28) data warns from trainlab/models/__init__.py:97 instead of the
    # user's train(...) line (as the trainer's other warnings do, via _caller_stacklevel)
    x = torch.randn(60, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.arange(60) % 3
    ds = Dataset(
        name="square", x_train=x[:40], y_train=y[:40], x_val=x[40:50], y_val=y[40:50],
        x_test=x[50:], y_test=y[50:], input_shape=(28, 28), num_classes=3,
    )  # fmt: skip
    cfg = parse_config({"model": {"name": "convnet", "channels": [2]}, "train": {"epochs": 1}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(cfg, dataset=ds, write=False, progress=False, device="cpu")
    square = [w for w in caught if "taken as 1-D data" in str(w.message)]
    assert len(square) == 1, [str(w.message) for w in caught]
    assert Path(square[0].filename).resolve() == Path(__file__).resolve(), (
        square[0].filename,
        square[0].lineno,
    )
