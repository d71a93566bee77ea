"""Review packaging33: the build requirements and the torch lower bound in pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _bound(reqs: list[str], name: str) -> tuple[int, ...]:
    for req in reqs:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)\s*(,.*)?", req)
        if m and m[1].lower() == name:
            return tuple(int(p) for p in m[2].split("."))
    raise AssertionError(f"{name} has no '>=' lower bound in {reqs}")


# What is wrong: pyproject.toml writes `license = "MIT"` (a PEP 639 SPDX string), which
# setuptools only accepts from 77.0, but [build-system] requires only setuptools>=68. With
# setuptools 68-76 (e.g. `pip wheel --no-build-isolation` in an env that has 70.3.0 or
# 76.1.0, or a constraints file pinning it), building fails at metadata:
# "configuration error: `project.license` must be valid exactly by one definition".
# Checked by building the clean clone with setuptools 70.3.0 and 76.1.0 (both fail) and
# 77.0.3 (builds). Expected: the declared build requirement can build the project; either
# requires = ["setuptools>=77", ...] or the table form license = {text = "MIT"}.
def test_build_requirement_can_read_the_license_field():
    data = _pyproject()
    license_field = data["project"].get("license")
    if isinstance(license_field, str):  # an SPDX expression: setuptools >= 77 only
        assert _bound(data["build-system"]["requires"], "setuptools") >= (77,)


def _as_torch_2_3(monkeypatch):
    """What torch 2.3.x (allowed by `torch>=2.3`) offers: `_fused_adam_`, `_fused_adamw_` and
    `_fused_sgd_` exist with CUDA kernels only (a CPU call raises NotImplementedError "Could
    not run 'aten::_fused_adam_' with arguments from the 'CPU' backend"), `_fused_adagrad_`
    does not exist (the CPU kernels came in 2.4)."""
    import torch

    def cuda_only(name):
        def kernel(*args, **kwargs):
            raise NotImplementedError(
                f"Could not run 'aten::{name}' with arguments from the 'CPU' backend."
            )

        return kernel

    for name in ("_fused_adam_", "_fused_adamw_", "_fused_sgd_"):
        monkeypatch.setattr(torch, name, cuda_only(name))
    monkeypatch.delattr(torch, "_fused_adagrad_")
    monkeypatch.setattr(torch, "__version__", "2.3.1+cpu")
    real = torch._C._dispatch_has_kernel_for_dispatch_key

    def has_kernel(op, key):
        if "_fused_" in str(op) and "CPU" in str(key):
            return False
        return real(op, key)

    monkeypatch.setattr(torch._C, "_dispatch_has_kernel_for_dispatch_key", has_kernel)


# What is wrong: pyproject.toml declares torch>=2.3, but optim/adam.py, sgd.py and adagrad.py
# call torch's fused CPU kernels (torch._fused_adam_/_fused_sgd_/_fused_adagrad_) on CPU by
# default (fused unset = auto) with no check that this torch has them; they appeared in 2.4.
# Run for real with torch 2.3.1 (+ numpy 1.26.4) and this source tree: the demo config
# (Adam) dies at its first step with "NotImplementedError: Could not run 'aten::_fused_adam_'
# with arguments from the 'CPU' backend", SGD the same for _fused_sgd_, Adagrad with
# "AttributeError: module 'torch' has no attribute '_fused_adagrad_'" (RMSprop trains).
# This test mimics torch 2.3's surface on the installed torch. Expected: with the CPU fused
# kernels missing, auto takes the _foreach path (as it does for tensors it cannot fuse) and
# the run trains. Fix: take the fused path only where the kernel exists (e.g. torch >= 2.4,
# or torch._C._dispatch_has_kernel_for_dispatch_key(f"aten::{op}", "CPU")), else _foreach;
# or raise the floor to torch>=2.4.
def test_default_optimizers_train_on_cpu_without_torch_2_4_fused_kernels(monkeypatch, tmp_path):
    from trainlab.config import parse_config
    from trainlab.train import train

    _as_torch_2_3(monkeypatch)
    for name in ("adam", "sgd", "adagrad"):
        cfg = {
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [16]},
            "optim": {"name": name, "lr": 1e-2},
            "train": {"epochs": 1, "batch_size": 200},
            "population": {"seeds": [0, 1]},
        }
        result = train(parse_config(cfg, name), out=tmp_path / name)
        assert result.summary is not None, name
