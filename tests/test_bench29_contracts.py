"""Review findings (bench29) on the benchmark scripts in benchmarks/."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# benchmarks/gpu_checks.sh picks its steps with `[[ $steps == *" name "* ]]` and never checks
# the names it was given: a typo (`tests` -> `test`, `profile` -> `profil`) runs no step at all
# and the script exits 0, after installing the wheels and querying the GPU, so a device call
# (minutes of a 15-minute budget) passes as a success with nothing measured. A bad step name
# must be refused with one line naming it and a non-zero exit, before anything runs (as the
# Python benchmarks refuse bad arguments with argparse's one-line error, exit 2). The stubs
# below stand in for the device image's python3 and nvidia-smi and log what the script runs.
@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                    reason="needs bash and coreutils timeout")  # fmt: skip
def test_gpu_checks_refuses_unknown_step_names(tmp_path: Path) -> None:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    for name in ("python3", "nvidia-smi"):
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 0\n')
        stub.chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}", OUT=str(tmp_path / "out"))
    done = subprocess.run(
        ["bash", "benchmarks/gpu_checks.sh", "test", "profil"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode != 0, f"unknown step names accepted, exit 0, ran nothing:\n{said}"
    assert "profil" in said or "test" in said  # the message names the bad step
