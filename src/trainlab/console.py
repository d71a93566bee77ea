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
from typing import ClassVar

from rich.console import Console


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
