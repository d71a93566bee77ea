"""Review mut39h: the small modules (console, devices, threads, malloc, registry, report/jsonl,
demo), each test pinned to a mutant that survived the existing tests. Expected values come from
docstrings/README, rich's own rendering, difflib, glibc's <malloc.h> and hand computation."""

from __future__ import annotations

import difflib
import io
import json
import math
import platform
import sys

import numpy as np
import pytest
import torch
from rich.console import Console
from rich.table import Table

from trainlab.errors import UserError


# ----------------------------------------------------------------------------- console
def _render(renderable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


def _widest(table: Table) -> int:
    """The table's full width as rich itself renders it (no wrapping at 500 columns)."""
    return max(len(line) for line in _render(table, 500).splitlines())


def _one_column() -> Table:
    t = Table("header")
    t.add_row("0.8914 ± 0.0079")
    return t


# Kills console.py:89 `need <= options.max_width` -> `<`: "wide enough" for the unwrapped table
# is a console exactly as wide as rich renders it.
def test_table_or_lines_shows_a_table_exactly_as_wide_as_the_console():
    from trainlab.console import TableOrLines

    w = _widest(_one_column())
    at = _render(TableOrLines(_one_column(), ["LINES"]), w)
    assert "0.8914 ± 0.0079" in at and "LINES" not in at
    below = _render(TableOrLines(_one_column(), ["LINES"]), w - 1)
    assert below.strip() == "LINES"


def _nowrap_and_wrap(nowrap_header: str, nowrap_cell: str) -> Table:
    t = Table()
    t.add_column(nowrap_header, no_wrap=True)
    t.add_column("B")  # may wrap: its longest word is 2 wide ("dd", "ee")
    t.add_row(nowrap_cell, "dd ee")
    return t


# Kills console.py:83 `if column.no_wrap:` -> `if not column.no_wrap:` (class docstring, wrap=True:
# the no_wrap column "whole", the other as wide as its longest word). Hand computation: the full
# table is W wide with the wrapping column 5 wide ("dd ee"); narrowest = W - 5 + 2 = W - 3.
def test_table_or_lines_wrap_needs_no_wrap_columns_whole_and_others_longest_word():
    from trainlab.console import TableOrLines

    cell = "aaaa bbbb cccc"
    w = _widest(_nowrap_and_wrap("A", cell))
    fits = _render(TableOrLines(_nowrap_and_wrap("A", cell), ["LINES"], wrap=True), w - 3)
    assert "LINES" not in fits and cell in fits  # the no_wrap cell on one line
    too_narrow = _render(TableOrLines(_nowrap_and_wrap("A", cell), ["LINES"], wrap=True), w - 4)
    assert too_narrow.strip() == "LINES"


# Kills console.py:84 `(column.header, *column.cells)` -> `(*column.cells,)`: a no_wrap column's
# header is whole too (its width counts like a cell's). Hand computation as above: W - 3.
def test_table_or_lines_wrap_keeps_a_no_wrap_header_whole():
    from trainlab.console import TableOrLines

    header = "long header name"
    w = _widest(_nowrap_and_wrap(header, "x"))
    fits = _render(TableOrLines(_nowrap_and_wrap(header, "x"), ["LINES"], wrap=True), w - 3)
    assert "LINES" not in fits and header in fits
    too_narrow = _render(TableOrLines(_nowrap_and_wrap(header, "x"), ["LINES"], wrap=True), w - 4)
    assert too_narrow.strip() == "LINES"


# Kills console.py:105 `return True` -> `return False`: CliConsole's soft_wrap on a stream that
# cannot say it is a terminal (a closed stream) is the log-file/pipe behaviour: lines whole.
def test_cli_console_on_a_closed_stream_keeps_lines_whole():
    from trainlab.console import CliConsole

    stream = io.StringIO()
    c = CliConsole(file=stream)
    stream.close()
    assert c.soft_wrap is True


class _Fails:
    """A console file whose writes raise ``exc``."""

    def __init__(self, exc: OSError) -> None:
        self.exc = exc

    def write(self, text: str) -> int:
        raise self.exc

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@pytest.fixture
def streams(monkeypatch, tmp_path):
    """A function that puts sys.stdout on a file of the test's own (its descriptor is the one
    dup2'ed over) and sys.stderr on a StringIO (no descriptor), and returns the StringIO; called
    in the test's body (pytest's capture puts its own streams back between fixture and test).
    FailSafeConsole's once-per-process note is not said yet."""
    from trainlab.console import FailSafeConsole

    own = open(tmp_path / "stdout", "w")  # noqa: SIM115
    monkeypatch.setattr(FailSafeConsole, "told", False)

    def swap():
        err = io.StringIO()
        monkeypatch.setattr(sys, "stdout", own)
        monkeypatch.setattr(sys, "stderr", err)
        return err

    yield swap
    monkeypatch.undo()
    own.close()


# Kills console.py:40 `except BrokenPipeError: raise` skipped (caught as any OSError): a closed
# pipe is "was closed (its reader left)" (module docstring / on_broken_pipe), not a failed write.
def test_failsafe_console_says_a_closed_pipe_was_closed(streams):
    from trainlab.console import FailSafeConsole

    err = streams()
    FailSafeConsole(file=_Fails(BrokenPipeError(32, "Broken pipe"))).print("x")
    assert "stdout was closed (its reader left)" in err.getvalue()


# Kills console.py:55 `FailSafeConsole.told = True` dropped: the stderr note is said once per
# process (class attribute's comment), however many consoles fail.
def test_failsafe_console_says_why_once_per_process(streams):
    import errno

    from trainlab.console import FailSafeConsole

    err = streams()
    for _ in range(2):
        FailSafeConsole(file=_Fails(OSError(errno.ENOSPC, "No space left on device"))).print("x")
    assert err.getvalue().count("trainlab: stdout") == 1
    assert "cannot be written (No space left on device)" in err.getvalue()


# Kills console.py:54 `not self.stderr and` dropped and console.py:53 `self.quiet = True` dropped:
# a failing stderr console says nothing about *stdout*, and one whose stream has no descriptor
# goes quiet (comment at :52).
def test_failsafe_stderr_console_goes_quiet_without_a_stdout_note(streams):
    from trainlab.console import FailSafeConsole

    err = streams()
    c = FailSafeConsole(stderr=True, file=_Fails(BrokenPipeError(32, "Broken pipe")))
    c.print("x")
    assert err.getvalue() == ""
    assert c.quiet is True


# ----------------------------------------------------------------------------- devices
# Kills devices.py:19 `name == "auto"` broken: the default, auto, is the CPU without CUDA and
# CUDA with it (docstring).
def test_resolve_device_auto(monkeypatch):
    from trainlab.devices import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device() == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


# Kills devices.py:25 the `dev.type not in ("cpu", "cuda")` check dropped (docstring/README: the
# names are auto, cpu, cuda, cuda:N; any other is a UserError).
@pytest.mark.parametrize("name", ["mps", "meta", "xpu"])
def test_resolve_device_refuses_other_device_types(name):
    from trainlab.devices import resolve_device

    with pytest.raises(UserError, match="use auto, cpu or cuda"):
        resolve_device(name)


# Kills devices.py:34 `dev.index >= n` -> `>`: with one CUDA device, cuda:1 does not exist.
def test_resolve_device_cuda_index_one_past_the_last_is_refused(monkeypatch):
    from trainlab.devices import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(UserError, match=r"has 1 CUDA device\(s\), 'cuda:0' to 'cuda:0'"):
        resolve_device("cuda:1")


# Kills devices.py:58 autocast_off's default (the types with autocast on) dropped: inside a
# caller's CPU autocast region the block runs with autocast off, and it is on again after.
def test_autocast_off_turns_off_a_callers_cpu_autocast():
    from trainlab.devices import autocast_off

    with torch.autocast("cpu", dtype=torch.bfloat16):
        with autocast_off():
            assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.float32
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16


# ----------------------------------------------------------------------------- threads
# Kills threads.py:41 the `n is None` early exit dropped: None leaves the count as it is.
def test_torch_threads_none_leaves_the_count():
    from trainlab.threads import torch_threads

    before = torch.get_num_threads()
    with torch_threads(None):
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


# ----------------------------------------------------------------------------- malloc
glibc = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only"
)


def _stub_mallopt(monkeypatch, m):
    calls: list[tuple[int, int]] = []

    class _Libc:
        @staticmethod
        def mallopt(option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(m, "_done", None)
    monkeypatch.setattr(m.ctypes, "CDLL", lambda *_a, **_k: _Libc())
    return calls


# Kills malloc.py:70 default "1" -> "0" (unset is on) and malloc.py:33 MMAP_THRESHOLD doubled:
# module docstring: M_MMAP_THRESHOLD = 32 MiB, M_TRIM_THRESHOLD = 1 GiB, M_TOP_PAD = 64 MiB;
# glibc <malloc.h>: M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3. (mallopt stubbed.)
@glibc
def test_keep_freed_memory_unset_sets_the_documented_thresholds(monkeypatch):
    import trainlab.malloc as m

    calls = _stub_mallopt(monkeypatch, m)
    monkeypatch.delenv("TRAINLAB_KEEP_FREED_MEMORY", raising=False)
    assert m.keep_freed_memory() is True
    assert sorted(calls) == sorted([(-3, 32 * 2**20), (-1, 2**30), (-2, 64 * 2**20)])


# Kills malloc.py:46 the once-per-process cache skipped: a second call reads nothing again.
def test_keep_freed_memory_decides_once_per_process(monkeypatch):
    import trainlab.malloc as m

    calls = _stub_mallopt(monkeypatch, m)
    monkeypatch.setenv("TRAINLAB_KEEP_FREED_MEMORY", "0")
    assert m.keep_freed_memory() is False
    monkeypatch.setenv("TRAINLAB_KEEP_FREED_MEMORY", "1")
    assert m.keep_freed_memory() is False
    assert calls == []


# ----------------------------------------------------------------------------- registry
def _registry():
    from trainlab.registry import Registry

    reg = Registry("widget")

    @reg.register("zeta")
    def zeta():
        """First line.
        Second line."""

    @reg.register("alpha", "given description")
    def alpha():
        """Docstring not used."""

    return reg, zeta, alpha


# Kills registry.py:32 `[0:1]` -> `[0:2]` and `description or` dropped, registry.py:48 sorted
# dropped (docstrings: description defaults to the docstring's first line; items sorted).
def test_registry_descriptions_and_order():
    reg, zeta, alpha = _registry()
    assert reg.names() == ["alpha", "zeta"]
    assert reg.items() == [("alpha", "given description"), ("zeta", "First line.")]
    assert reg.get("zeta") is zeta and reg.get("alpha") is alpha


# Kills registry.py:30 the duplicate check skipped.
def test_registry_refuses_a_second_entry_of_one_name():
    reg, _, _ = _registry()
    with pytest.raises(ValueError, match="widget 'zeta' is already registered"):
        reg.register("zeta")(lambda: None)


# Kills registry.py:40 and :55 the isinstance(str) checks dropped: a list where a name goes is a
# UserError (not a TypeError: unhashable), and is not "in" the registry.
def test_registry_non_string_names():
    reg, _, _ = _registry()
    with pytest.raises(UserError, match="a widget name is one string"):
        reg.get(["zeta"])
    assert (["zeta"] in reg) is False
    assert "zeta" in reg and "beta" not in reg


def test_registry_unknown_name_hint_is_difflibs_nearest():
    reg, _, _ = _registry()
    near = difflib.get_close_matches("zetta", ["alpha", "zeta"], n=1, cutoff=0.5)
    assert near == ["zeta"]
    with pytest.raises(UserError) as err:
        reg.get("zetta")
    assert str(err.value) == (
        "unknown widget 'zetta' (did you mean 'zeta'?); choose one of: alpha, zeta"
    )


# ----------------------------------------------------------------------------- report/jsonl
# Kills jsonl.py:27 the numpy/torch scalar conversion skipped, :29 `not isfinite` -> `isnan`,
# :33 NONFINITE_KEY written when every number is finite (docstrings).
def test_encode_record_by_hand():
    from trainlab.report.jsonl import NONFINITE_KEY, encode_record

    assert NONFINITE_KEY == "nonfinite_values"
    assert encode_record({"a": 1.5, "b": 2, "c": "x", "d": None}) == {
        "a": 1.5,
        "b": 2,
        "c": "x",
        "d": None,
    }
    got = encode_record(
        {"n": np.float32("nan"), "i": np.int64(3), "t": torch.tensor(math.inf), "m": -math.inf}
    )
    assert got == {
        "n": None,
        "i": 3,
        "t": None,
        "m": None,
        "nonfinite_values": {"n": "nan", "t": "inf", "m": "-inf"},
    }
    json.dumps(got, allow_nan=False)  # standard JSON (RFC 8259), module docstring


# Kills jsonl.py:42 `not isinstance(names, dict)` -> `names is None`: a row whose key holds
# something else is returned as it is.
def test_decode_record_leaves_a_row_without_a_names_dict():
    from trainlab.report.jsonl import decode_record

    row = {"a": None, "nonfinite_values": "nan"}
    assert decode_record(row) == row
    back = decode_record({"a": None, "b": None, "nonfinite_values": {"a": "-inf"}})
    assert back == {"a": -math.inf, "b": None}


# ----------------------------------------------------------------------------- demo
# Kills demo.py DEMO_CONFIG values changed (batch 100 -> 128, lr 1e-3 -> 1e-2): the module
# docstring's recipe: MLP 256-256, Adam lr 1e-3, batch 100, 15 epochs, 5 seeds x 3 inits.
def test_run_demo_trains_the_documented_recipe(monkeypatch, tmp_path):
    import trainlab.demo as demo

    seen = {}
    monkeypatch.setattr(demo, "train", lambda cfg, out, device: seen.update(cfg=cfg, out=out))
    demo.run_demo(out=tmp_path / "demo", device="cpu")
    cfg = seen["cfg"]
    assert seen["out"] == tmp_path / "demo"
    assert (cfg.model.name, list(cfg.model.hidden)) == ("mlp", [256, 256])
    assert (cfg.optim.name, cfg.optim.lr) == ("adam", 1e-3)
    assert (cfg.train.batch_size, cfg.train.epochs) == (100, 15)
    pop = demo.DEMO_CONFIG["population"]
    assert pop["seeds"] == [0, 1, 2, 3, 4]
    assert [v["init.scheme"] for v in pop["variants"]] == ["xavier_uniform", "normal", "zeros"]
