"""The rich console trainlab prints to stdout with: one whose reader may go away.

``trainlab train CFG | head -1`` closes the pipe after the first line; rich's
``Console.on_broken_pipe`` then exits the program with status 1 and no word, killing a training
run in its first epoch. This console drops the rest of its output instead (stdout points at
``os.devnull`` from then on), says so once on stderr, and the command goes on: a run finishes
and writes its results to its run directory.
"""

from __future__ import annotations

import os
import sys
from typing import ClassVar

from rich.console import Console


class StdoutConsole(Console):
    """A :class:`rich.console.Console` on stdout that survives its reader leaving."""

    told: ClassVar[bool] = False  # the stderr line is said once per process

    def on_broken_pipe(self) -> None:
        try:  # stdout's descriptor writes to os.devnull: every writer's output is dropped
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # a stdout with no descriptor: this console goes quiet
            self.quiet = True  # (not always: a module's console outlives one closed stdout)
        if not StdoutConsole.told:
            StdoutConsole.told = True
            print(
                "trainlab: stdout was closed (its reader left); the rest of the output is "
                "dropped and the command goes on",
                file=sys.stderr,
            )
