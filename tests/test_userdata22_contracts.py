"""Review (userdata22): a user training on their own data (npz, IDX, CIFAR, arrays from Python).

Each test fails on the code as reviewed and passes once the defect it names is fixed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from conftest import assert_npz_train_refused, assert_user_error, run_cli
from trainlab.errors import UserError


def _cli(monkeypatch, capsys, *args):
    """``trainlab ARGS`` as the shell runs it: (exit code, stderr); an exception escaping
    ``main()`` fails the test with its traceback."""
    code, _, err = run_cli(monkeypatch, capsys, *args)
    return code, err


def _npz(path, **arrays):
    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype(np.float32)
    y = np.arange(40) % 2
    base = {"x_train": x, "y_train": y, "x_test": x[:10].copy(), "y_test": y[:10].copy()}
    base.update(arrays)
    np.savez(path, **base)
    return path


# Labels {0, 1, 2**62} are refused by the "half of 0..max" rule with the advice "or pass
# num_classes=4611686018427387905 to keep them". Following that advice (data.options.num_classes)
# makes the CLI die with a raw torch traceback (RuntimeError: Storage size calculation
# overflowed, exit 1) while building the output layer. A num_classes no model can have is a
# user error: one line, exit 2, no traceback (issue 3 item 8); the advice should not be given
# for such a count either. Fix: bound num_classes in datasets._num_classes_option (e.g. < 2**31,
# or what an output layer can hold) and offer "pass num_classes" only for a plausible count.
def test_a_num_classes_no_layer_can_hold_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    path = _npz(
        tmp_path / "big.npz",
        y_train=np.array([0, 1] * 19 + [0, 2**62]),
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: r\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 1, batch_size: 16}\n"
        f"population: {{seeds: [0]}}\ndata: {{name: npz, options: {{path: '{path}', "
        f"num_classes: {2**62 + 1}}}}}\n"
    )
    out = tmp_path / "run"
    code, err = _cli(monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu")
    assert_user_error(code, err, "num_classes")


# Bad *content* in an .npz (NaN inputs, string labels, negative labels) is reported as
# "npz: train inputs contain NaN ..." / "npz: train labels must be integer ...": the message
# names neither the file nor the array (x_train / y_train), unlike every structural npz error
# ("<path>: x_train has shape ..."), and unlike the project's own standard for a refused npz
# (conftest.assert_npz_train_refused: one line naming the file). With several data files (a
# sweep, IDX folders) the user cannot tell which one is bad. Fix: have check_arrays name the
# source (RawData.source / the path) and the array key in these messages.
@pytest.mark.parametrize(
    "arrays",
    [
        {"x_train": np.where(np.eye(40, 6, dtype=bool), np.nan, 0.5).astype(np.float32)},
        {"y_train": np.array(["cat", "dog"] * 20)},
        {"y_train": np.array([-1, 1] * 20), "y_test": np.array([-1, 1] * 5)},
    ],
    ids=["nan-inputs", "string-labels", "negative-labels"],
)
def test_bad_npz_content_names_the_file(monkeypatch, capsys, tmp_path, arrays):
    path = _npz(tmp_path / "mydata.npz", **arrays)
    assert_npz_train_refused(monkeypatch, capsys, tmp_path, path)


# Every built-in data set's description (`trainlab datasets`, list_datasets()) names its own
# options (blobs: n_samples=..., mnist1d: data_seed=..., cifar100: label_mode=...), except the
# readers of a user's own files: npz does not mention `num_classes` or `scale`, mnist not
# `num_classes`, and neither the README. So a user with uint8 images in an .npz (keras'
# mnist.npz: (N, 28, 28) uint8) cannot find out that they are NOT scaled to [0, 1] (the mnist
# and cifar readers scale uint8 by 1/255) and that scale=1/255 does it. Fix: list the options
# (and "values as stored; scale=1/255 for uint8 pixels") in the descriptions and the README.
@pytest.mark.parametrize("name", ["npz", "mnist"])
def test_user_data_readers_list_their_options(name):
    from trainlab.data import dataset_options, list_datasets

    desc = dict(list_datasets())[name]
    missing = [k for k in dataset_options(name) if k not in desc]
    assert not missing, f"{name}: options {missing} are not in its description: {desc!r}"


# 1-D signals saved channels-last, (N, L, 1) (Keras' Conv1D layout), give input_shape (L, 1):
# convnet takes it as L channels of length 1, silently drops its pooling stages (ConvNet with
# one Conv1d(40, 32) and a Linear: no convolution along the signal at all) and trains. The 4-D
# channels-last case (N, H, W, C) is refused with the transpose, and the square (28, 28) case
# warns; a length-1 "signal" with many channels deserves the same (warning or error naming
# x.transpose(0, 2, 1)). Fix: in models.convnet.conv_dims (and/or readers.refuse_channels_last)
# treat (C, 1) with C > 1 like the square case.
@pytest.mark.parametrize("model", ["convnet", "resnet"])
def test_channels_last_1d_signals_are_not_silently_length_one(model):
    from trainlab import models

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            models.create(model, input_shape=(40, 1), num_classes=3)
        except UserError as err:
            assert "(40, 1)" in str(err) or "transpose" in str(err), str(err)
            return
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("channel" in m for m in msgs), msgs


# arrays_dataset is the documented way to train on arrays/tensors from Python (README). It turns
# every input into float32 anyway, but a bfloat16 tensor (features kept under autocast) dies in
# check_arrays' np.asarray with numpy's "TypeError: Got unsupported ScalarType BFloat16", a
# message that names neither the argument nor the fix. float16 tensors work. Fix: convert
# tensors with .float() (or .detach().cpu()) before np.asarray, or raise a UserError saying so.
def test_arrays_dataset_takes_bfloat16_tensors():
    from trainlab.pretrain import arrays_dataset

    rng = np.random.default_rng(0)
    x = torch.tensor(rng.random((40, 6)), dtype=torch.bfloat16)
    y = torch.arange(40) % 2
    ds = arrays_dataset(x, y, None, None, val_fraction=0.1)
    assert ds.x_train.dtype == torch.float32
    assert torch.equal(ds.x_train, x[:36].float())
