"""The rich console trainlab prints to stdout with: one whose stdout may fail.

``trainlab train CFG | head -1`` closes the pipe after the first line; rich's
``Console.on_broken_pipe`` then exits the program with status 1 and no word, killing a training
run in its first epoch; stdout on a full disk (``> log`` there, ``> /dev/full``) or a hung-up
terminal raised an OSError that the CLI took for a failed write of the run's own files. This
console drops the rest of its output instead (stdout points at ``os.devnull`` from then on),
says why once on stderr, and the command goes on: a run finishes and writes its results to its
run directory.
"""

from __future__ import annotations

import os
import sys
from typing import ClassVar

from rich.console import Console


class StdoutConsole(Console):
    """A :class:`rich.console.Console` on stdout that survives stdout failing."""

    told: ClassVar[bool] = False  # the stderr line is said once per process

    def on_broken_pipe(self) -> None:
        self._drop_stdout("stdout was closed (its reader left)")

    def _write_buffer(self) -> None:
        try:
            super()._write_buffer()
        except BrokenPipeError:
            raise  # (rich's _check_buffer calls on_broken_pipe)
        except OSError as err:  # ENOSPC, EIO: the output cannot go anywhere
            del self._buffer[:]
            self._drop_stdout(f"stdout cannot be written ({err.strerror or err})")

    def _drop_stdout(self, why: str) -> None:
        try:  # stdout's descriptor writes to os.devnull: every writer's output is dropped
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # a stdout with no descriptor: this console goes quiet
            self.quiet = True  # (not always: a module's console outlives one closed stdout)
        if not StdoutConsole.told:
            StdoutConsole.told = True
            print(
                f"trainlab: {why}; the rest of the output is dropped and the command goes on",
                file=sys.stderr,
            )
