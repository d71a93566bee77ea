"""Review (scale21): large populations on the CPU (K = 100-1000 seeds)."""

from __future__ import annotations

from conftest import config_file, run_cli

TINY = """\
name: oom
data: {name: digits}
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0, 1]}
"""


def test_out_of_memory_in_the_first_step_says_what_became_of_the_run_dir(
    monkeypatch, capsys, tmp_path
):
    # Wrong: a K=1000 `trainlab train` that runs out of memory in its first step (seen for real
    # with `ulimit -v 2500000`, hidden [256, 256], --seeds 0-999) prints only "out of memory ...;
    # train fewer or smaller models" and silently leaves --out behind (config.yaml,
    # population.json, an empty checkpoints/), so following the hint with the same --out is
    # refused ("already exists"). Right: remove the checkpoint-less run dir, or name it in the
    # error (as Ctrl-C and a full disk do: "continue the run with `trainlab resume DIR`").
    from trainlab.train import Trainer

    def oom(self, idx):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 262144000 bytes. Error code 12"
        )

    monkeypatch.setattr(Trainer, "step_on", oom)
    cfg = config_file(tmp_path, TINY)
    run = tmp_path / "bigrun"
    args = ["train", cfg, "--out", run, "--no-report", "--device", "cpu"]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and "out of memory" in err and "Traceback" not in err, err[-800:]
    assert not run.exists() or run.name in err, (
        f"the run dir {run.name} was left behind unmentioned: {err.strip()}"
    )
