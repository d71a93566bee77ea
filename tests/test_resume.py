"""`trainlab resume` after a SIGKILL reaches the same final weights as an uninterrupted run,
bitwise on the CPU."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from conftest import requires_cuda, small_config
from trainlab.config import dump_config
from trainlab.errors import UserError
from trainlab.runs import RunDir
from trainlab.train import Trainer, resume, train

EPOCHS = 4


def _config():
    return small_config(
        model={"dropout": 0.1, "batch_norm": True},
        optim={"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True},
        schedule={"name": "cosine"},
        train={"epochs": EPOCHS, "batch_size": 24},
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.05, 0.02]}},
    )


def _final_state(run_dir):
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)


def _start(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(dump_config(_config()))
    out = tmp_path / name
    cmd = [
        sys.executable,
        "-m",
        "trainlab",
        "train",
        str(path),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--no-report",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out


def _epochs_done(out):
    try:
        return sum(1 for line in (out / "metrics.jsonl").read_text().splitlines()) // 4
    except FileNotFoundError:
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, shared by the kill tests."""
    out = tmp_path_factory.mktemp("ref") / "run"
    return train(_config(), out=out, progress=False, device="cpu")


@pytest.mark.parametrize("kill_after_epochs", [0, 2])
def test_resume_after_sigkill_is_bitwise_identical(tmp_path, reference, kill_after_epochs):
    proc, out = _start(tmp_path, "killed")
    deadline = time.time() + 120
    while _epochs_done(out) < kill_after_epochs and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    if kill_after_epochs == 0:
        while not (out / "population.json").exists() and time.time() < deadline:
            time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert RunDir(out).read_json("population.json")["k"] == 4

    result = resume(out, progress=False, device="cpu")
    ref_state, state = _final_state(reference.run_dir), _final_state(out)
    assert state["epoch"] == ref_state["epoch"] == EPOCHS
    for name, t in ref_state["population"].items():
        assert torch.equal(state["population"][name], t), name
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert sorted((r["model"], r["epoch"]) for r in rows) == [
        (m, e) for m in range(4) for e in range(1, EPOCHS + 1)
    ]
    assert result.summary["models"] == reference.summary["models"]


def test_resume_skips_a_half_written_metrics_line(tmp_path):
    out = tmp_path / "run"
    cfg = small_config(train={"epochs": 2}, population={"seeds": [0, 1, 2, 3]})
    train(cfg, out=out, progress=False, device="cpu")
    state = _final_state(out)
    state["epoch"] = 1  # pretend the kill came after epoch 1's checkpoint …
    state["step"] //= 2  # (its position: the end of epoch 1)
    RunDir(out).save_checkpoint(state)
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"model": 0, "epoch": 3, "train_lo')  # … and in the middle of a line
    rows = RunDir(out).read_metrics()
    assert all(r["epoch"] <= 2 for r in rows)
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["epochs"] == 2
    # resuming cuts metrics back to the checkpoint's epoch (no partial line, no duplicates)
    resume(out, progress=False, device="cpu")
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert sorted((r["model"], r["epoch"]) for r in rows) == [
        (m, e) for m in range(4) for e in (1, 2)
    ]


def test_resume_errors(tmp_path):
    from trainlab.errors import UserError

    with pytest.raises(UserError, match="not a run directory"):
        resume(tmp_path, progress=False)
    out = tmp_path / "run"
    train(small_config(), out=out, progress=False, device="cpu")
    (out / "checkpoints" / "last.pt").write_bytes(b"garbage")
    with pytest.raises(UserError, match="corrupt"):
        resume(out, progress=False, device="cpu")


def test_resume_deletes_the_temporary_files_a_kill_left(tmp_path):
    """A kill while a checkpoint was being written leaves its temporary file (as big as the
    checkpoint); resuming removes it, and only it."""
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    (out / "figures").mkdir(exist_ok=True)
    stale = [
        out / "checkpoints" / ".last.pt.k2x9.trainlab-tmp",
        out / ".summary.json.a1b2.trainlab-tmp",
        out / "figures" / ".curves.png.c3d4.trainlab-tmp",  # a kill while a figure was written
    ]
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    (out / "notes.tmp").write_text("mine")
    (out / ".notes.tmp").write_text("mine too")  # a user's hidden file is not ours to delete
    resume(out, progress=False, device="cpu")
    assert not any(path.exists() for path in stale)
    assert (out / "notes.tmp").read_text() == "mine" and (out / "summary.json").is_file()
    assert (out / ".notes.tmp").read_text() == "mine too"


def test_a_run_being_written_is_not_resumed_beside_its_writer(tmp_path):
    """While a process trains a run (it holds the run's lock), a second ``resume`` of it is one
    line and touches nothing: two writers would interleave their metrics rows and delete each
    other's temporary files. The lock goes with the process (flock), even on kill -9."""

    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    writer = RunDir(out)
    assert writer.lock()
    try:
        with pytest.raises(UserError, match="another trainlab process .pid \\d+"):
            resume(out, progress=False, device="cpu")
    finally:
        writer.unlock()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    resume(out, progress=False, device="cpu")  # released: resumes (a finished run: no-op)


def test_a_run_killed_before_its_first_checkpoint_is_offered_to_resume(tmp_path):
    from trainlab.errors import UserError

    out = tmp_path / "run"
    cfg = small_config(train={"epochs": 1})
    train(cfg, out=out, progress=False, device="cpu")
    (out / "checkpoints" / "last.pt").unlink()  # killed during the first epoch
    (out / "summary.json").unlink()
    with pytest.raises(UserError, match=f"already exists.*trainlab resume {out}"):
        train(cfg, out=out, progress=False, device="cpu")
    assert resume(out, progress=False, device="cpu").summary["epochs"] == 1


@requires_cuda
def test_a_cuda_checkpoint_continues_on_the_cpu(tmp_path):
    """A checkpoint written on CUDA (weights, optimizer state, per-model lr tensors, masks) loads
    on the CPU (``map_location``, ``weights_only=True``) with everything on the CPU, and trains."""
    run = RunDir(tmp_path / "r").create()
    gpu = Trainer(_config(), device="cuda")
    gpu.train_epoch()
    run.save_checkpoint(gpu.state_dict())
    cpu = Trainer(_config(), device="cpu")
    cpu.load_state_dict(run.load_checkpoint(map_location=cpu.device))
    assert (cpu.epoch, cpu.step) == (gpu.epoch, gpu.step)
    for name, t in gpu.pop.state_dict().items():
        assert torch.equal(cpu.pop.state_dict()[name], t.cpu()), name
    tensors = [v for st in cpu.optimizer.state.values() for v in st.values()]
    for group in cpu.optimizer.param_groups:
        tensors += [v for k, v in group.items() if k != "params"]
    assert all(t.device.type == "cpu" for t in tensors if isinstance(t, torch.Tensor))
    assert all(t.device.type == "cpu" for t in (cpu.alive, cpu.active, cpu.nan_step))
    cpu.train_epoch()
    assert cpu.epoch == 2


def test_an_atomic_write_that_fails_midway_leaves_the_old_file_and_no_temp(tmp_path):
    """``atomic_open`` (checkpoints stream through it): an error inside the block keeps the
    previous file whole and deletes the partial temporary file."""
    from trainlab.atomic import atomic_open

    target = tmp_path / "last.pt"
    target.write_bytes(b"old checkpoint")
    with pytest.raises(RuntimeError, match="disk full"), atomic_open(target) as f:
        f.write(b"half of a new one")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    with atomic_open(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_resume_refuses_an_edited_config_but_lets_a_run_train_longer(tmp_path):
    """The checkpoint keeps the config its weights were trained with: an edit that would make
    the resumed run continue another one (here the lr) is refused by name; more epochs are
    allowed, with a note that the cosine schedule now spans the new length."""
    from trainlab.errors import UserError

    cfg = small_config(schedule={"name": "cosine"}, train={"epochs": 1})
    out = tmp_path / "run"
    train(cfg, out=out, device="cpu", progress=False)
    path = out / "config.yaml"
    text = path.read_text()
    edited = yaml.safe_load(text)
    edited["optim"]["lr"] = 0.123
    path.write_text(yaml.safe_dump(edited))
    with pytest.raises(UserError, match=r"changed since the checkpoint \(optim.lr: .* -> 0.123\)"):
        resume(out, device="cpu", progress=False)
    edited = yaml.safe_load(text)
    edited["train"]["epochs"] = 2
    path.write_text(yaml.safe_dump(edited))
    notes: list[str] = []
    result = resume(out, device="cpu", progress=False, on_note=notes.append)
    assert result.summary["epochs"] == 2 and len(notes) == 1
    assert "train.epochs changed from 1 to 2" in notes[0] and "'cosine' schedule" in notes[0]
    notes.clear()
    resume(out, device="cpu", progress=False, on_note=notes.append)  # unchanged, complete:
    assert len(notes) == 1 and notes[0].startswith("nothing to train: the run")  # said so
    edited["train"]["epochs"] = 1  # below the 2 epochs trained: nothing could be undone
    path.write_text(yaml.safe_dump(edited))
    with pytest.raises(UserError, match=r"train.epochs to 1, but .* already trained 2 epochs"):
        resume(out, device="cpu", progress=False)


def test_auto_resumes_on_the_device_the_run_trained_on(tmp_path, monkeypatch):
    """``resume --device auto`` continues a CPU run on the CPU even where ``auto`` would pick a
    GPU (a run continued on another device is not the run an uninterrupted one is); a run that
    trained on CUDA goes on on the CPU of a machine without one, with a note saying so."""
    out = tmp_path / "run"
    train(small_config(train={"epochs": 1}), out=out, progress=False, device="cpu")
    info = json.loads((out / "population.json").read_text())
    assert info["versions"]["device"] == "cpu"
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    cfg["train"]["epochs"] = 2
    (out / "config.yaml").write_text(yaml.safe_dump(cfg))
    with monkeypatch.context() as mp:  # a machine where auto would mean CUDA
        mp.setattr(torch.cuda, "is_available", lambda: True)
        result = resume(out, progress=False, device="auto", on_note=lambda _m: None)
    assert next(result.population.parameters()).device.type == "cpu"
    if torch.cuda.is_available():
        return
    info["versions"]["device"] = "cuda:0"
    (out / "population.json").write_text(json.dumps(info))
    cfg["train"]["epochs"] = 3
    (out / "config.yaml").write_text(yaml.safe_dump(cfg))
    notes: list[str] = []
    resume(out, progress=False, device="auto", on_note=notes.append)
    assert any("trained on cuda:0" in n and "CPU" in n for n in notes), notes
