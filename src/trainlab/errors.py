"""Errors for people: one line that names the problem and the fix."""

from __future__ import annotations

import contextlib
import difflib
import numbers
import reprlib
import shlex
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "UserError",
    "ConfigError",
    "DataError",
    "unknown_name",
    "did_you_mean",
    "short_repr",
    "describe_change",
    "shell_path",
    "resume_command",
    "on_interrupt",
    "NO_RUN_YET",
    "reporting",
    "complete_run_note",
    "note_interrupt",
    "note_complete",
    "complete_fallback",
    "out_of_memory",
    "interrupt_note",
    "in_chain",
]

_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 8
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlevel = 3


class UserError(ValueError):
    """A mistake in what the user asked for (config, file, name, shape).

    The CLI prints ``str(err)`` on one line and exits with status 2, without a traceback.
    """


class ConfigError(UserError):
    """An invalid configuration: unknown key, wrong type, value out of range."""


class DataError(UserError):
    """A missing, truncated or corrupt data file, or data of the wrong shape."""


def _scalar(value: Any) -> Any:
    """A 0-d numpy array or torch tensor as its Python number; anything else as it is."""
    if hasattr(value, "dtype") and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def whole_number(value: Any) -> int | None:
    """``value`` as an int if it is a whole number a user may pass (an int, a numpy integer, a
    0-d integer tensor; not a bool, not a float), else None."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def real_number(value: Any) -> float | None:
    """``value`` as a float if it is a real number a user may pass (an int or float, a numpy
    scalar, a 0-d tensor; not a bool), else None."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def short_repr(value: Any) -> str:
    """``repr(value)`` cut for a one-line message: at most 8 items of a list or dict (then
    ``...``), strings to 80 characters: a 1000-seed list must not fill the screen."""
    return _SHORT.repr(value)


def describe_change(before: Any, after: Any) -> str:
    """``before -> after`` in a few words: both values when they are short (``[8] -> [16]``);
    for two long lists, the first item that differs and how many do (``item 999: 999 -> 1999
    (1 of 1000 changed)``); else the two values cut short."""
    shown = f"{short_repr(before)} -> {short_repr(after)}"
    if shown == f"{before!r} -> {after!r}" and len(shown) <= 80:
        return shown
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        if keys and all(k in before and k in after for k in keys[:1]):
            return f"{keys[0]}: {describe_change(before[keys[0]], after[keys[0]])}"
    if isinstance(before, list) and isinstance(after, list):
        diff = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
        if len(before) == len(after) and diff:
            i = diff[0]  # (a nested value is described the same way, down to what differs)
            inner = describe_change(before[i], after[i])
            return f"item {i}: {inner} ({len(diff)} of {len(before)} changed)"
        if len(before) != len(after):
            return f"{len(before)} items -> {len(after)} items ({short_repr(after)})"
    return shown


def shell_path(path: str | Path) -> str:
    """``path`` as a shell word to paste into a suggested command: quoted when it holds spaces or
    other special characters (``'my run'``), and ``./``-prefixed when it starts with ``-``, so
    that it is not read as an option."""
    text = str(path)
    if text.startswith("-"):
        text = f"./{text}"
    return shlex.quote(text)


def resume_command(path: str | Path, *, model: bool = False, dataset: bool = False) -> str:
    """The command that continues the run in ``path``: ``trainlab resume DIR``, or for a run
    given its own module (``model``) or data (``dataset``), :func:`trainlab.train.resume` from
    Python with them (the CLI cannot rebuild them)."""
    given = [
        arg
        for arg, on in (("model=the_same_module", model), ("dataset=the_same_dataset", dataset))
        if on
    ]
    if given:
        return f"trainlab.train.resume({str(path)!r}, {', '.join(given)})"
    return f"trainlab resume {shell_path(path)}"


def run_resume_command(path: str | Path, population: Any) -> str:
    """:func:`resume_command` for the run in ``path`` whose ``population.json`` holds
    ``population`` (its ``custom_model`` / ``custom_dataset`` flags; anything else: none)."""
    pop = population if isinstance(population, dict) else {}
    return resume_command(
        path, model=bool(pop.get("custom_model")), dataset=bool(pop.get("custom_dataset"))
    )


#: other libraries' names for what trainlab calls otherwise (torch.nn.init's ``kaiming_*_``,
#: Keras's ``glorot_*``): the hint names trainlab's, not the nearest spelling (Xavier for He)
KNOWN_AS = {
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
    "glorot_normal": "xavier_normal",
    "glorot_uniform": "xavier_uniform",
}


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice (or trainlab's name for another
    library's, :data:`KNOWN_AS`), or ``""`` if none is close."""
    lower = {str(c).lower(): str(c) for c in choices}
    known = KNOWN_AS.get(str(name).lower().rstrip("_"))
    if known in lower:
        return f" (did you mean '{lower[known]}'?)"
    close = difflib.get_close_matches(str(name).lower(), list(lower), n=1, cutoff=0.5)
    return f" (did you mean '{lower[close[0]]}'?)" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UserError:
    """Build the error for an unknown registry name: lists the choices, suggests the nearest."""
    choices = sorted(choices)
    return UserError(
        f"unknown {kind} '{name}'{did_you_mean(name, choices)}; choose one of: {', '.join(choices)}"
    )


#: the note of a Ctrl-C before a run's folder was made (or once a half-made one is removed)
NO_RUN_YET = "no run directory was made yet; run the command again"


@contextmanager
def on_interrupt(
    note: str | Callable[[], str | None], *, os_error: str | Callable[[], str] | None = None
) -> Iterator[None]:
    """Attach ``note`` (what became of the work, what to run next) to a Ctrl-C raised inside;
    the CLI prints ``interrupted; <note>`` (:func:`interrupt_note`). A callable ``note`` is
    asked when the Ctrl-C lands (what is true of a run folder then; None: nothing to add to
    what the code inside noted). ``os_error`` (a callable: asked when the error lands): what
    to run once an OSError inside (a full disk) is mended, attached to it as a note, which the
    CLI prints after "free space, then". An error raised over a Ctrl-C (library code that turned
    the interrupt into an error of its own while it cleaned up) is noted as the Ctrl-C."""
    try:
        yield
    except KeyboardInterrupt as err:
        _noted(err, note)
        raise
    except Exception as err:
        if in_chain(err, KeyboardInterrupt) is not None:
            _noted(err, note)
        elif isinstance(err, OSError) and os_error is not None:
            err.add_note(os_error() if callable(os_error) else os_error)
        raise


def _noted(err: BaseException, note: str | Callable[[], str | None]) -> None:
    try:
        text = note() if callable(note) else note
    except OSError:  # (a folder that cannot be read now: the interrupt stays one)
        text = None
    if text is not None:
        note_interrupt(err, text)


def reporting(run_dir: str | Path) -> contextlib.AbstractContextManager[None]:
    """:func:`on_interrupt` for a complete run while its report is written or its result
    printed: a Ctrl-C is noted with :func:`complete_run_note`, a full disk with ``trainlab
    report DIR``, which writes the report (both worded only when needed: nothing is computed
    before the block is entered). From here on the run is this command's complete run
    (:func:`note_complete`)."""
    note_complete(run_dir)
    return on_interrupt(
        lambda: complete_run_note(run_dir),
        os_error=lambda: (
            f"`trainlab report {shell_path(run_dir)}` writes the report of the complete run"
        ),
    )


def complete_run_note(run_dir: str | Path) -> str:
    """The note of a Ctrl-C that stops the command of a complete run (its ``summary.json``
    written): where its report is, or that ``trainlab report DIR`` writes it."""
    where, report = shell_path(run_dir), Path(run_dir) / "report.html"
    if report.is_file():  # (written whole or not at all)
        return f"the run {where} is complete; its report: {shell_path(report)}"
    return f"the run {where} is complete but has no report yet: `trainlab report {where}` writes it"


def note_interrupt(err: BaseException, note: str) -> None:
    """Attach ``note`` to ``err`` as :func:`on_interrupt` does (once: an outer handler that
    says the same adds nothing), for code that catches the interrupt itself (to clean up)
    before it re-raises it."""
    global _last_note
    if note not in (getattr(err, "__notes__", None) or []):
        err.add_note(note)
    _last_note = note


def note_complete(run_dir: str | Path) -> None:
    """Record ``run_dir`` as the run of the command being run, once complete or being reported:
    a Ctrl-C that no handler noted, as the command ends, is about it (:func:`complete_fallback`)."""
    global _last_complete
    _last_complete = Path(run_dir)


def complete_fallback() -> str | None:
    """:func:`complete_run_note` of the run :func:`note_complete` recorded, if it is complete
    (its ``summary.json``, a study's ``results.json``: ``trainlab report`` of a run killed
    midway also renders a report); else None."""
    run = _last_complete
    try:
        if run is None or not any((run / f).is_file() for f in ("summary.json", "results.json")):
            return None
        return complete_run_note(run)
    except OSError:
        return None


#: the note of the last Ctrl-C that :func:`on_interrupt` saw (click swallows the exception
#: itself and returns exit code 130 where the CLI calls it without its standalone mode); only
#: the text: the exception's traceback would keep a whole trainer's tensors alive
_last_note: str | None = None
#: the command's complete run (:func:`note_complete`)
_last_complete: Path | None = None


def interrupt_note(*, clear: bool = False) -> str | None:
    """The outermost :func:`on_interrupt` note of the last Ctrl-C (what the command the user ran
    says: a study's, not that of the training run inside it; notes are added from the inside
    out); None if none was noted. ``clear``: forget it, and the complete run
    :func:`note_complete` recorded (the CLI does before each command)."""
    global _last_note, _last_complete
    note = _last_note
    if clear:
        _last_note = _last_complete = None
    return note


def out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` says memory ran out: ``MemoryError``, ``torch.OutOfMemoryError`` (CUDA)
    or the CPU allocator's ``RuntimeError`` ("DefaultCPUAllocator: can't allocate memory")."""
    text = str(err)
    return (
        isinstance(err, MemoryError)
        or type(err).__name__ == "OutOfMemoryError"
        or "can't allocate memory" in text
        or "out of memory" in text.lower()
    )


def in_chain(err: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type ``kind`` among ``err`` and its causes and contexts (the error
    it hides, or the one it was raised while handling), or None."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None
