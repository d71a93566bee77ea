"""Run directories: resolved config, population, metrics, checkpoints, summary (DESIGN.md).

Everything that must survive a ``kill -9`` is written atomically: to a temporary file in the
same folder, flushed and fsynced, then renamed over the target (rename is atomic on POSIX), and
the folder is fsynced. ``metrics.jsonl`` is append-only; on resume it is cut back to the epochs
the checkpoint holds, so a half-written last line never survives.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import (
    TEMP_SUFFIX,
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    named,
    refuse_symlinks,
)
from .errors import UserError, in_chain, run_resume_command, shell_path

__all__ = [
    "RunDir",
    "atomic_write_bytes",
    "atomic_write_text",
    "make_folder",
    "to_jsonable",
    "software_versions",
]


def software_versions(device: torch.device | str | None = None) -> dict[str, Any]:
    """What a run was made with (DESIGN.md principle 5): trainlab, torch, numpy, Python, the
    platform, and the device (its name on CUDA)."""
    import platform

    import numpy as np

    from . import __version__

    out: dict[str, Any] = {
        "trainlab": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if device is not None:
        dev = torch.device(device)
        out["device"] = str(dev)
        if dev.type == "cuda":
            out["device_name"] = torch.cuda.get_device_name(dev)
    return out


def next_free_dir(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, … : the first that does not exist."""
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def make_folder(path: Path, option: str = "--out") -> None:
    """``mkdir -p path``; a path that cannot be made (a part of it is a file, no permission,
    a read-only disk) is a :class:`UserError` that names ``option`` as the fix."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        dangling = next(
            (p for p in [path, *path.parents] if p.is_symlink() and not p.exists()), None
        )
        if dangling is not None:  # (runs -> a scratch disk that is not mounted)
            raise UserError(
                f"cannot create folder {path}: {dangling} is a symbolic link to "
                f"{os.readlink(dangling)}, which does not exist (a disk not mounted?); make its "
                f"target or pass another {option}"
            ) from None
        part = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), path)
        raise UserError(
            f"cannot create folder {path}: {part} is a file; pass another {option}"
        ) from None
    except OSError as err:
        raise UserError(
            f"cannot create folder {path}: {err.strerror}; pass another {option}"
        ) from None


def to_jsonable(x: Any) -> Any:
    """Plain JSON values: NaN/Inf become None, tensors and numpy arrays lists, numpy scalars
    numbers."""
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_jsonable(v) for v in x]
    if isinstance(x, torch.Tensor | np.ndarray):
        return to_jsonable(x.tolist())
    if hasattr(x, "item") and not isinstance(x, str):  # numpy scalar
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def population_or_none(path: str | Path) -> Any:
    """The parsed ``population.json`` of the run in ``path``, or None where it is missing or
    unreadable (for hints and labels that fall back to a default, never for a run's data:
    :func:`trainlab.report.rundata.read_population` checks it)."""
    try:
        return json.loads((Path(path) / "population.json").read_text())
    except (OSError, ValueError):
        return None


def _resume_command(path: Path) -> str:
    """:func:`run_resume_command` of the run in ``path``, from its ``population.json`` (the
    Python call for a run given its own module or data; unreadable: the CLI's)."""
    return run_resume_command(path, population_or_none(path))


def complete_run(path: Path) -> str:
    """What a complete run (its ``summary.json`` written) offers instead of a resume: training
    longer, unless every model stopped (early stopping, NaN/Inf), which more epochs leave so."""
    where = shell_path(path)
    done = f"the run {where} is complete: `trainlab report {where}` rebuilds its report; "
    try:
        models = json.loads((Path(path) / "summary.json").read_text()).get("models")
    except (OSError, ValueError, AttributeError):
        models = None
    if (
        isinstance(models, list)
        and models
        and all(isinstance(m, dict) and m.get("status") not in (None, "ok") for m in models)
    ):
        return done + (
            "every model stopped (early stopping or NaN/Inf), so more epochs would train none: "
            "a longer run is a new `trainlab train`"
        )
    return done + (
        f"to train it longer raise train.epochs in its config.yaml, then `{_resume_command(path)}`"
    )


def _study_summary(path: Path) -> bool:
    """Whether ``path`` is a study's summary (a JSON object with a ``"study"`` key: the
    pretraining study's); a missing or unreadable file is not."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "study" in data


def enclosing_folder(path: Path, holds: Callable[[Path], bool]) -> Path | None:
    """The nearest folder above the file ``path`` that ``holds`` accepts (however ``path`` was
    written: ``last.pt`` from inside ``run/checkpoints`` too), as the user would write it:
    relative to the working directory unless ``path`` was absolute; None if none does."""
    lexical = Path(os.path.normpath(path.absolute()))  # (`..` collapsed as written)
    for start in (lexical, path.resolve()):  # (then through symlinks)
        for folder in start.parents:
            if holds(folder):
                return folder if path.is_absolute() else Path(os.path.relpath(folder))
    return None


class RunDir:
    """The folder of one run: ``config.yaml``, ``population.json``, ``metrics.jsonl``,
    ``diagnostics.jsonl``, ``checkpoints/last.pt``, ``summary.json``, ``report.html``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    # -- one writer at a time -------------------------------------------------------------------
    def lock(self) -> bool:
        """Take the run's writer lock (``flock`` on ``.lock``; the kernel drops it when the
        process ends, even on ``kill -9``), so that a second ``train``/``resume`` of a run
        still being written is refused instead of interleaving its appends. Returns True if
        this call took it, False if this object already held it. No-op where ``fcntl`` is
        missing (Windows)."""
        if self._lock_fd is not None:
            return False
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return False
        refuse_symlinks(self.path)  # (an appended metrics.jsonl would write through one)
        path = self.path / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            who = _holder(fd)
            os.close(fd)
            raise UserError(
                f"{self.path} is being written by another trainlab process{who}; let it "
                "finish or stop it, then run this again"
            ) from None
        try:  # the pid, for the message of a refused second writer
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as err:  # a full disk: let the lock go (this process may try again)
            os.close(fd)
            raise named(err, path) from err
        self._lock_fd = fd
        return True

    def writer(self) -> str | None:
        """``" (pid N)"`` (or ``""`` when the pid is unknown) if another process holds the
        writer lock of :meth:`lock`, else None; takes nothing and creates no file."""
        if self._lock_fd is not None:
            return None
        try:
            import fcntl

            fd = os.open(self.path / ".lock", os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (ImportError, OSError):  # not POSIX, or no .lock (a run folder from elsewhere)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _holder(fd)
        finally:
            os.close(fd)  # (releases the probe's shared lock, if it got one)
        return None

    def unlock(self) -> None:
        """Release the writer lock taken by :meth:`lock` (the ``.lock`` file stays)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # -- creation -------------------------------------------------------------------------------
    #: whether :meth:`create` made this folder's claim (``checkpoints/`` and ``.lock``)
    claimed = False

    def create(self, *, renumber: bool = False) -> RunDir:
        """Make the folder and claim it; an existing non-empty folder is never overwritten.

        The claim is atomic (``checkpoints/`` and ``.lock`` made exclusively): of two processes
        that create the same folder at once, one gets it and the other is refused, or with
        ``renumber`` (a name trainlab chose, not the user's ``--out``) takes the next free
        ``<name>-N``."""
        base = self.path
        while True:
            if not self._taken():
                make_folder(self.path)
                claim = self.path / "checkpoints"
                try:
                    claim.mkdir()
                except FileExistsError:  # another process claimed it between check and mkdir
                    pass
                except OSError as err:
                    raise UserError(
                        f"cannot create folder {claim}: {err.strerror}; pass another --out"
                    ) from None
                except BaseException:  # a Ctrl-C as checkpoints/ was made: undone (the
                    with contextlib.suppress(OSError):  # same path can be used again)
                        claim.rmdir()
                    raise
                else:  # and ``.lock``, which stays when a study removes checkpoints/
                    try:
                        os.close(os.open(self.path / ".lock", os.O_CREAT | os.O_EXCL, 0o644))
                        self.claimed = True
                    except FileExistsError:
                        claim.rmdir()
                    except BaseException:  # a Ctrl-C before the claim is whole: undone, so
                        self.claimed = False  # that the same path can be used again
                        (self.path / ".lock").unlink(missing_ok=True)  # (ours: checkpoints/
                        claim.rmdir()  # is)
                        raise
                    else:
                        return self
            if not renumber:
                break
            self.path = next_free_dir(base)
        writer = self.writer()
        if writer is not None:  # still training: resuming it would be refused too
            hint = f" (another trainlab process{writer} is writing it)"
        elif (self.path / "summary.json").is_file() and self.resumable:
            hint = f"; {complete_run(self.path)}"
        elif self.resumable:  # from its checkpoint or (killed in its first epoch) the start
            hint = f", or `{_resume_command(self.path)}` to continue it"
        else:
            hint = " (or move the old one away)"
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"{self.path} is a file, not a folder; pass a new --out")
        raise UserError(f"run directory {self.path} already exists; pass a new --out{hint}")

    def _taken(self) -> bool:
        return self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir()))

    @property
    def resumable(self) -> bool:
        """A training run (``config.yaml`` and ``population.json``), which ``resume`` continues."""
        return self.config_path.is_file() and (self.path / "population.json").is_file()

    def remove_partial_writes(self) -> list[Path]:
        """Delete the temporary files of atomic writes that a kill interrupted (a checkpoint's
        can be as big as the checkpoint itself); returns the paths removed. Call only while no
        other process writes to this run."""
        pattern = f".*{TEMP_SUFFIX}"
        folders = (self.path, self.checkpoint_path.parent, self.path / "figures")
        stale = [p for folder in folders for p in folder.glob(pattern)]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def require(self, who: str = "resume") -> RunDir:
        """Check that this is a run directory (for resume and report); ``who``: the caller's
        name in messages (``resume``, ``load_run``)."""
        if self.path.is_file():  # (checkpoints/last.pt: the training run's folder above it)
            run = enclosing_folder(self.path, lambda d: RunDir(d).resumable)
            other = enclosing_folder(self.path, lambda d: (d / "config.yaml").is_file())
            fix = (
                f"pass its run's folder ({run})" if run is not None
                else f"its folder ({other}) is no training run (no population.json): {who} "
                "takes a `trainlab train` run's folder" if other is not None
                else "pass a training run's folder"
            )  # fmt: skip
            raise UserError(f"{self.path} is a file; {fix}")
        if not (self.path / "config.yaml").is_file():
            # a study's folder: results.json (written last; the pretraining study's summary.json
            # with its "study" key) or its cells/ (a study stopped early)
            if (
                (self.path / "results.json").is_file()
                or (self.path / "cells").is_dir()
                or _study_summary(self.path / "summary.json")
            ):
                fix = (
                    "a study does not resume; run `trainlab study NAME` again (with another --out)"
                    if who == "resume"
                    else f"{who} takes a training run's folder (a study's cells/ hold them)"
                )
                raise UserError(f"{self.path} is a study's folder, not a training run: {fix}")
            if not self.path.exists():
                raise UserError(
                    f"not a run directory: {self.path} (no such directory); pass a run's folder"
                )
            raise UserError(f"not a run directory: {self.path} (no config.yaml)")
        return self

    # -- files ----------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def diagnostics_path(self) -> Path:
        return self.path / "diagnostics.jsonl"

    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.path / name, text)

    def discard(self, *, keep_folder: bool) -> None:
        """Remove what a run wrote, the claim included, so that the same path can be used
        again; ``keep_folder``: a folder that existed before (empty) stays, emptied. The
        writer lock this object holds is released."""
        self.unlock()
        if not keep_folder:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for child in self.path.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_text(self.path / name, json.dumps(to_jsonable(obj), indent=2) + "\n")

    def read_json(self, name: str) -> Any:
        from .report.rundata import read_json

        return read_json(self.path / name, what=f"; is {self.path} a complete run directory?")

    def append_jsonl(self, path: Path, rows: list[dict[str, Any]]) -> None:
        """Append rows and fsync: a kill leaves at most one partial last line. NaN/Inf become
        null (standard JSON; diagnostics name theirs: :mod:`trainlab.report.jsonl`)."""
        if not rows:
            return
        rows = to_jsonable(rows)
        text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows)
        try:
            with open(path, "a") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:  # (a partial last line is what a kill leaves too: readers skip it)
            raise err if err.filename is not None else named(err, path) from err

    def append_metrics(self, rows: list[dict[str, Any]]) -> None:
        self.append_jsonl(self.metrics_path, rows)

    def read_metrics(self) -> list[dict[str, Any]]:
        """Complete lines of ``metrics.jsonl`` (a partial last line from a kill is dropped)."""
        return _read_jsonl(self.metrics_path)

    def kept_rows(self, path: Path, key: str, last: float) -> list[dict[str, Any]] | None:
        """The rows of a JSONL file whose number ``key`` (a row without one: 0) is at most
        ``last``; None if there is no file. A corrupt line, or a ``key`` that is not a number,
        is a UserError; the torn last line of a kill is skipped."""
        if not path.exists():
            return None
        from .report.rundata import check_numbers

        rows = _read_jsonl(path)
        check_numbers(path, rows, (), (key,))
        return [r for r in rows if r.get(key, 0) <= last]

    def rewrite_jsonl(self, path: Path, rows: list[dict[str, Any]] | None) -> None:
        """Write ``rows`` to a JSONL file atomically (None: leave the path as it is), as
        :meth:`append_jsonl` writes them (NaN/Inf as null)."""
        if rows is not None:
            rows = to_jsonable(rows)
            atomic_write_text(path, "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows))

    # -- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """Atomically write ``checkpoints/last.pt`` (tensors, numbers, strings, lists, dicts),
        streamed to disk (no second copy of the checkpoint in memory)."""
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(self.checkpoint_path) as f, _crc32_on():
            try:
                torch.save(state, f)
            except RuntimeError as err:
                # torch's zip writer raises its own "unexpected pos" over what stopped its
                # write(): raise that. A Ctrl-C (or SIGTERM, raised as one): the run says how
                # to resume; a full disk (OSError): atomic_open names it, the CLI prints one line
                stop = in_chain(err, KeyboardInterrupt) or in_chain(err, OSError)
                if stop is None:
                    raise
                raise stop from None

    def load_checkpoint(self, map_location: str | torch.device = "cpu") -> dict[str, Any] | None:
        """The last checkpoint, loaded with ``weights_only=True``; None if there is none."""
        if not self.checkpoint_path.exists():
            return None
        try:
            damaged = _damaged_entry(self.checkpoint_path)
            if damaged is not None:
                raise UserError(
                    f"checkpoint {self.checkpoint_path} is corrupt: the bytes of {damaged} no "
                    "longer match their checksum (changed on disk since it was written); "
                    "delete it to restart the run from scratch"
                )
            state = torch.load(self.checkpoint_path, map_location=map_location, weights_only=True)
        except UserError:
            raise
        except Exception as err:  # truncated or foreign file
            state, why = None, type(err).__name__
        else:  # a file torch reads may still be foreign: a trainlab checkpoint holds these
            why = "not a trainlab checkpoint"
            if isinstance(state, dict) and {"epoch", "step", "population"} <= state.keys():
                return state
        raise UserError(
            f"checkpoint {self.checkpoint_path} cannot be read ({why}); "
            "it may be corrupt: delete it to restart the run from scratch"
        )


@contextlib.contextmanager
def _crc32_on() -> Iterator[None]:
    """``torch.save`` with the CRC-32 of every entry computed (torch's default, which
    ``torch.serialization.set_crc32_options(False)`` turns off), restored afterwards: the
    checksums are what :func:`_damaged_entry` checks at resume."""
    ser = torch.serialization
    get, set_ = getattr(ser, "get_crc32_options", None), getattr(ser, "set_crc32_options", None)
    if get is None or set_ is None or get():  # (a torch without the option computes them)
        yield
        return
    set_(True)
    try:
        yield
    finally:
        set_(False)


def _damaged_entry(path: Path) -> str | None:
    """The first entry of a checkpoint (a zip archive) whose bytes fail their CRC-32, or None.

    ``torch.load`` checks no checksum: a flipped bit in a weight loads as a wrong number and a
    resumed run would go on from it silently. Reads the whole file once (~1 GB/s). An archive
    whose entries all carry a CRC of 0 was written without checksums and is not checked; a
    file that is not a zip archive is left to ``torch.load`` to refuse.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if not any(i.CRC for i in infos if i.file_size):
                return None
            return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Complete rows of a JSONL file; the partial last line of a killed run is skipped."""
    from .report.rundata import read_jsonl

    return read_jsonl(path)


def _holder(fd: int) -> str:
    """``" (pid N)"`` from a ``.lock`` file's content (the pid its holder wrote), else ``""``."""
    text = os.read(fd, 32).decode(errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""
