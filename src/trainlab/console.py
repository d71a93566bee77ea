"""The rich consoles trainlab prints with: ones whose stream may fail.

``trainlab train CFG | head -1`` closes the pipe after the first line; rich's
``Console.on_broken_pipe`` then exits the program with status 1 and no word, killing a training
run in its first epoch; stdout on a full disk (``> log`` there, ``> /dev/full``) or a hung-up
terminal raised an OSError that the CLI took for a failed write of the run's own files. These
consoles drop the rest of their output instead (the stream's descriptor points at
``os.devnull`` from then on), say why once on stderr (if stderr can still be written: ``2>&1 |
head`` closes both), and the command goes on: a run finishes and writes its results to its
run directory.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, ClassVar

from rich.console import Console, ConsoleDimensions


class FailSafeConsole(Console):
    """A :class:`rich.console.Console` (on stdout, or on stderr with ``stderr=True``) that
    survives its stream failing."""

    told: ClassVar[bool] = False  # the stderr line is said once per process

    def on_broken_pipe(self) -> None:
        self._drop_output("was closed (its reader left)")

    def on_failed_write(self, err: OSError) -> None:
        """Another writer's failure on this console's stream (ENOSPC, EIO: click printing
        ``--help`` into ``> /dev/full``): the rest of the output is dropped, as for its own."""
        self._drop_output(f"cannot be written ({err.strerror or err})")

    def _write_buffer(self) -> None:
        try:
            super()._write_buffer()
        except BrokenPipeError:
            raise  # (rich's _check_buffer calls on_broken_pipe)
        except OSError as err:  # ENOSPC, EIO: the output cannot go anywhere
            del self._buffer[:]
            self.on_failed_write(err)

    def _drop_output(self, why: str) -> None:
        stream = sys.stderr if self.stderr else sys.stdout
        try:  # the stream's descriptor writes to os.devnull: every writer's output is dropped
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # a stream with no descriptor: this console goes quiet
            self.quiet = True  # (not always: a module's console outlives one closed stream)
        if not self.stderr and not FailSafeConsole.told:
            FailSafeConsole.told = True
            with contextlib.suppress(OSError, ValueError):  # (stderr gone too: 2>&1 | head)
                print(
                    f"trainlab: stdout {why}; the rest of the output is dropped and the "
                    "command goes on",
                    file=sys.stderr,
                )


class TableOrLines:
    """A rich renderable: ``table`` where the console is wide enough for it, else ``lines``
    (one per row, wrapped between words): a folded table split ``0.8914 ± 0.0079`` into lines
    that read as other numbers (``0.891``, ``4 ±``), and ``optim.lr=0.001`` into
    ``optim.lr=0.0``, ``01``.

    Wide enough: for the table unwrapped (its widest measure); with ``wrap=True``, for its
    narrowest measure, where each column that may wrap (``no_wrap=False``) is as wide as its
    longest word (the others whole): rich then wraps those between words only."""

    def __init__(self, table: Any, lines: list[Any], *, wrap: bool = False) -> None:
        self.table, self.lines, self.wrap = table, lines, wrap

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        wide = options.update_width(1 << 16)  # (measured unclamped: at most the width given)
        if self.wrap:  # rich measures a column's narrowest as its longest word, no_wrap or not:
            for column in self.table.columns:  # a no_wrap cell with spaces needs all its width
                if column.no_wrap:
                    cells = (column.header, *column.cells)
                    column.min_width = max(Measurement.get(console, wide, c).maximum for c in cells)
        measure = Measurement.get(console, wide, self.table)  # (rich folds any column it
        # narrows below its longest word, a group label too)
        need = measure.minimum if self.wrap else measure.maximum
        if need <= options.max_width:
            yield self.table
        else:
            yield from self.lines


class CliConsole(FailSafeConsole):
    """The CLI's stdout console: in a log file or a pipe a long line stays one line (a path, a
    summary line: whole for grep), in a terminal it wraps between words at the terminal's width
    (the terminal itself would break it at any character, mid-number)."""

    @property  # (rich reads ``soft_wrap`` at each print: a console made at import time)
    def soft_wrap(self) -> bool:
        try:  # the stream itself, not rich's is_terminal (FORCE_COLOR makes any stream one)
            return not self.file.isatty()
        except (AttributeError, ValueError, OSError):  # (no isatty, a closed stream)
            return True

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:  # (Console.__init__ sets it: the stream decides)
        pass

    #: the width a log file or a pipe gets: a table too (its rows whole, not wrapped at 80)
    LOG_WIDTH = 1 << 12

    @property
    def size(self) -> ConsoleDimensions:
        """Rich's size, but in a log file or a pipe :data:`LOG_WIDTH` wide unless a width was
        set (``COLUMNS``, or ``console.width = …``): rich took a terminal's width from stdin
        or stderr, or 80, and wrapped a table's cells across lines there."""
        size = Console.size.fget(self)
        if self._width is None and self.soft_wrap:
            return ConsoleDimensions(self.LOG_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)
