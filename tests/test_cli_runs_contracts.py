"""Adversarial review of the CLI run flows (``trainlab train/resume/report``, ``runs.py``):
``--seeds`` limits, and ``resume`` of a run whose files were edited or corrupted. Every user
error must be one line and exit 2, without a traceback, and must leave the run's files as
they were."""

import hashlib

import pytest
import torch

from conftest import assert_user_error, run_cli
from trainlab.cli.app import MAX_SEEDS, parse_seeds
from trainlab.errors import UserError

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 256}
population: {seeds: [0, 1]}
"""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished two-model run written by ``trainlab train`` (shared; copied per test)."""
    import sys

    from trainlab.cli import main

    root = tmp_path_factory.mktemp("cli_runs")
    cfg = root / "small.yaml"
    cfg.write_text(SMALL)
    out = root / "run"
    argv = sys.argv
    sys.argv = ["trainlab", "train", str(cfg), "--out", str(out), "--device", "cpu", "--no-report"]
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None)
    finally:
        sys.argv = argv
    assert (out / "summary.json").is_file()
    return out


def _copy(run, tmp_path):
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(run, dest)
    return dest


def _resume(monkeypatch, capsys, run):
    """``trainlab resume RUN`` as the shell runs it; an exception escaping ``main()`` is the
    traceback the user would see."""
    try:
        return run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu", "--no-report")
    except Exception as exc:  # noqa: BLE001 - any escape is the bug
        pytest.fail(f"trainlab resume printed a traceback: {type(exc).__name__}: {exc}")


def _snapshot(run):
    return {
        p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.rglob("*"))
        if p.is_file()
    }


# -- --seeds --------------------------------------------------------------------------------------


def test_seeds_never_expand_past_the_max_when_single_seeds_follow_a_range():
    """``MAX_SEEDS`` is documented as "--seeds never expands to more models than this" (the
    guard against a typo asking for a huge population). The range branch checks the running
    total, but single seeds appended after a range are never counted, so
    ``--seeds 0-99999,100000`` (or any number of singles after a maximal range) expands to
    more than ``MAX_SEEDS`` models and starts an oversized run instead of one clear error."""
    text = f"0-{MAX_SEEDS - 1},{MAX_SEEDS},{MAX_SEEDS + 1}"
    try:
        seeds = parse_seeds(text)
    except UserError:
        return
    pytest.fail(f"--seeds {text!r} expanded to {len(seeds)} models (> MAX_SEEDS={MAX_SEEDS})")


# -- resume of a run whose population.json was edited or corrupted --------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[]\n", id="a-json-list"),
        pytest.param(b'{"k": 2, "models": 2}\n', id="models-not-a-list"),
        pytest.param(b'{"k": 2, "models": [0, 1]}\n', id="models-not-objects"),
        pytest.param(bytes([0xFF, 0xFE, 0x80, 0x81]) * 16, id="not-utf8"),
    ],
)
def test_resume_of_a_run_with_a_damaged_population_json_is_one_line(
    monkeypatch, capsys, tmp_path, finished_run, content
):
    """``trainlab resume DIR`` of a run whose ``population.json`` is valid JSON of the wrong
    shape (hand-edited) or not text at all (disk corruption) must be a user error: one line,
    exit 2, no traceback, and the run's other files untouched. ``trainlab report`` already
    says "population.json is not a population file" / "cannot be read" for exactly these
    files, but ``resume`` (``train.resume`` calling ``info.get`` / iterating ``models``, and
    ``RunDir.read_json``, which catches only missing files and JSON syntax errors) dies with
    an AttributeError / TypeError / UnicodeDecodeError traceback."""
    run = _copy(finished_run, tmp_path)
    (run / "population.json").write_bytes(content)
    before = _snapshot(run)
    code, _, err = _resume(monkeypatch, capsys, run)
    assert_user_error(code, err, "population.json")
    assert _snapshot(run) == before


# -- resume of a run whose checkpoint was replaced ------------------------------------------------


@pytest.mark.parametrize(
    "foreign",
    [
        pytest.param(lambda state: torch.zeros(3), id="a-tensor"),
        pytest.param(lambda state: 7, id="a-number"),
        pytest.param(
            lambda state: {k: v for k, v in state.items() if k != "epoch"}, id="no-epoch-entry"
        ),
        pytest.param(lambda state: {**state, "config": "{"}, id="config-not-json"),
    ],
)
def test_resume_of_a_checkpoint_that_loads_but_is_not_a_trainlab_checkpoint_is_one_line(
    monkeypatch, capsys, tmp_path, finished_run, foreign
):
    """``RunDir.load_checkpoint`` turns a "truncated or foreign file" into a one-line user
    error ("it may be corrupt: delete it to restart"), and a checkpoint dict that lacks an
    entry is reported by ``resume`` as not matching the config. But a foreign file that
    ``torch.load(weights_only=True)`` reads without complaint — a saved tensor or number, or a
    checkpoint without its ``epoch`` entry or with an unreadable ``config`` entry — reaches
    ``"config" in state`` / ``int(state["epoch"])`` / ``json.loads(state["config"])`` in
    ``train.resume`` unguarded, and ``trainlab resume`` prints a RuntimeError / TypeError /
    KeyError / JSONDecodeError traceback instead of one line with exit 2."""
    run = _copy(finished_run, tmp_path)
    path = run / "checkpoints" / "last.pt"
    torch.save(foreign(torch.load(path, weights_only=True)), path)
    before = _snapshot(run)
    code, _, err = _resume(monkeypatch, capsys, run)
    assert_user_error(code, err, "last.pt")
    assert _snapshot(run) == before


def _flip_a_weight_byte(path):
    """Flip one bit inside the bytes of the checkpoint's largest tensor (a zip entry)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    # the local header: 30 bytes, then the name and the extra field (lengths at offsets 26, 28)
    start = info.header_offset
    name_len = int.from_bytes(data[start + 26 : start + 28], "little")
    extra_len = int.from_bytes(data[start + 28 : start + 30], "little")
    data[start + 30 + name_len + extra_len + info.file_size // 2] ^= 0x04
    path.write_bytes(bytes(data))


def test_resume_refuses_a_checkpoint_whose_weights_changed_on_disk(
    monkeypatch, capsys, tmp_path, finished_run
):
    """torch.load checks no checksum: a flipped bit inside a weight loaded as a wrong number and
    the resumed run went on from it silently. The zip entries' CRC-32s are checked first."""
    run = _copy(finished_run, tmp_path)
    path = run / "checkpoints" / "last.pt"
    torch.load(path, weights_only=True)  # intact: loads
    _flip_a_weight_byte(path)
    torch.load(path, weights_only=True)  # torch alone does not notice
    before = _snapshot(run)
    code, _, err = _resume(monkeypatch, capsys, run)
    assert_user_error(code, err, "last.pt")
    assert "checksum" in err
    assert _snapshot(run) == before


def test_checkpoints_carry_checksums_when_the_user_turned_them_off(tmp_path):
    """``torch.serialization.set_crc32_options(False)`` (a user's speed setting) would write
    entries with a CRC of 0, which nothing could check: save_checkpoint computes them anyway and
    restores the user's setting."""
    import zipfile

    from trainlab.runs import RunDir

    ser = torch.serialization
    if not hasattr(ser, "set_crc32_options"):
        pytest.skip("this torch has no CRC-32 option")
    run = RunDir(tmp_path / "r")
    ser.set_crc32_options(False)
    try:
        run.save_checkpoint({"epoch": 1, "step": 2, "population": {"w": torch.randn(64)}})
        assert ser.get_crc32_options() is False
    finally:
        ser.set_crc32_options(True)
    with zipfile.ZipFile(run.checkpoint_path) as z:
        assert all(i.CRC for i in z.infolist() if i.file_size)
    _flip_a_weight_byte(run.checkpoint_path)
    with pytest.raises(UserError, match="checksum"):
        run.load_checkpoint()
