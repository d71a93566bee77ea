"""diff34i's review of the session's config/train/data changes (d7ebe4b..HEAD)."""

from __future__ import annotations

import os
import types
import warnings
from pathlib import Path

import numpy as np
import torch
import yaml

import trainlab
import trainlab.train as train_mod
from trainlab.data import load


def _npz_run_config(tmp_path: Path) -> dict:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 200)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:50], y_test=y[:50])
    return {
        "name": "npz-old",
        "data": {"name": "npz", "options": {"path": str(path), "scale": 1 / 255}},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 1, "batch_size": 50},
        "population": {"seeds": [0]},
    }


# 8cd5352 changed how npz scales narrow inputs (uint8 * 1/255 is now each product in float64,
# rounded once, instead of float32(x) * float32(s)), and f4b36aa preprocesses uint8/int8/int16
# inputs in float64. population.json's data_fingerprint hashes the data *as loaded*, so every
# .npz run started before today with `scale` != 1 (or with preprocessing of narrow integer
# inputs) now fails `trainlab resume` with "the data of ... changed since it trained ...;
# restore the data it trained on" although the file is untouched (checked end to end: a run
# trained by d7ebe4b's code, epochs raised, resumed by HEAD -> refused; d7ebe4b resumes it).
# The user cannot follow the advice. Here the old version's record is reproduced exactly:
# the uint8 values times float32(1/255) in float32, as d7ebe4b's _npz computed them. Expected:
# an untouched data file resumes (e.g. the fingerprint also accepted in the previous scaling,
# or recorded on the file's arrays before scaling/preprocessing).
def test_npz_run_started_before_the_scaling_change_still_resumes(
    tmp_path: Path, monkeypatch
) -> None:
    cfg = _npz_run_config(tmp_path)
    real = train_mod._dataset_record

    def old_record(ds):  # d7ebe4b's values: float32(u) * float32(1/255)
        def old(t: torch.Tensor) -> torch.Tensor:
            u = torch.round(t.double() * 255).to(torch.uint8).numpy()
            return torch.from_numpy(u.astype(np.float32) * np.float32(1 / 255))

        fake = types.SimpleNamespace(
            name=ds.name, input_shape=ds.input_shape, num_classes=ds.num_classes,
            **{f"x_{s}": old(getattr(ds, f"x_{s}")) for s in ("train", "val", "test")},
            **{f"y_{s}": getattr(ds, f"y_{s}") for s in ("train", "val", "test")},
        )  # fmt: skip
        return real(fake)

    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with monkeypatch.context() as m:
            m.setattr(train_mod, "_dataset_record", old_record)
            trainlab.train(cfg, out=out, device="cpu", progress=False)
        conf = yaml.safe_load((out / "config.yaml").read_text())
        conf["train"]["epochs"] = 2  # train the finished run longer (an allowed edit)
        (out / "config.yaml").write_text(yaml.safe_dump(conf, sort_keys=False))
        trainlab.resume(out, device="cpu", progress=False)  # UserError: data changed


# datasets._physical_memory takes os.sysconf's numbers as they are. POSIX sysconf returns -1
# (errno untouched) for a value the system does not determine, and Python's os.sysconf hands
# that -1 back without raising; total memory is then page_size * -1 < 0 and
# _refuse_beyond_memory refuses every generated data set ("spirals: n_samples=200 needs about
# 0 GiB of memory, more than this machine's -0 GiB"). The docstring promises None "where the
# platform does not say" (no refusal). Expected: a non-positive answer counts as unknown.
def test_memory_check_ignores_an_indeterminate_sysconf(monkeypatch) -> None:
    real = os.sysconf
    monkeypatch.setattr(os, "sysconf", lambda n: -1 if n == "SC_PHYS_PAGES" else real(n))
    ds = load("spirals", n_samples=200)
    assert ds.x_train.shape[0] + ds.x_val.shape[0] + ds.x_test.shape[0] == 200
