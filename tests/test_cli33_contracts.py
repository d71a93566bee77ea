"""cli33 review: the CLI's handling of a second Ctrl-C while it exits after the first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


# A second Ctrl-C while trainlab exits after the first (the user presses it twice, the usual
# reaction to a run that does not stop at once) prints a Python traceback: after
# `_exit_interrupted` (src/trainlab/cli/app.py) has printed "interrupted; continue the run
# with `trainlab resume DIR`" and called sys.exit(130), `_SigtermAsInterrupt.__exit__` puts
# back Python's default_int_handler, so the next SIGINT raises KeyboardInterrupt inside the
# interpreter's exit, in torch's atexit finalizers
# ("Exception ignored in atexit callback ... Traceback ... KeyboardInterrupt"; reproduced with
# a real `trainlab train`, two SIGINTs 5-20 ms apart). The CLI promises one clean line and
# exit 130 after Ctrl-C; once it has decided to exit, a further SIGINT has nothing left to
# stop and should be ignored (SIGINT/SIGTERM set to SIG_IGN when main exits 130/143).
# The test makes the first Ctrl-C deterministic (the training raises KeyboardInterrupt) and
# delivers the second from an atexit handler, i.e. during the exit, as torch's finalizers are.
def test_second_ctrl_c_during_exit_prints_no_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {name: digits}\ntrain: {epochs: 1}\n")
    code = textwrap.dedent(
        f"""
        import atexit, os, signal, sys, time
        import trainlab.train as t

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt  # the first Ctrl-C, in the middle of the training

        t.train = interrupted

        def second_ctrl_c():  # the user presses Ctrl-C again while the process exits
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)

        atexit.register(second_ctrl_c)
        from trainlab.cli import main
        sys.argv = ["trainlab", "train", {str(cfg)!r}, "--out", {str(tmp_path / "run")!r}]
        main()
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert "interrupted" in proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
