"""diff34l review: the Python API checks of ddd83dd (hist_range, start_step, lr_find's numbers,
create_schedule's step counts, RunDir.require on a file)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import trainlab
from trainlab.diagnostics import watch
from trainlab.errors import UserError


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


# diagnostics/watch.py, _edges: the new check takes hist_range only as a
# collections.abc.Sequence, so a numpy array (np.percentile(x, [1, 99]), the natural way to
# pick a range) or a 1-D tensor is refused with "hist_range must be two numbers (low, high),
# got array([-1.,  1.])" -- a false message: it is two numbers. Before ddd83dd both worked
# (`lo, hi = (float(v) for v in hist_range)`). The histogram edges must be the same as for the
# tuple (-1.0, 1.0).
@pytest.mark.parametrize(
    "hist_range",
    [np.array([-1.0, 1.0]), torch.tensor([-1.0, 1.0]), (torch.tensor(-1.0), torch.tensor(1.0))],
    ids=["ndarray", "tensor", "tuple-of-0d-tensors"],
)
def test_watch_takes_a_numpy_or_tensor_hist_range(hist_range):
    def edges(hr):
        m = _mlp()
        with watch(m, hist_range=hr, bins=4) as w:
            m(torch.randn(3, 4)).sum().backward()
        return w.records()[0]["hist_edges"]

    assert edges(hist_range) == edges((-1.0, 1.0))


# optim/lr_find.py: the new type check refuses anything not numbers.Real, so a 0-d torch tensor
# (start_lr=torch.tensor(1e-3), e.g. taken from an optimizer's param_groups or a schedule's
# curve) is refused with "lr_find needs start_lr to be a number, got tensor(0.0010)" -- a
# tensor holding one number is a number, and it worked before ddd83dd. The same for end_lr,
# beta, diverge. Expected: the range test runs and its lrs start at 1e-3 and end at 0.3 (the
# fix: accept one-element real tensors and convert every value with float()).
@pytest.mark.parametrize("key", ["start_lr", "end_lr", "beta"])
def test_lr_find_takes_0d_tensor_numbers(key):
    from trainlab.config import parse_config
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    y = torch.arange(64) % 2
    x = torch.randn(64, 4, generator=g) * 0.5 + (y[:, None] * 2 - 1)
    ds = Dataset("blobs", x, y, x[:16], y[:16], x[:16], y[:16], (4,), 2)
    cfg = parse_config(
        {
            "optim": {"name": "sgd", "lr": 1e-3},
            "model": {"name": "mlp", "hidden": [8]},
            "train": {"epochs": 1, "batch_size": 32},
            "population": {"seeds": [0]},
        }
    )
    kw = {"start_lr": 1e-3, "end_lr": 0.3, "beta": 0.9}
    kw[key] = torch.tensor(kw[key], dtype=torch.float64)
    res = trainlab.optim.lr_find(cfg, num_steps=5, device="cpu", dataset=ds, **kw)
    assert float(res.lrs[0]) == pytest.approx(1e-3) and float(res.lrs[-1]) == pytest.approx(0.3)


# optim/schedules.py, create_schedule, and diagnostics/watch.py, Watch.__init__: a 0-d integer
# tensor step count (total_steps=torch.tensor(100), start_step=torch.tensor(3), as a loop that
# counts steps on the device has them) is refused with "must be whole numbers ≥ 1 ... got
# tensor(100)" / "must be a whole number >= 0 ... got tensor(3)": false, it is a whole number,
# and both worked before ddd83dd. Expected: the same schedule as with the Python int, and the
# watch starting at step 3 (watch.step is start_step - 1 before the first step).
def test_integer_tensor_step_counts_are_whole_numbers():
    want = trainlab.optim.create_schedule("cosine", 0.1, total_steps=100, steps_per_epoch=10)
    got = trainlab.optim.create_schedule(
        "cosine", 0.1, total_steps=torch.tensor(100), steps_per_epoch=torch.tensor(10)
    )
    assert torch.equal(got.curve(100), want.curve(100))
    w = watch(_mlp(), start_step=torch.tensor(3))
    assert w.step == 2


# runs.py, RunDir.require: given a file, the new message says "pass its folder (PARENT)". For
# the file a user most likely passes to resume -- the checkpoint, RUN/checkpoints/last.pt --
# that folder is RUN/checkpoints, which is not a run directory either (resume then says "not a
# run directory: RUN/checkpoints (no config.yaml)"): the message's fix is wrong. Expected: the
# message names the run's folder (the nearest folder above the file with a config.yaml), and
# not checkpoints/.
@pytest.mark.parametrize("call", ["resume", "load_run"])
def test_resume_given_the_checkpoint_file_names_the_run_folder(tmp_path, call):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("name: x\n")
    (run / "population.json").write_text("{}")
    ckpt = run / "checkpoints" / "last.pt"
    ckpt.write_bytes(b"\0")
    with pytest.raises(UserError) as err:
        getattr(trainlab, call)(ckpt)
    text = str(err.value)
    assert f"({run})" in text, text
    assert f"({run / 'checkpoints'})" not in text, text


def test_sanity_the_checks_still_refuse_what_they_should():
    # (not a finding: a fix must keep refusing these)
    with pytest.raises(UserError):
        watch(_mlp(), hist_range=np.array([-1.0, 0.0, 1.0]))
    with pytest.raises(UserError):
        trainlab.optim.create_schedule("cosine", 0.1, total_steps=12.5, steps_per_epoch=1)
    with pytest.raises(UserError):
        watch(_mlp(), start_step=-1)
