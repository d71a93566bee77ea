"""``trainlab pretrain`` shows its progress: one count per pass over the data."""

from __future__ import annotations

import pytest

from trainlab.pretrain import BernoulliRBM
from trainlab.pretrain.progress import _ON_PASS, pass_done, passes_shown
from trainlab.pretrain.run import run_pretrain


@pytest.fixture
def log_file_console(monkeypatch):
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):  # rich: "a terminal"
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(
    ("kind", "passes"),
    [("rbm", 2), ("dbn", 2 * 2 * 2), ("sdae", 2 * 2 * 2)],  # rbm: the population's passes
)
def test_run_pretrain_counts_every_pass_in_a_log(kind, passes, tmp_path, capsys, log_file_console):
    sets = [f"model.kind={kind}", "train.n_iter=2", "train.batch_size=200", "seeds=[0, 1]"]
    if kind != "rbm":
        sets.append("model.layers=[8, 4]")
    else:
        sets.append("model.n_components=8")
    run_pretrain(None, out=tmp_path / "run", sets=sets, progress=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if " pass " in ln]
    assert [ln.split(" pass ")[1].split()[0] for ln in lines] == [
        f"{i}/{passes}" for i in range(1, passes + 1)
    ]


def test_no_progress_by_default_and_the_hook_is_removed(tmp_path, capsys):
    run_pretrain(None, out=tmp_path / "run", sets=["train.n_iter=1", "model.n_components=8"])
    assert "pass" not in capsys.readouterr().out
    with passes_shown("x", 3, enabled=True):
        pass
    assert _ON_PASS.get() is None
    pass_done()  # no bar: nothing happens


def test_a_solo_estimator_calls_the_hook_once_per_pass():
    import numpy as np

    calls = []
    token = _ON_PASS.set(lambda: calls.append(1))
    try:
        x = (np.random.default_rng(0).random((30, 6)) > 0.5).astype(float)
        BernoulliRBM(n_components=3, n_iter=4, random_state=0).fit(x)
    finally:
        _ON_PASS.reset(token)
    assert len(calls) == 4
