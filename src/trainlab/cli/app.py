"""The typer application and the error policy shared by every command."""

from __future__ import annotations

import codecs
import contextlib
import errno
import functools
import re
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from ..console import CliConsole, FailSafeConsole
from ..errors import UserError, complete_fallback, in_chain, interrupt_note, out_of_memory

__all__ = [
    "app",
    "main",
    "console",
    "err_console",
    "parse_seeds",
    "with_seeds",
    "whole_number",
    "escape",
]

app = typer.Typer(
    name="trainlab",
    help="Study how neural networks train: populations of many seeds, diagnostics, studies.",
    no_args_is_help=True,
    add_completion=False,
    # click's plain help: rich's tables cut option names short in a narrow terminal
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
#: ``--set KEY=VALUE`` (repeatable), as every command that reads a config takes it
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", help="override a config key (repeatable)"),
]
# names and paths print as written: ":vs:" in a run name is text, not an emoji code, and a
# long path stays on one line in a log file (soft wrap there; tables still fit the width)
console = CliConsole(emoji=False)
err_console = FailSafeConsole(stderr=True, emoji=False)  # (a stderr that fails: dropped)


#: --seeds never expands to more models than this (a typo like 0-1000000000 would not fit):
#: config.MAX_MODELS, written out so that `trainlab --help` does not import the config (pydantic)
MAX_SEEDS = 100_000
#: OSErrors of the machine rather than of a path: one line, not a traceback, in every case
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def home(value: Path | None) -> Path | None:
    """A path argument as the shell reads one: a leading ``~`` expanded, also where the shell
    leaves it (``--out=~/runs/x``, a quoted path, a path from a variable), as data paths are
    (:func:`trainlab.data.readers.expand_home`). A typer callback."""
    from ..data.readers import expand_home

    return None if value is None else expand_home(value)


def whole_number(option: str, text: str | None) -> int | None:
    """A count option's text as an int, digits only; None stays None. (Count options are read
    as text: typer's int read "0-10" as -10 and printed a usage block for "2.5".)"""
    if text is None:
        return None
    if not re.fullmatch(r"[0-9]+", text.strip()):  # (str.isdigit takes '²', which int refuses)
        raise UserError(f"{option} takes a whole number (e.g. {option} 10), got '{text}'")
    return int(text)


def with_seeds(set_: list[str] | None, seeds: str | None) -> list[str | tuple[str, list[int]]]:
    """The ``--set`` items, and ``--seeds`` as a parsed ``population.seeds`` pair after them; a
    ``--set population.seeds=...`` beside ``--seeds`` is refused (one of them would be dropped)."""
    from ..config import keys_given

    sets: list[str | tuple[str, list[int]]] = list(set_ or [])
    if seeds is not None:  # (also seeds inside a section's value: --set population={seeds: [4]})
        if "population.seeds" in keys_given(sets):
            raise UserError(
                "--seeds and --set population.seeds both give the seeds; give them one way"
            )
        sets.append(("population.seeds", parse_seeds(seeds)))
    return sets


def parse_seeds(text: str | None) -> list[int] | None:
    """``"0-9"`` -> [0..9]; ``"1,3,5"`` -> [1, 3, 5]; ``"0-2,5"`` -> [0, 1, 2, 5]; ``"4"`` ->
    [0, 1, 2, 3] (a lone number is a count; inside a list it is a seed)."""
    if text is None:
        return None
    text = text.strip()
    parts = text.split(",")
    if len(parts) == 1 and re.fullmatch(r"[+-]?\d+", text):  # a count (-5: refused as one)
        count = _seed_int(text, text)
        if count < 1:
            raise UserError(f"--seeds {text}: a count needs at least 1 model (seed 0 alone: '0-0')")
        if count > MAX_SEEDS:
            raise UserError(
                f"--seeds {text}: {count} models is more than {MAX_SEEDS}; ask for fewer"
            )
        return list(range(count))
    seeds: list[int] = []
    for part in (p.strip() for p in parts):
        if not part:
            raise UserError(f"--seeds '{text}' has an empty item; write e.g. '1,3,5' or '0-2,5'")
        span = re.fullmatch(r"(-?\d+)\s*-\s*(-?\d+)", part)  # (negative seeds: '-3--1')
        if span is not None:
            lo, hi = _seed_int(span[1], text), _seed_int(span[2], text)
            if hi < lo:
                raise UserError(
                    f"--seeds '{text}': '{part}' runs backwards; write the range low-high: "
                    f"'{hi}-{lo}'"
                )
            if hi - lo + 1 + len(seeds) > MAX_SEEDS:
                raise UserError(f"--seeds {text}: more than {MAX_SEEDS} models; ask for fewer")
            seeds += range(lo, hi + 1)
        else:
            seeds.append(_seed_int(part, text))
            if len(seeds) > MAX_SEEDS:
                raise UserError(f"--seeds {text}: more than {MAX_SEEDS} models; ask for fewer")
    seen: set[int] = set()
    for seed in seeds:
        if seed in seen:
            raise UserError(f"--seeds '{text}' names seed {seed} twice; give each once")
        seen.add(seed)
    return seeds


def _seed_int(part: str, text: str) -> int:
    try:
        if not re.fullmatch(r"\s*[+-]?\d+\s*", part):  # (int() also reads '1_000')
            raise ValueError(part)
        return int(part)
    except ValueError:
        raise UserError(
            f"--seeds '{text}' is not understood; "
            "write a range '0-9', a list '1,3,5' (or '0-2,5') or a count '4'"
        ) from None


#: click's ClickException (usage errors, bad options), wherever this typer takes click from:
#: recent typer versions vendor it as ``typer._click``, older ones depend on ``click``
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _exit_interrupted() -> NoReturn:
    """Say what the interrupted command noted (:func:`trainlab.errors.on_interrupt`: the run
    folder to resume, ...); else, where no handler was, what is true: the command's complete
    run (:func:`trainlab.errors.complete_fallback`), that the command had finished, or that
    nothing was written. Exit 130 after Ctrl-C, 143 after a SIGTERM (a batch system's time
    limit or cancel), also as the command ends: the signal arrived (what a shell or a batch
    system tells from the status)."""
    what = "terminated (SIGTERM)" if _sigterm.hit else "interrupted"
    note = (
        interrupt_note()
        or complete_fallback()
        or (
            "the command had finished; nothing was stopped"  # (as main() returns)
            if _finished
            else "nothing was written to continue from; run the command again"
        )
    )
    err_console.print(escape(f"{what}; {note}"), soft_wrap=True, highlight=False)
    _ignore_signals_at_exit()
    sys.exit(143 if _sigterm.hit else 130)


@functools.cache
def _ignore_signals_at_exit() -> None:
    """When the process exits, before torch's atexit finalizers (atexit runs last-registered
    first), ignore SIGINT/SIGTERM: a second Ctrl-C (pressed twice) has nothing left to stop,
    and raised in a finalizer it printed a traceback after the one-line note. Registered once,
    at the interpreter's exit only: a process that goes on after main() (IPython's ``%run``)
    keeps its handlers."""
    import atexit

    def ignore() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):  # (not the main thread)
                signal.signal(sig, signal.SIG_IGN)

    atexit.register(ignore)


class _SigtermAsInterrupt:
    """While active (main thread only), SIGTERM raises KeyboardInterrupt, so that a run stopped
    by a batch system (Slurm sends SIGTERM at its time limit) cleans up and says how to resume
    as after Ctrl-C; the previous handler comes back afterwards. Both signals are recorded
    (``hit``: SIGTERM, ``interrupted``: either): a KeyboardInterrupt that library code turned
    into another error (an import it cut short, Python's ``__set_name__``) still ends as one."""

    hit = False
    interrupted = False

    def __enter__(self) -> None:
        self.hit, self.interrupted, self.previous = False, False, {}
        if threading.current_thread() is threading.main_thread():
            self.previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._handle)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # (not ignored)
                self.previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.interrupted = True
        self.hit = self.hit or signum == signal.SIGTERM
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self.previous.items():
            if previous is not None:
                signal.signal(sig, previous)


_sigterm = _SigtermAsInterrupt()


def main() -> None:
    """Entry point: run the app; a UserError becomes one line on stderr and exit status 2,
    a usage error click's usage message and 2, Ctrl-C a hint and 130 (SIGTERM: 143)."""
    global _finished
    _finished = False  # (what an earlier command of this process left: forgotten first)
    interrupt_note(clear=True)
    try:
        _guarded_main()
    except KeyboardInterrupt:  # (as main starts or ends, outside _main's handlers)
        _exit_interrupted()
    finally:  # (and again as it ends: a process that runs main() again, IPython's %run)
        _finished = False
        interrupt_note(clear=True)


#: whether the command has returned (a Ctrl-C after it, as main() ends, stops nothing)
_finished = False


def _guarded_main() -> None:
    for stream in (sys.stdout, sys.stderr):  # text a non-UTF-8 stream cannot encode (a run
        with contextlib.suppress(AttributeError, ValueError, OSError, LookupError):  # named
            # 日本 on Latin-1, a table's ± on the C locale's ASCII) is escaped, not a crash
            # mid-run; UTF-8 encodes everything (UTF-8 mode's surrogateescape is kept; a
            # StringIO has no encoding: it takes any text)
            utf8 = codecs.lookup(stream.encoding or "utf-8").name == "utf-8"
            if stream.errors == "strict" or not utf8 and stream.errors == "surrogateescape":
                stream.reconfigure(errors="backslashreplace")
    with _sigterm, _warnings_as_lines():
        try:
            _main()
        except Exception as err:  # (a user error or an interrupt has exited in _main)
            if _sigterm.interrupted or in_chain(err, KeyboardInterrupt):
                _exit_interrupted()  # (an interrupt that library code turned into this)
            raise


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """A warning a command meets prints as one line on stderr, ``warning: ...``, not as
    Python's ``FILE:LINE: UserWarning: ...`` with a quoted line of trainlab's source."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        what = "warning" if category is UserWarning else f"warning ({category.__name__})"
        err_console.print(
            f"[yellow]{what}:[/] {escape(str(message))}", highlight=False, soft_wrap=True
        )

    previous, warnings.showwarning = warnings.showwarning, show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _takes_out() -> bool:
    """Whether the command being run has an ``--out`` option (resume and report do not)."""
    import typer.main

    name = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    command = getattr(typer.main.get_command(app), "commands", {}).get(name)
    return command is not None and any("--out" in p.opts for p in command.params)


def _printing_help(err: BaseException) -> bool:
    """Whether ``err`` was raised while click printed ``--help`` (its ``show_help``)."""
    return any(f.name == "show_help" for f in traceback.extract_tb(err.__traceback__))


def _main() -> None:
    global _finished
    try:
        code = app(standalone_mode=False)
        _finished = code in (None, 0)
    except UserError as err:  # escaped: '[key]' in a message is text, not rich markup
        err_console.print(
            f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except FileNotFoundError as err:
        err_console.print(
            f"[bold red]error:[/] file not found: {escape(str(err.filename))}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except OSError as err:  # a path the user gave cannot be written (a parent is a file, …)
        full = err.errno in _DISK_ERRNOS  # the machine, not the path: disk full, I/O error
        if full and err.filename is None and _printing_help(err):  # (stdout on a full disk:
            console.on_failed_write(err)  # no file of trainlab's, as for any other output)
            sys.exit(0)
        if err.filename is None and not full:
            raise
        what = f" {escape(str(err.filename))}" if err.filename is not None else ""
        fix = "pass another path"
        then = (getattr(err, "__notes__", None) or ["run it again"])[-1]  # e.g. resume DIR
        if err.errno == errno.EROFS:  # (a read-only mount: no space to free)
            where = "--out, or a copy" if _takes_out() else "a copy of the run folder"
            fix = f"what was written before is intact; use a writable folder ({where})"
        elif err.errno in (errno.EACCES, errno.EPERM):  # (resume and report take no path)
            fix = "no permission to write there; fix the folder's permissions or use a copy"
        elif full:
            fix = f"what was written before is intact; free space (or fix the disk), then {then}"
        err_console.print(
            f"[bold red]error:[/] cannot {'write' if full else 'use'}{what}: "
            f"{escape(str(err.strerror or err))}; {escape(fix)}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        _exit_interrupted()
    except typer.Exit as exc:  # (click's Exit and Abort are RuntimeErrors: caught before them)
        sys.exit(exc.exit_code)
    except typer.Abort:
        _exit_interrupted()
    except (MemoryError, RuntimeError) as err:  # torch.OutOfMemoryError is a RuntimeError
        if not out_of_memory(err):
            raise
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        kept = "".join(f" ({note})" for note in getattr(err, "__notes__", None) or [])
        err_console.print(
            f"[bold red]error:[/] out of memory ({escape(first[:200])}); train fewer or "
            f"smaller models, or on a device with more memory{escape(kept)}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except _CLICK_ERROR as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit as exc:  # click's exit on an EPIPE of help into a pipe whose reader
        cause = exc.__context__  # left: no failure, as for every other command's output
        if exc.code != 1 or not (isinstance(cause, OSError) and _printing_help(cause)):
            raise  # (an EPIPE of another pipe, in a command: a failure, exit 1)
        console.on_broken_pipe()
        sys.exit(0)
    if isinstance(code, int) and code:  # click returns Ctrl-C as 130 when not standalone
        if code == 130:
            _exit_interrupted()
        sys.exit(code)
