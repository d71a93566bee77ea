"""A command's start: the default data set is read without importing scikit-learn (~2 s of a
fresh process on 2 cores), the optimizers do not import torch._dynamo (1.5-2 s) unless
something is compiled, and a ``--no-report`` run imports no matplotlib; ``digits`` stays
exactly scikit-learn's ``load_digits``, also where its data file is not found."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
from sklearn.datasets import load_digits

from trainlab.data import datasets


def test_digits_table_is_load_digits_exactly():
    d = load_digits()
    table = datasets._digits_table()
    assert table.shape == (1797, 65)
    np.testing.assert_array_equal(table[:, :-1], d.data)
    np.testing.assert_array_equal(table[:, -1], d.target)


def test_digits_without_the_data_file_falls_back_to_load_digits(monkeypatch):
    import importlib.util

    expected = datasets._digits_table()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    np.testing.assert_array_equal(datasets._digits_table(), expected)


def test_loaded_digits_are_the_scaled_images_and_labels():
    d = load_digits()
    raw = datasets._digits()
    np.testing.assert_array_equal(raw.x, (d.images.astype(np.float32) / 16.0)[:, None])
    np.testing.assert_array_equal(raw.y, d.target)
    assert raw.x.dtype == np.float32 and raw.y.dtype == np.int64


_NO_REPORT_RUN = textwrap.dedent(
    """
    import runpy, sys
    sys.argv = ["trainlab", "train", sys.argv[1], "--out", sys.argv[2], "--device", "cpu",
                "--no-report"]
    try:
        runpy.run_module("trainlab", run_name="__main__")
    except SystemExit as e:
        assert not e.code, e.code
    heavy = {"sklearn", "matplotlib", "torch._dynamo"}
    print(sorted(m for m in heavy if m in sys.modules))
    """
)


def test_a_no_report_run_on_digits_imports_no_sklearn_matplotlib_or_dynamo(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: t\nmodel: {name: mlp, hidden: [4]}\ntrain: {epochs: 1, batch_size: 256}\n"
        "population: {seeds: [0]}\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", _NO_REPORT_RUN, str(cfg), str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-1500:]
    assert (tmp_path / "run" / "summary.json").is_file()


def test_optimizer_methods_still_stay_out_of_a_compiled_graph():
    """Called inside a function that ``torch.compile`` traces, ``zero_grad`` and
    ``state_dict`` take torch's dynamo-disabled methods (a graph break), as torch.optim's do;
    the compiled function returns what the eager one does."""
    import torch

    from trainlab.optim import Adam

    p = torch.nn.Parameter(torch.arange(6.0).view(2, 3))
    opt = Adam([p], lr=torch.tensor([0.1, 0.2]))
    p.grad = torch.ones_like(p)
    opt.step()

    def f(x):
        opt.zero_grad()
        n = len(opt.state_dict()["state"])
        return x * 2 + n

    from torch._dynamo.utils import counters

    counters.clear()
    compiled = torch.compile(f, backend="eager")
    p.grad = torch.ones_like(p)
    assert torch.equal(compiled(torch.ones(3)), torch.full((3,), 3.0))
    assert p.grad is None
    breaks = " ".join(counters["graph_break"])  # torch's skipped functions, as torch.optim's
    assert "Optimizer.zero_grad" in breaks and "Optimizer.state_dict" in breaks, breaks[:500]
