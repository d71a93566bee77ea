"""Adversarial review: unusual but legal paths and names, ``--set`` values that YAML would
reinterpret, resolved configs that must load back, and runs resumed after their folders (or
the working folder) moved. Every test here fails on the code it was written against."""

from __future__ import annotations

import html
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import Killed, kill_after_checkpoint, run_cli

TINY = "name: t\nmodel: {name: mlp, hidden: [4]}\ntrain: {epochs: 2, batch_size: 256}\n"
TINY_NPZ = "name: t\nmodel: {name: mlp, hidden: [4]}\ntrain: {epochs: 3, batch_size: 16}\n"


def _write_npz(path: Path, seed: int = 0) -> Path:
    """A small valid ``.npz`` data set (x_train, y_train, x_test, y_test; 3 classes)."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:  # (np.savez would append .npz to a name without it)
        np.savez(
            f,
            x_train=rng.random((60, 4)).astype(np.float32),
            y_train=np.arange(60) % 3,
            x_test=rng.random((21, 4)).astype(np.float32),
            y_test=np.arange(21) % 3,
        )
    return path


def _killed_npz_run(monkeypatch, capsys, cwd: Path, cfg: str, data: str, out: str) -> None:
    """``trainlab train CFG`` on the .npz file ``data`` into ``out``, run from ``cwd`` and
    killed after its first checkpoint; the working folder and save_checkpoint restored after."""
    monkeypatch.chdir(cwd)
    kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        run_cli(
            monkeypatch, capsys, "train", cfg, "--set", "data.name=npz",
            "--set", f"data.options.path={data}", "--out", out, "--device", "cpu",
            "--no-report",
        )  # fmt: skip
    monkeypatch.undo()


def _ok(code, err):
    assert "Traceback" not in err, err[-1500:]
    assert code in (0, None), (code, err[-1500:])


# -- --set values that YAML reads as something else ---------------------------------------------


def test_set_name_with_a_hash_is_not_silently_truncated(monkeypatch, capsys, tmp_path):
    """``--set name=VALUE`` must name the run VALUE. A shell argument is not a YAML document, yet
    ``apply_sets`` parses it as one, and YAML drops everything after `` #`` as a comment:
    ``--set "name=lr sweep #2"`` silently names the run ``lr sweep`` (its folder becomes
    ``runs/lr sweep``, colliding with or renumbering against another run), and the resolved
    config records the wrong name. Nothing tells the user their value was cut."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "name=lr sweep #2",
        "--out", out, "--device", "cpu", "--no-report",
    )  # fmt: skip
    _ok(code, err)
    from trainlab.config import load_config

    assert load_config(out / "config.yaml").name == "lr sweep #2"


def test_set_data_path_with_a_hash_is_not_silently_truncated(monkeypatch, capsys, tmp_path):
    """``--set "data.options.path=my data #1.npz"`` names an existing file; the user meant that
    file. ``apply_sets`` parses the value as YAML, which drops `` #1.npz`` as a comment, so
    training fails with "file not found: .../my data" — a path the user never typed."""
    monkeypatch.chdir(tmp_path)
    _write_npz(tmp_path / "my data #1.npz")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY_NPZ)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "data.name=npz",
        "--set", "data.options.path=my data #1.npz",
        "--out", tmp_path / "run", "--device", "cpu", "--no-report",
    )  # fmt: skip
    _ok(code, err)


@pytest.mark.parametrize("value", ["2026-11-29", "no", "1e-3"], ids=["date", "no", "1e-3"])
def test_set_name_to_a_value_yaml_reads_as_a_non_string(value):
    """``name`` is a string-only field (it names the run folder), and the config's own dumper
    (``config._Dumper``) takes care to quote run names such as ``1e-3`` so that they "load back
    as they were" — they are legal names. But ``--set name=2026-11-29`` (a run named by date),
    ``--set name=no`` or ``--set name=1e-3`` is refused ("name: Input should be a valid
    string"), because ``apply_sets`` turns the text into a date, a bool or a float first. For a
    field that only takes a string, the value the user meant is the text they typed."""
    from trainlab.config import load_config

    assert load_config(None, [f"name={value}"]).name == value


# -- data paths ----------------------------------------------------------------------------------


def test_data_path_starting_with_a_tilde_that_names_no_user(monkeypatch, capsys, tmp_path):
    """A file in the working folder whose name starts with ``~`` (``~backup.npz``; editors and
    Office leave such names) is a legal relative path; the shell leaves ``~name`` as is when no
    user ``name`` exists. trainlab calls ``Path.expanduser()`` on it
    (``data.with_absolute_path`` / ``readers._as_path``), which raises ``RuntimeError: Could not
    determine home directory`` for an unknown user, so ``trainlab train`` dies with a
    traceback instead of training on the file (or at least printing one line)."""
    monkeypatch.chdir(tmp_path)
    name = "~trainlab_no_such_user_zz.npz"
    _write_npz(tmp_path / name)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY_NPZ)
    try:
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg, "--set", "data.name=npz",
            "--set", f"data.options.path={name}",
            "--out", tmp_path / "run", "--device", "cpu", "--no-report",
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - what the shell shows as a traceback
        pytest.fail(f"trainlab train printed a traceback: {type(exc).__name__}: {exc}")
    _ok(code, err)


def test_resume_after_the_working_folder_it_started_from_is_gone(monkeypatch, capsys, tmp_path):
    """``with_absolute_path`` promises that ``config.yaml`` "names the same file wherever the
    run is resumed or repeated from". A run started from ``work/scratch`` with
    ``data.options.path=../d.npz`` records ``.../work/scratch/../d.npz`` (``Path.absolute()``
    keeps the ``..``), a path that stops working as soon as ``scratch/`` is removed although
    ``work/d.npz`` is still there: the killed run can then never be resumed ("file not found:
    .../scratch/../d.npz"), and editing the path in config.yaml is refused as a config change.
    """
    work = tmp_path / "work"
    (work / "scratch").mkdir(parents=True)
    _write_npz(work / "d.npz")
    cfg = work / "c.yaml"
    cfg.write_text(TINY_NPZ)
    _killed_npz_run(monkeypatch, capsys, work / "scratch", "../c.yaml", "../d.npz", "../run")
    monkeypatch.chdir(work)
    (work / "scratch").rmdir()
    code, _, err = run_cli(monkeypatch, capsys, "resume", "run", "--device", "cpu", "--no-report")
    _ok(code, err)
    assert (work / "run" / "summary.json").is_file()


# -- a run moved to another place ----------------------------------------------------------------


def test_resume_after_the_project_moved_with_its_data(monkeypatch, capsys, tmp_path):
    """``cp -r project /other/disk`` (or ``mv``) moves a run together with the ``.npz`` it
    trained on. ``config.yaml`` holds the data's old absolute path, so ``resume`` says "file not
    found"; the only fix at hand, pointing ``data.options.path`` in ``config.yaml`` at the same
    file's new place, is refused as "changed since the checkpoint" — although the path does not
    touch the models (the README's criterion for keys resume accepts) and ``population.json``'s
    data fingerprint (SHA-256) proves it is the same data. A moved run can then never be
    resumed."""
    old, new = tmp_path / "project", tmp_path / "moved"
    (old / "data").mkdir(parents=True)
    _write_npz(old / "data" / "d.npz")
    cfg = old / "c.yaml"
    cfg.write_text(TINY_NPZ)
    _killed_npz_run(monkeypatch, capsys, old, "c.yaml", "data/d.npz", "runs/a")
    shutil.move(old, new)
    config = new / "runs" / "a" / "config.yaml"
    text = config.read_text()
    assert str(old / "data" / "d.npz") in text
    config.write_text(text.replace(str(old / "data" / "d.npz"), str(new / "data" / "d.npz")))
    code, _, err = run_cli(
        monkeypatch, capsys, "resume", new / "runs" / "a", "--device", "cpu", "--no-report"
    )
    _ok(code, err)
    assert (new / "runs" / "a" / "summary.json").is_file()
    assert not old.exists()


# -- long file names -----------------------------------------------------------------------------


def test_schedule_plot_to_a_long_but_legal_file_name(monkeypatch, capsys, tmp_path):
    """A file name of 240 bytes is legal (NAME_MAX is 255; 80 Hangul characters are 240 bytes
    of UTF-8). ``trainlab schedule --plot --out NAME`` (and ``lr-find --out``, after its whole
    range test) refuses it with "File name too long": ``atomic_open`` writes to a temporary
    ``.<name>.<random>.trainlab-tmp`` beside the target, 23 bytes longer than the name itself,
    and ``_png``'s writability probe does not see it coming."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY)
    out = tmp_path / ("한" * 78 + ".png")
    assert len(out.name.encode()) <= 255
    code, _, err = run_cli(monkeypatch, capsys, "schedule", cfg, "--plot", "--out", out)
    _ok(code, err)
    assert out.is_file()


# -- resolved configs that must load back --------------------------------------------------------


def test_pretrain_resolved_config_loads_back_for_a_run_named_like_a_number(
    monkeypatch, capsys, tmp_path
):
    """A run's ``config.yaml`` must load back as it was (DESIGN.md principle 5; pretrain's own
    comment: "the resolved config ... loads back as is"). ``trainlab pretrain`` writes it with
    plain ``yaml.safe_dump`` (YAML 1.1), but reads configs with trainlab's YAML 1.2 loader, for
    which ``1e-3`` is a float: a run named ``"1e-3"`` is written unquoted, and
    ``trainlab pretrain RUN/config.yaml`` then fails ("name: Input should be a valid string").
    ``trainlab train`` uses ``config._Dumper`` exactly to avoid this."""
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        'name: "1e-3"\nmodel: {kind: rbm, n_components: 4}\n'
        "train: {n_iter: 1, batch_size: 100}\nseeds: [0]\n"
    )
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", tmp_path / "a",
                           "--device", "cpu")  # fmt: skip
    _ok(code, err)
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", tmp_path / "a" / "config.yaml",
                           "--out", tmp_path / "b", "--device", "cpu")  # fmt: skip
    _ok(code, err)


# -- commands trainlab suggests must work for the folder they name --------------------------------


def test_already_exists_hint_is_a_command_that_works_for_a_folder_with_a_space(
    monkeypatch, capsys, tmp_path
):
    """Training into an existing run folder is refused with the hint "`trainlab resume DIR` to
    continue it" (``RunDir.create``). For a folder with a space (``--out "my run"``) the hint
    is ``trainlab resume .../my run``, which the shell splits into two arguments: pasted as
    shown it fails ("Got unexpected extra argument"). The path must be shell-quoted."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY)
    out = tmp_path / "my run"
    args = ("train", cfg, "--out", out, "--device", "cpu", "--no-report")
    code, _, err = run_cli(monkeypatch, capsys, *args)
    _ok(code, err)
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2, err
    flat = " ".join(err.split("\n"))
    hint = re.search(r"`(trainlab resume [^`]*)`", flat)
    assert hint, err
    assert shlex.split(hint.group(1)) == ["trainlab", "resume", str(out)], hint.group(1)


def test_incomplete_run_report_resume_command_works_for_a_folder_with_a_space(
    monkeypatch, capsys, tmp_path
):
    """The report of a killed run says "``trainlab resume DIR`` continues it." For a run folder
    named ``my run`` that command (``report.html._banner``) is not shell-quoted: copied into a
    shell it passes two arguments and fails instead of continuing the run."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY)
    out = tmp_path / "my run"
    kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        run_cli(monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report")
    monkeypatch.undo()
    code, _, err = run_cli(monkeypatch, capsys, "report", out)
    _ok(code, err)
    page = (out / "report.html").read_text()
    cmd = re.search(r"<code>(trainlab resume [^<]*)</code>", page)
    assert cmd, "no resume command in the incomplete run's report"
    assert shlex.split(html.unescape(cmd.group(1))) == ["trainlab", "resume", str(out)]
