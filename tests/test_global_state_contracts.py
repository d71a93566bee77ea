"""Global-state hygiene: trainlab's public functions, called from a notebook or a user's own
script, must leave the process's global state (torch's RNG, the flush-denormal mode, matplotlib's
backend, ...) as they found it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import small_config


def _flushes_denormals() -> bool:
    """torch has no getter for the flush-denormal mode: a denormal float32 times 1 reads 0
    exactly when denormals are flushed."""
    return float(torch.tensor([1e-39], dtype=torch.float32).mul(1.0).item()) == 0.0


@pytest.fixture
def notebook_backend():
    """pyplot imported with a non-Agg backend, as in a notebook (``svg`` stands in for the
    inline backend, which needs IPython); the original backend is restored afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt  # noqa: F401  (imported: the notebook case)

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        yield "svg"
    finally:
        matplotlib.use(before)


def test_fit_keeps_a_users_flush_denormal_setting(tmp_path):
    """A user who turned on ``torch.set_flush_denormal(True)`` for speed (as trainlab itself
    recommends for Adam on the CPU) must still have it after ``trainlab.train``: the trainer's
    ``_flush_denormals`` context turns flushing on for the fit and then unconditionally *off*
    ("restore the default"), not back to what the caller had. The user's later CPU code silently
    runs with denormals again (the ~100x slow path the trainer's own docstring measures), and
    the change depends on whether a trainlab call happened in between."""
    from trainlab.train import train

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    try:
        assert _flushes_denormals()
        train(small_config(), out=tmp_path / "run", device="cpu", progress=False)
        assert _flushes_denormals(), "train() turned the caller's flush-denormal mode off"
    finally:
        torch.set_flush_denormal(False)


def test_run_pretrain_keeps_the_matplotlib_backend(tmp_path, notebook_backend):
    """``trainlab.pretrain.run.run_pretrain`` is a library function a notebook user calls; its
    figure helpers (``filters_figure``, ``reconstructions_figure``, ``curves_figure``) call
    ``matplotlib.use("Agg")``, which with pyplot imported switches the user's backend for the
    rest of the session (every later ``plt.show()`` then shows nothing). trainlab's own report
    code promises never to touch the global backend (report/plots.py), and rendering a PNG
    needs no backend switch (``Figure.savefig`` uses Agg on its own)."""
    import matplotlib

    from trainlab.pretrain import run as run_mod

    cfg = run_mod.PretrainConfig.model_validate(
        {"model": {"kind": "rbm", "n_components": 4}, "train": {"n_iter": 1}, "seeds": [0]}
    )
    run_mod.run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    assert matplotlib.get_backend() == notebook_backend, (
        f"run_pretrain switched the backend {notebook_backend!r} -> {matplotlib.get_backend()!r}"
    )


def test_activations_study_keeps_the_matplotlib_backend_even_when_refused(
    tmp_path, notebook_backend
):
    """``trainlab.studies.activations.run`` (and ``run_study("activations", ...)``) calls
    ``matplotlib.use("Agg")`` as its first statement, before it validates anything: even a call
    refused with a ``UserError`` (here ``seeds=0``) leaves a notebook user's backend switched to
    Agg for the rest of the session."""
    import matplotlib

    from trainlab.errors import UserError
    from trainlab.studies import run_study

    with pytest.raises(UserError):
        run_study("activations", tmp_path / "act", quick=True, seeds=0, device="cpu")
    assert matplotlib.get_backend() == notebook_backend, (
        f"a refused study call switched the backend {notebook_backend!r} -> "
        f"{matplotlib.get_backend()!r}"
    )


def test_optimizers_2d_study_keeps_the_matplotlib_backend(tmp_path, monkeypatch, notebook_backend):
    """The optimizers-2d study builds its figures on ``matplotlib.figure.Figure`` (no pyplot),
    yet ``_plot`` still calls ``matplotlib.use("Agg", force=False)``; ``force=False`` only
    silences an import failure, it still switches an imported pyplot's backend. A notebook user
    running the study loses their backend."""
    import matplotlib

    from trainlab.studies import optimizers_2d as o2d

    monkeypatch.setattr(o2d, "QUICK_STEPS", 20)
    o2d.run(tmp_path / "o2d", quick=True, device="cpu")
    assert matplotlib.get_backend() == notebook_backend, (
        f"the optimizers-2d study switched the backend {notebook_backend!r} -> "
        f"{matplotlib.get_backend()!r}"
    )


def _tiny_pretraining(monkeypatch):
    from trainlab.studies import pretraining

    tiny = {
        "datasets": ["digits"],
        "depths": [2],
        "width": 8,
        "steps": 12,
        "seeds": 1,
        "dbn_iter": 1,
        "sdae_iter": 1,
    }
    monkeypatch.setitem(pretraining.SETTINGS, "quick", tiny)
    return pretraining


def test_pretraining_study_keeps_torch_global_rng(tmp_path, monkeypatch):
    """A study's results come from per-model seeds, so running one must not advance the
    caller's ``torch`` RNG stream: a script that does ``torch.manual_seed(0)``, runs the
    pretraining study, then draws numbers must get the same numbers as without the study.
    ``_modules`` builds each starting network with ``models.create`` (PyTorch's default layer
    init draws from the global generator) before overwriting the weights from its own
    ``torch.Generator``; the trainer avoids exactly this with ``fork_rng`` in ``_build_model``."""
    pretraining = _tiny_pretraining(monkeypatch)
    torch.manual_seed(0)
    before = torch.get_rng_state()
    pretraining.run(tmp_path / "study", quick=True, device="cpu")
    assert torch.equal(torch.get_rng_state(), before), "the study advanced torch's global RNG"


def test_pretraining_study_keeps_the_matplotlib_backend(tmp_path, monkeypatch, notebook_backend):
    """The pretraining study's ``_figure`` calls ``matplotlib.use("Agg")``: a notebook user who
    runs it through ``run_study`` / ``pretraining.run`` has their backend switched to Agg for the
    rest of the session."""
    import matplotlib

    pretraining = _tiny_pretraining(monkeypatch)
    pretraining.run(tmp_path / "study", quick=True, device="cpu")
    assert matplotlib.get_backend() == notebook_backend, (
        f"the pretraining study switched the backend {notebook_backend!r} -> "
        f"{matplotlib.get_backend()!r}"
    )


@pytest.mark.parametrize("kind", ["DBN", "StackedDenoisingAutoencoder"])
def test_to_module_with_a_generator_keeps_torch_global_rng(kind):
    """``to_module(n_classes, generator=g)`` (and ``trainlab.pretrain.unroll``) documents that
    with a generator the output layer is drawn from it and only *without* one does it use
    PyTorch's default init on the global RNG. With a generator the result does not depend on the
    global stream, yet the call still consumes it (``models.create`` initializes every layer from
    the global generator before the weights are overwritten), so a seeded script's later draws
    (data splits, dropout, its own init) change just because a DBN was unrolled."""
    from trainlab import pretrain

    x = np.random.RandomState(0).rand(40, 8)
    est = getattr(pretrain, kind)(layers=[6, 3], n_iter=1, random_state=0).fit(x)
    torch.manual_seed(0)
    before = torch.get_rng_state()
    est.to_module(3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), before), (
        f"{kind}.to_module(generator=...) advanced torch's global RNG"
    )


def test_a_loop_forward_refused_for_its_randomness_leaves_the_global_rng() -> None:
    """A population forward in loop mode that draws from torch's global RNG is refused (it
    cannot be seeded per model); the refusal puts the global RNG back where the caller had it."""
    from trainlab.errors import UserError
    from trainlab.population import Population

    class Noisy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = torch.nn.GRU(3, 4, batch_first=True)  # recurrent: loop mode

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.rnn(x + torch.rand_like(x))[0]

    pop = Population(Noisy(), 2)
    assert pop.mode == "loop"
    x = torch.randn(2, 5, 6, 3)
    before = torch.random.get_rng_state()
    with pytest.raises(UserError):
        pop(x)
    assert torch.equal(torch.random.get_rng_state(), before)
