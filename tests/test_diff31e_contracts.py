"""Review diff31e: commits 864f997..8b2e6b5 (from_models order, stdout reconfigure, threads)."""

from __future__ import annotations

import collections
import io
import sys
import threading

import torch
from torch import nn

TINY = "name: t\nmodel: {name: mlp, hidden: [4]}\ntrain: {epochs: 1, batch_size: 256}\n"


# population.from_models now compares sorted(_architecture(...)), i.e. ignores the order in
# which submodules were registered. For an nn.Sequential (and a ModuleDict iterated in forward)
# that order IS the order the layers run in: a Sequential(a, b) and a Sequential(b, a) with
# the same names are accepted, the population is built from model 0's structure, and model 1
# runs its layers in model 0's order. Its population output must equal model1(x) (each model
# keeps its function, DESIGN principle 2); it does not. Models whose Sequential order differs
# must be refused (or their order honoured).
def test_from_models_keeps_each_sequentials_layer_order():
    from trainlab.errors import UserError
    from trainlab.population import Population

    torch.manual_seed(0)
    m0 = nn.Sequential(collections.OrderedDict([("a", nn.Linear(4, 4)), ("b", nn.Linear(4, 4))]))
    m1 = nn.Sequential(collections.OrderedDict([("b", nn.Linear(4, 4)), ("a", nn.Linear(4, 4))]))
    x = torch.randn(3, 4)
    try:
        pop = Population.from_models([m0, m1])
    except UserError:
        return  # refusing models that run their layers in another order is right too
    with torch.no_grad():
        out = pop(x.expand(2, 3, 4))
        assert torch.allclose(out[0], m0(x), atol=1e-6)
        assert torch.allclose(out[1], m1(x), atol=1e-6)  # actual: m1's layers in m0's order


# cli/app.py main() now reconfigures sys.stdout with errors="backslashreplace" whatever its
# error handler was. In Python's UTF-8 mode (PYTHONUTF8=1, or the C/POSIX locale of a bare
# container) stdout uses "surrogateescape": a path holding a non-UTF-8 byte (os.fsdecode gives
# '\udcff') was printed as that byte, the real name. Now `trainlab train` prints
# "run directory: runs/r\udcff", a folder that does not exist (cd/ls on the printed path
# fail). Only a "strict" stream (which would crash) should be switched to backslashreplace.
def test_utf8_mode_stdout_keeps_surrogateescape_for_a_non_utf8_run_name(monkeypatch, tmp_path):
    from trainlab.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(TINY)
    out_b = io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", errors="surrogateescape", write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(
        sys,
        "argv",
        ["trainlab", "train", "c.yaml", "--set", "name=r\udcff", "--no-report", "--device", "cpu"],
    )
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None)
    monkeypatch.undo()
    assert (tmp_path / "runs" / "r\udcff").is_dir()
    assert b"runs/r\xff" in out_b.getvalue(), out_b.getvalue()[-200:]  # actual: runs/r\\udcff


# threads.torch_threads' new `first` rule at close (depth 0, before != _DEFAULT, before in
# _EVER) takes any count that some earlier, long-closed block once used for an inherited one.
# A thread whose user deliberately called torch.set_num_threads(2) while another thread's fit
# is running gets 3 (the recorded default) back after its own fit, not its 2: only because a
# fit earlier in the process happened to use 2. The previous count of the thread must be
# restored (the docstring: "the previous count is restored afterwards").
def test_a_threads_own_count_survives_its_block_while_another_block_is_open():
    from trainlab.threads import torch_threads

    orig = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        with torch_threads(2):  # an earlier fit that used 2 threads (now closed)
            pass
        opened, done = threading.Event(), threading.Event()
        seen: dict[str, int] = {}

        def other_fit() -> None:
            with torch_threads(1):
                opened.set()
                done.wait(5)

        def user_thread() -> None:
            opened.wait(5)
            torch.set_num_threads(2)  # this thread's own choice
            with torch_threads(1):
                pass
            seen["after"] = torch.get_num_threads()
            done.set()

        a, b = threading.Thread(target=other_fit), threading.Thread(target=user_thread)
        a.start()
        b.start()
        a.join()
        b.join()
        assert seen["after"] == 2  # actual: 3
    finally:
        torch.set_num_threads(orig)
