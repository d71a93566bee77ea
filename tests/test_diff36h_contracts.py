"""Review diff36h: defects in this session's source diff (e717e3a..HEAD)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


# cli/app.py `_main`'s new `except SystemExit` turns click's exit 1 after an EPIPE into exit 0
# plus "stdout was closed (its reader left) ... the command goes on", keyed only on click having
# wrapped sys.stdout in a PacifyFlushWrapper. But click (typer.core._main) does that for ANY
# OSError with errno EPIPE raised inside the command, not only for its --help going into a
# closed pipe: a BrokenPipeError from another pipe (a worker's or child process's pipe, a
# socket, a FIFO) ends the command, and trainlab now reports success (exit 0) with a false
# message, while stdout (here an open pipe) is still fine and gets redirected to /dev/null.
# Before this change (e717e3a) the exit status was 1. Expected: a failure exit status (non-0)
# and no claim that stdout's reader left. Fix: only treat it as stdout's EPIPE where the
# OSError in the SystemExit's __context__ was raised while printing help (_printing_help, as
# the ENOSPC branch checks) or by a write to sys.stdout.
def test_epipe_from_another_pipe_is_not_reported_as_stdout_closed_exit_0() -> None:
    code = textwrap.dedent(
        """
        import errno, sys
        import trainlab.data

        def boom():  # a pipe other than stdout breaks inside the command
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        trainlab.data.list_datasets = boom
        sys.argv = ["trainlab", "datasets"]
        from trainlab.cli.app import main
        main()
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "reader left" not in proc.stderr
    assert proc.returncode != 0
