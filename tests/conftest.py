"""Shared test fixtures: small, fast configs."""

from __future__ import annotations

import math
import os
import sys
import warnings
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs the suite in one worker process per core (pytest-xdist). OpenMP threads
    # that spin while they wait for work would take the core of the other worker: wait
    # passively (set before torch starts its OpenMP runtime). -n 2 on 2 cores: 11m07s
    # spinning, 8m23s passive, 10m55s in one process.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.config import parse_config


def small_config(**sections):
    """A digits MLP small enough that a few epochs take well under a second."""
    raw = {
        "name": "t",
        "model": {"name": "mlp", "hidden": [16]},
        "init": {"scheme": "xavier_uniform"},
        "optim": {"name": "adam", "lr": 0.01},
        "train": {"epochs": 2, "batch_size": 64},
        "population": {"seeds": [0]},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_config(raw)


@pytest.fixture
def cfg():
    return small_config


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8×8 digits scaled to [0, 1] (float64) and their labels."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float64), y


@pytest.fixture
def default_float64():
    """``torch.set_default_dtype(torch.float64)``, as many notebooks and scientific scripts do;
    the float32 default is restored afterwards."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


#: a one-model, one-epoch digits config for CLI tests (``config_file(tmp_path, SMALL_YAML)``)
SMALL_YAML = """
name: cli
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


def torch_lr_curve(make, base: float, n: int, *, every: int = 1, fractional: int = 0):
    """The lr torch's scheduler ``make(optimizer)`` gives at optimizer steps 0..n-1 (float64):
    stepped after every ``every`` steps, or, with ``fractional`` steps per epoch, told the
    epoch ``s / fractional`` before each step (CosineAnnealingWarmRestarts' fractional epochs).
    """
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(n):
            if fractional:
                sched.step(s / fractional)
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            if not fractional and (s + 1) % every == 0:
                sched.step()
    return torch.tensor(out, dtype=torch.float64)


def optimizers_cell(per_lr: dict[float, list[tuple[float, float, float]]], steps: int = 0) -> dict:
    """A hand-made cell of the optimizers study, as ``cells.train_cell`` returns it: per LR, one
    model per seed with final ``(val_loss, test_acc, train_loss)`` (test_loss = val_loss); a
    non-finite val_loss marks the model stopped for NaN; ``steps``: the cell's training steps
    (0: no metrics rows)."""
    models = []
    for lr, seeds in per_lr.items():
        for s, (val, acc, train) in enumerate(seeds):
            final = {"val_loss": val, "test_acc": acc, "train_loss": train, "test_loss": val}
            models.append({"index": len(models), "seed": s, "overrides": {"optim.lr": lr},
                           "status": "ok" if math.isfinite(val) else "nan",
                           "final": final})  # fmt: skip
    return {"summary": {"models": models}, "metrics": [{"step": steps}] if steps else []}


def config_file(tmp_path: Path, text: str, name: str = "small.yaml") -> Path:
    """Write the YAML ``text`` to ``tmp_path / name`` and return the path (a CLI's CONFIG)."""
    path = tmp_path / name
    path.write_text(text)
    return path


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def batch_stats_net() -> nn.Module:
    """A digits MLP (64 -> 16 -> 10) whose batch norm keeps no running statistics: it
    normalizes every batch, evaluation chunks included, with the batch's own statistics (draws
    from torch's global generator: seed it first where the weights matter)."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 16),
        nn.BatchNorm1d(16, track_running_stats=False),
        nn.ReLU(),
        nn.Linear(16, 10),
    )


def run_cli(monkeypatch, capsys, *args):
    """``trainlab ARGS`` as the shell runs it (``main()``): (exit code, stdout, stderr)."""
    from trainlab.cli import main

    monkeypatch.setattr(sys, "argv", ["trainlab", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def call_main(monkeypatch, *args) -> tuple[int, str]:
    """``trainlab ARGS`` as the shell runs it (``main()``): (exit code, traceback). An exception
    other than SystemExit is what the shell shows as a traceback: exit code 1 and its text."""
    import traceback

    from trainlab.cli import main

    monkeypatch.setattr(sys, "argv", ["trainlab", *map(str, args)])
    try:
        main()
    except SystemExit as exc:
        return exc.code, ""
    except Exception:  # noqa: BLE001 - the traceback the shell would print
        return 1, traceback.format_exc()
    return 0, ""


def main_catching_everything(monkeypatch, capsys, *args):
    """``trainlab ARGS`` via ``main()``: (exit code, stderr); a KeyboardInterrupt that escapes
    ``main()`` is what the shell shows as a traceback (Python's exit status 130 *with* a
    traceback): returned as ("traceback", stderr and the traceback's text)."""
    import traceback

    from trainlab.cli import main

    monkeypatch.setattr(sys, "argv", ["trainlab", *map(str, args)])
    try:
        main()
    except SystemExit as exc:
        return exc.code, capsys.readouterr().err
    except BaseException:  # noqa: BLE001 - what the user sees as a traceback
        return "traceback", capsys.readouterr().err + traceback.format_exc()
    return 0, capsys.readouterr().err


def run_cli_catching(monkeypatch, capsys, *args):
    """:func:`run_cli`, with an exception that escapes ``main()`` (a traceback the user would
    see) returned as exit code 1 and its traceback text after stderr: (exit code, stdout,
    stderr), so that a test's checks of the data still run."""
    code, tb = call_main(monkeypatch, *args)
    out = capsys.readouterr()
    return code, out.out, out.err + tb


def run_cli_on_streams(monkeypatch, encoding: str, errors: str, *args):
    """``trainlab ARGS`` with stdout in ``encoding`` with error handler ``errors`` (as a
    locale sets it up: Latin-1 ``strict``, the C locale's ASCII ``surrogateescape``) and
    stderr in ``encoding`` (``strict`` for Latin-1, else ``backslashreplace``): (exit code,
    stdout, stderr). An exception other than SystemExit is what the shell shows as a
    traceback: it is returned as exit code 1 with its text in stderr."""
    import io

    out_b, err_b = io.BytesIO(), io.BytesIO()
    err_errors = "strict" if encoding == "latin-1" else "backslashreplace"
    out = io.TextIOWrapper(out_b, encoding=encoding, errors=errors, write_through=True)
    err = io.TextIOWrapper(err_b, encoding=encoding, errors=err_errors, write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code, tb = call_main(monkeypatch, *args)
    text_out = out_b.getvalue().decode(encoding, "replace")
    text_err = err_b.getvalue().decode(encoding, "replace") + tb
    monkeypatch.undo()
    return code, text_out, text_err


def run_pretrain_cli(tmp_path, monkeypatch, capsys, text: str, *args: str):
    """``trainlab pretrain CONFIG --out RUN ARGS`` as the shell runs it (``main()``).

    Returns (exit code, stderr, run directory). An exception other than SystemExit is what the
    shell would show as a traceback: it is returned as exit code 1 with the traceback text in
    stderr, so that a test's assertions report it rather than erroring out."""
    import traceback
    import warnings

    from trainlab.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["trainlab", "pretrain", str(cfg), "--out", str(out), *args])
    code = 0
    tb = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        except Exception:  # noqa: BLE001 - the shell would print this traceback
            code = 1
            tb = traceback.format_exc()
    err = capsys.readouterr().err + tb
    return code, err, out


def assert_npz_train_refused(monkeypatch, capsys, tmp_path, path) -> None:
    """``trainlab train`` of a tiny MLP on the .npz file ``path``: one line naming the file,
    exit 2, and no run folder made."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: review\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 1, batch_size: 16}\n"
        "population: {seeds: [0]}\n"
    )
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "data.name=npz",
        "--set", f"data.options.path={path}", "--out", tmp_path / "run", "--device", "cpu",
    )  # fmt: skip
    assert_user_error(code, err, Path(path).name)
    assert not (tmp_path / "run").exists()


def assert_user_error(code: int, err: str, needle: str | None = None) -> None:
    """A user error as the CLI must show it: exit 2, no traceback, one line (rich may wrap a
    long one onto a second) that names ``needle``."""
    assert "Traceback" not in err, err[-1500:]
    assert code == 2, (code, err[-1500:])
    if needle is not None:
        assert needle in err, err
    assert len(err.strip().splitlines()) <= 2, err


class RowLSTM(nn.Module):
    """digits' 8x8 image read as a sequence of 8 rows by an LSTM (what vmap cannot batch)."""

    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        self.rnn = nn.LSTM(8, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.rnn(x.reshape(x.size(0), 8, 8))[0][:, -1])


class LazyCalib(nn.Module):
    """A layer that sets a plain float from its first batch (a data-dependent lazy init, read
    with float(): a population runs it model by model)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.calib = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.calib is None:
            self.calib = float(x.abs().max())
        return self.lin(x) / self.calib


class StubRun:
    """What :func:`trainlab.report.plots.curve_figure` / ``dynamics_figure`` read of a run:
    ``plot_curves()`` (model index -> its metrics rows) and ``model_results()``."""

    def __init__(self, curves, results):
        self._c, self._r = curves, results

    def plot_curves(self):
        return self._c

    def model_results(self):
        return self._r


def watched_training_forwards(monkeypatch) -> list[int]:
    """The steps at which a watch's pre-forward hook saw a training forward (filled as they
    run): wraps ``Watch._pre_forward`` for the test."""
    from trainlab.diagnostics.watch import Watch

    seen: list[int] = []
    pre = Watch._pre_forward

    def counted(self, module, args, kwargs):
        if module.training:
            seen.append(self.step + 1)
        return pre(self, module, args, kwargs)

    monkeypatch.setattr(Watch, "_pre_forward", counted)
    return seen


class DiagRun:
    """What :func:`trainlab.report.plots.diagnostics_figure` reads of a run: ``models`` (index,
    group) and ``diagnostics_held()`` (the records)."""

    def __init__(self, models, records):
        self.models, self._records = models, records

    def diagnostics_held(self):
        return list(self._records)


class FullDiskFile:
    """A file (binary or text) whose disk fills up after its first ``room`` bytes (characters):
    ``write()`` writes what fits, then raises ENOSPC, as on a real full disk; or ``error()``
    (``KeyboardInterrupt``: a Ctrl-C that lands in the write)."""

    def __init__(self, f, room: int, error=None) -> None:
        self._f, self._room, self._written, self._error = f, room, 0, error

    def write(self, b):
        n = self._f.write(b[: max(0, self._room - self._written)])
        self._written += n
        if n < len(b):
            import errno

            if self._error is not None:
                raise self._error()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return n

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


class Killed(Exception):
    """What :func:`kill_after_checkpoint` raises: the run "dies" right after a checkpoint."""


def kill_after_checkpoint(monkeypatch, n: int):
    """``RunDir.save_checkpoint`` writes its checkpoint, then raises :class:`Killed` at the
    ``n``-th call; returns the original method."""
    from trainlab.runs import RunDir

    orig, calls = RunDir.save_checkpoint, [0]

    def save(self, state):
        orig(self, state)
        calls[0] += 1
        if calls[0] >= n:
            raise Killed

    monkeypatch.setattr(RunDir, "save_checkpoint", save)
    return orig


def raise_in_second_epoch(monkeypatch, error: type[BaseException] = Killed):
    """``Trainer.train_epoch`` raises ``error`` when the second epoch starts (after the first
    epoch's checkpoint, if it writes one: :class:`Killed` is a process dying, no handler runs);
    returns the original method."""
    from trainlab.train import Trainer

    real, calls = Trainer.train_epoch, []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train_epoch", interrupted)
    return real


def ctrl_c_in_second_epoch(monkeypatch):
    """:func:`raise_in_second_epoch` with KeyboardInterrupt (Ctrl-C)."""
    return raise_in_second_epoch(monkeypatch, KeyboardInterrupt)


#: the smallest ``trainlab pretrain`` config: 4 RBM units on min-max scaled digits, one pass
TINY_PRETRAIN = (
    "name: p\ndata: {name: digits, scale: minmax}\nmodel: {kind: rbm, n_components: 4}\n"
    "train: {n_iter: 1, batch_size: 200}\nseeds: [0]\n"
)


def raise_ctrl_c(*args, **kwargs):
    """A stand-in for a method or function that the user's Ctrl-C interrupts."""
    raise KeyboardInterrupt


def default_bench_args(monkeypatch, module, cwd):
    """The arguments ``module.main()`` (a benchmark script) parses from a bare command line run
    in ``cwd``: ``main`` is stopped right after ``parse_args``, so nothing runs or is written."""
    import argparse

    seen: dict[str, argparse.Namespace] = {}
    parse = argparse.ArgumentParser.parse_args

    class Stop(Exception):
        pass

    def spy(self, *a, **kw):
        seen["args"] = parse(self, *a, **kw)
        raise Stop

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", spy)
    monkeypatch.setattr(sys, "argv", [f"{module.__name__}.py"])
    monkeypatch.chdir(cwd)
    with pytest.raises(Stop):
        module.main()
    return seen["args"]


def run_bench(monkeypatch, script: str, argv: list[str]):
    """``python benchmarks/SCRIPT.py ARGV`` in-process: the SystemExit code, the exception a user
    would see as a traceback, or 0. The process-wide settings the scripts change (torch
    threads, flush-denormal, malloc) are restored or stubbed, so the test leaves the
    interpreter as it found it."""
    import importlib
    import sys
    from pathlib import Path

    bench = str(Path(__file__).resolve().parent.parent / "benchmarks")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    mod = importlib.import_module(script)
    if hasattr(mod, "keep_freed_memory"):
        monkeypatch.setattr(mod, "keep_freed_memory", lambda: False)
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *argv])
    threads = torch.get_num_threads()
    try:
        mod.main()
    except SystemExit as exc:
        return exc.code
    except Exception as exc:  # noqa: BLE001 - what the user would see as a traceback
        return exc
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)
    return 0


def random_bernoulli_rbm(v: int = 6, h: int = 4, seed: int = 0, scale: float = 1.0):
    """A fitted-looking ``BernoulliRBM`` with random N(0, scale²) weights and N(0, 0.25)
    biases (for log Z tests: exact enumeration against brute force and AIS)."""
    import numpy as np

    from trainlab.pretrain import BernoulliRBM

    rng = np.random.default_rng(seed)
    rbm = BernoulliRBM(n_components=h, n_iter=0).fit(np.zeros((2, v)))
    rbm.components_ = rng.normal(0, scale, (h, v))
    rbm.intercept_visible_ = rng.normal(0, 0.5, v)
    rbm.intercept_hidden_ = rng.normal(0, 0.5, h)
    return rbm


@pytest.fixture(autouse=True)
def _no_runs_in_the_working_folder(request):
    """A test writes its runs under tmp_path: one that writes ``runs/<name>`` into the folder
    pytest was started from (``train(cfg)`` without ``out`` or ``write=False``) fails here."""
    runs = Path("runs").resolve()

    def listing() -> set[str]:
        return set(os.listdir(runs)) if runs.is_dir() else set()

    before = listing()
    yield
    made = listing() - before
    if made:
        pytest.fail(f"{request.node.nodeid} wrote {sorted(made)} into {runs}; use tmp_path")


def wide_float16_case(d: int = 20000):
    """A float16 ``Linear(d, 2)`` on inputs ~1000 whose gradients are all finite (max |g|
    ~716) but whose norm (~94,800 in float32) passes float16's 65,504: ``(dataset, model)``,
    ``model()`` a new module each call (weights 0, biases ±5)."""
    from trainlab.data import Dataset

    g = torch.Generator().manual_seed(0)

    def split(n):
        x = (torch.rand(n, d, generator=g) * 1000).half()
        y = torch.ones(n, dtype=torch.int64)
        y[0] = 0
        return x, y

    (xt, yt), (xv, yv), (xe, ye) = split(16), split(4), split(4)
    ds = Dataset(
        name="wide16", x_train=xt, y_train=yt, x_val=xv, y_val=yv, x_test=xe, y_test=ye,
        input_shape=(d,), num_classes=2,
    )  # fmt: skip

    def model() -> nn.Module:
        m = nn.Linear(d, 2)
        with torch.no_grad():
            m.weight.zero_()
            m.bias.copy_(torch.tensor([5.0, -5.0]))
        return m.half()

    return ds, model


def blas_threads() -> list[int]:
    """The BLAS pools' thread counts (threadpoolctl)."""
    import threadpoolctl

    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def reset_blas(n: int) -> None:
    """Put the process's BLAS pool back to ``n`` threads whatever thread owns it."""
    import threadpoolctl

    ctl = threadpoolctl.OpenBLASController
    ctl.clear_controlling_thread(force=True)
    threadpoolctl.ThreadpoolController().limit(limits=n, user_api="blas")
    ctl.clear_controlling_thread(force=True)


needs_two_blas_threads = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or max(blas_threads(), default=1) < 2,
    reason="needs a BLAS pool of 2+ threads to tell a limited pool from a free one",
)


def full_and_resumed_longer(tmp_path: Path, *, epochs: int, first: int, train=None, **sections):
    """``small_config(**sections)`` trained for ``epochs`` into ``tmp_path/"full"``, and for
    ``first`` epochs into ``tmp_path/"short"``, whose ``config.yaml`` then gets ``train.epochs:
    epochs`` before it is resumed (the README's way to train a finished run longer): the two
    results, ``(full, resumed)``; ``train``: the other ``train`` keys of both."""
    import warnings

    import yaml

    from trainlab.train import resume
    from trainlab.train import train as train_run

    def run(n: int, name: str):
        cfg = small_config(train={"epochs": n, **(train or {})}, **sections)
        return train_run(cfg, out=tmp_path / name, progress=False, device="cpu")

    full = run(epochs, "full")
    run(first, "short")
    path = tmp_path / "short" / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["train"]["epochs"] = epochs
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (resume's note on the new length)
        return full, resume(tmp_path / "short", progress=False, device="cpu")


def nan_run_folder(tmp_path: Path, *, frozen_after_stop: bool = False):
    """A finished 2-model, 1-group run (13 steps per epoch, 4 epochs, sampled every 50
    steps), read with ``read_run``: model 0 trains to the end (records at steps 0 and 50, its
    layer dead at 50); model 1 was stopped for NaN/Inf at step 3, so its only record is step 0
    (what `trainlab train --diagnose` wrote for a relu MLP at lr 1e8), or with
    ``frozen_after_stop`` also a frozen, finite one at step 50 (what trainers before
    2026-12-01 recorded beside the models still training)."""
    import json

    from trainlab.report.rundata import read_run

    models = [
        {"index": i, "seed": i, "overrides": {"optim.lr": 1e8}, "group": "optim.lr=1e8"}
        for i in range(2)
    ]
    (tmp_path / "population.json").write_text(json.dumps({"k": 2, "models": models}))
    final = {"train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.0, "val_acc": 0.5,
             "test_loss": 1.0, "test_acc": 0.5}  # fmt: skip
    summ = [
        {**models[0], "status": "ok", "stopped_step": None, "final": final},
        {**models[1], "status": "nan", "stopped_step": 3, "final": dict.fromkeys(final)},
    ]
    (tmp_path / "summary.json").write_text(
        json.dumps({"name": "r", "k": 2, "epochs": 4, "models": summ})
    )
    rows = []
    for e in range(1, 5):
        rows.append({"model": 0, "epoch": e, "step": 13 * e, **final})
        rows.append({"model": 1, "epoch": e, "step": 13 * e, "train_loss": None})
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    diag = [
        {"model": 0, "layer": "fc1", "step": 0, "grad_norm": 0.25},
        {"model": 1, "layer": "fc1", "step": 0, "grad_norm": 0.25},
        {"model": 0, "layer": "fc1", "step": 50, "grad_norm": 0.0},  # the survivor's layer died
    ]
    if frozen_after_stop:
        diag.append({"model": 1, "layer": "fc1", "step": 50, "grad_norm": 0.25})
    (tmp_path / "diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in diag))
    return read_run(tmp_path)


def pretraining_rows(
    cells: dict[tuple[str, float, str], tuple[float, float]], n: int
) -> list[dict]:
    """Pretraining study rows for ``pretraining._findings`` (digits, depth 3):
    ``cells[(activation, labels, method)] = (mean, std)`` of a cell's test accuracy over ``n``
    seeds."""
    return [
        {"data": "digits", "activation": act, "depth": 3, "labels": frac, "method": m,
         "test_acc_mean": mean, "test_acc_std": std, "n": n}
        for (act, frac, m), (mean, std) in cells.items()
    ]  # fmt: skip


@pytest.fixture
def fresh_threads_state(monkeypatch):
    """trainlab.threads' module state isolated for one test (torch's thread count restored)."""
    import threading

    from trainlab import threads

    monkeypatch.setattr(threads, "_OPEN", 0)
    monkeypatch.setattr(threads, "_DEFAULT", 0)
    monkeypatch.setattr(threads, "_SET", {})
    monkeypatch.setattr(threads, "_EVER", set())
    monkeypatch.setattr(threads, "_MINE", threading.local())
    was = torch.get_num_threads()
    yield
    torch.set_num_threads(was)
