"""Adversarial review of ``trainlab.cli`` (a code read of its less-exercised branches): each
test states a contract the CLI promises and fails on the current code."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import config_file, run_cli

SMALL = """
name: cli
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


def test_a_config_piped_to_train_with_diagnose_is_read_once(tmp_path):
    """``trainlab train /dev/stdin`` reads a config from a pipe (``sed ... | trainlab train
    /dev/stdin``, or ``trainlab train <(sed ... base.yaml)``, whose path is a pipe too): the
    CLI supports this (test_cli_fuzz_contracts). Adding ``--diagnose`` must not change whether
    the config can be read; but ``train_cmd`` calls ``load_config`` a second time to add
    ``train.diagnose_every=50``, and a pipe is empty on the second read, so the same valid
    config that trains without ``--diagnose`` is refused as "empty" with it. The result of a
    command must not depend on a flag that only turns diagnostics on."""
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "trainlab", "train", "/dev/stdin", "--diagnose",
         "--out", str(out), "--device", "cpu", "--no-report"],
        input=SMALL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert (out / "diagnostics.jsonl").is_file()


def test_lr_find_that_refuses_its_options_leaves_no_folder_behind(monkeypatch, capsys, tmp_path):
    """A CLI user error must leave nothing behind (issue 3: "never overwrite"; the brief: no
    command leaves a partial folder after a user error). ``lr-find`` makes ``--out``'s folder
    (``_png``) before ``lr_find``/``lr_sweep`` check ``--steps``, ``--start-lr``/``--end-lr``
    and ``--epochs``, so ``trainlab lr-find CFG --steps 0 --out plots/new/lr.png`` exits 2 and
    leaves ``plots/new/`` (and any parents it made) behind, as if something had been written
    there. The checks of the options must come before any folder is made, as every other
    command does (train, diagnose, study, pretrain)."""
    cfg = config_file(tmp_path, SMALL)
    cases = [
        ("a", ["--steps", "0"]),
        ("b", ["--start-lr", "1", "--end-lr", "0.1"]),
        ("c", ["--population", "3", "--epochs", "0"]),
    ]
    for name, args in cases:
        folder = tmp_path / f"plots-{name}" / "new"
        code, _, err = run_cli(
            monkeypatch, capsys, "lr-find", cfg, *args, "--out", folder / "lr.png",
            "--device", "cpu",
        )  # fmt: skip
        assert code == 2, (args, code, err[-800:])
        assert not (tmp_path / f"plots-{name}").exists(), (
            f"lr-find {' '.join(args)} refused its options but left {folder} behind"
        )


def test_schedule_plot_that_refuses_the_config_leaves_no_folder_behind(
    monkeypatch, capsys, tmp_path
):
    """``trainlab schedule CFG --plot --out figs/new/s.png`` with a schedule the config gets
    wrong (``step`` without its ``step_size``, a ``step_size`` of 0, a data set that cannot be
    loaded) is a user error, exit 2; it must leave no folder behind. ``schedule_cmd`` calls
    ``_png`` (which makes ``--out``'s folder) before ``schedule_curves`` builds the schedule, so
    the refused command leaves ``figs/new/`` on disk."""
    cfg = config_file(tmp_path, SMALL)
    for name, sets in [
        ("a", ["--set", "schedule.name=step"]),
        ("b", ["--set", "schedule.name=step", "--set", "schedule.step_size=0"]),
        ("c", ["--set", "data.name=npz"]),
    ]:
        root = tmp_path / f"figs-{name}"
        code, _, err = run_cli(
            monkeypatch, capsys, "schedule", cfg, *sets, "--plot", "--out", root / "new" / "s.png"
        )
        assert code == 2, (sets, code, err[-800:])
        assert not root.exists(), f"schedule {' '.join(sets)} was refused but left {root} behind"


def test_the_fix_a_backwards_seed_range_suggests_is_accepted(monkeypatch, capsys, tmp_path):
    """A backwards ``--seeds`` range is refused with the fix "write the range low-high:
    'HI-LO'". For ``--seeds 0--1`` (seeds are any 64-bit integers in a config, negative ones
    included) the suggested fix is ``'-1-0'``, which ``parse_seeds`` itself refuses as "not
    understood": the user follows the error's advice and gets another error. A suggested fix
    must be one the command accepts (or the message must not suggest it)."""
    cfg = config_file(tmp_path, SMALL)
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg, "--seeds", "0--1")
    assert code == 2, err
    m = re.search(r"write the range low-high: '([^']+)'", err)
    if m is None:  # no range suggested: nothing to follow
        return
    suggested = m.group(1)
    code, _, err2 = run_cli(
        monkeypatch, capsys, "train", cfg, "--seeds", suggested, "--out", tmp_path / "r",
        "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert "not understood" not in err2, (
        f"the error for '--seeds 0--1' suggests '{suggested}', which is refused: {err2.strip()}"
    )
