"""A newcomer's read of today's README/docs changes against the code and the stored results."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
GPU_CHECKS = (ROOT / "benchmarks" / "gpu_checks.sh").read_text()


def _header_steps() -> list[str]:
    """The step names the header comment lists, in its order."""
    header = GPU_CHECKS.split("set -uo pipefail")[0]
    return re.findall(r"^#   (\w+): ", header, re.M)


def _script_steps() -> dict[str, int]:
    """Each `if [[ $steps == *" NAME "* ]]` block's NAME -> its `step` time limit, in run order."""
    blocks = re.findall(r'\*" (\w+) "\*.*?\n\s+step \S+ (\d+) ', GPU_CHECKS, re.S)
    return {name: int(limit) for name, limit in blocks}


def test_gpu_checks_header_lists_the_steps_in_the_order_they_run():
    # wrong: the header says "Steps, in order" but lists trainlab 3rd, which runs 6th (after
    # triton, optim, gather); right: the header's list is the script's run order
    assert _header_steps() == list(_script_steps()), (_header_steps(), list(_script_steps()))


def test_gpu_checks_header_total_limit_is_the_sum_of_the_steps_it_lists():
    # wrong: "750 s of limits in all" is only the default five steps; the nine listed steps'
    # limits add up to 1250 s; right: the quoted total is the sum over the listed steps
    quoted = int(re.search(r"\((\d+) s of limits in all", GPU_CHECKS).group(1))
    limits = _script_steps()
    assert set(_header_steps()) == set(limits)
    assert quoted == sum(limits.values()), f"header {quoted} s, steps {sum(limits.values())} s"


def test_architecture_matmul_time_matches_the_k1000_profile():
    # wrong: docs/ARCHITECTURE.md says "the matrix products 3.65 ms"; the profile it cites
    # (profile_gpu_k1000.json: 8 GEMMs) sums to 3.68 ms, as README says; right: 3.68
    prof = json.loads((RESULTS / "profile_gpu_k1000.json").read_text())
    ms = sum(r["ms_per_step"] for r in prof["rows"] if "gemm" in r["name"])
    arch = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    quoted = float(re.search(r"the matrix products (\d+\.\d+) ms", arch).group(1))
    assert quoted == round(ms, 2), f"ARCHITECTURE {quoted} ms, profile {ms:.3f} ms"
