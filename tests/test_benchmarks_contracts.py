"""The benchmarks in ``benchmarks/`` back the README's claims: both sides of a comparison do the
same work (the RBM protocol in float32, classifiers run to their tolerance), rounds sample
equally, and a mistyped name is one line.

Each test imports a benchmark module's functions and runs them at tiny sizes (never a full
benchmark); every test states the contract it checks in its docstring.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


# ----------------------------------------------------------------------------- rbm.py
@pytest.fixture(scope="module")
def rbm_run():
    """``rbm.rbm_table(1)`` on a 600/300-image subset of the protocol's data, with spies on the
    two RBM classes and on ``LogisticRegression`` (what each one was given and how it ended)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import BernoulliRBM as SkRBM

    import rbm as R
    from trainlab.pretrain import BernoulliRBM

    full = R.nudged_digits()
    seen: dict[str, list] = {"sk_fit_dtype": [], "sk_components_dtype": [], "tl_train_dtype": []}
    classifiers: list[LogisticRegression] = []

    class SpySk(SkRBM):
        def fit(self, X, y=None):
            seen["sk_fit_dtype"].append(np.asarray(X).dtype)
            out = super().fit(X, y)
            seen["sk_components_dtype"].append(self.components_.dtype)
            return out

    class SpyTl(BernoulliRBM):
        def _train_dtype(self, X, device):
            dtype = super()._train_dtype(X, device)
            seen["tl_train_dtype"].append(dtype)
            return dtype

    class SpyLR(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            out = super().fit(X, y, sample_weight)
            classifiers.append(self)
            return out

    with pytest.MonkeyPatch.context() as mp:
        Xtr, Xte, ytr, yte = full
        mp.setattr(R, "nudged_digits", lambda: (Xtr[:600], Xte[:300], ytr[:600], yte[:300]))
        mp.setattr(R, "SkRBM", SpySk)
        mp.setattr(R, "BernoulliRBM", SpyTl)
        mp.setattr(R, "LogisticRegression", SpyLR)
        rows = R.rbm_table(1)
    return {"rows": rows, "seen": seen, "classifiers": classifiers}


def test_rbm_benchmark_sklearn_and_trainlab_fit_in_the_same_dtype(rbm_run):
    """The RBM speed table compares one scikit-learn fit with one trainlab fit of "the same
    settings", so both must do the same arithmetic. trainlab's ``BernoulliRBM`` always trains in
    float32 (``_train_dtype``, whose comment says float32 is 1.6-2x faster than float64), while
    ``rbm_table`` hands scikit-learn float64 data, and scikit-learn's ``BernoulliRBM`` computes in
    its input's dtype, so scikit-learn runs in float64. scikit-learn's own example (the protocol
    issue 6 cites) makes its data float32 first (``np.asarray(X, "float32")``). Measured on this
    machine, scikit-learn at batch 100 fits ~1.6x faster in float32, i.e. most of the README's
    "2.05x faster than scikit-learn at batch 100" is the dtype, not trainlab. Fix: build the data
    in float32 in ``nudged_digits`` (as the example does), so both sides compute in float32."""
    seen = rbm_run["seen"]
    assert seen["tl_train_dtype"] and seen["sk_components_dtype"]
    tl = {str(d).replace("torch.", "") for d in seen["tl_train_dtype"]}
    sk = {str(np.dtype(d)) for d in seen["sk_components_dtype"]}
    assert sk == tl, (
        f"scikit-learn's RBM computed in {sorted(sk)} (it was given {seen['sk_fit_dtype'][0]} "
        f"data) while trainlab's computed in {sorted(tl)}: the speed ratio compares different work"
    )


def test_rbm_benchmark_logistic_regression_runs_to_its_default_tolerance(rbm_run):
    """Issue 6's protocol is ``LogisticRegression(C=6000)`` on the RBM features (and ``C=100``
    on raw pixels) *with the default tol*, i.e. fitted to convergence; it expects scikit-learn
    near 0.93. ``rbm.py`` uses the default lbfgs solver with its default ``max_iter=100`` and
    silences the ConvergenceWarning ("as in the example" - the example uses newton-cg), so every
    classifier stops at the iteration cap, not at the tolerance. On the full protocol data the
    RBM-feature classifier stops at 100 iterations with 0.903 test accuracy (the number in
    rbm.json and the README); run to convergence (769 lbfgs iterations, or newton-cg) it scores
    0.937-0.942, as the issue says; the raw-pixel baseline likewise. The stored accuracies, and
    the "within 0.5 points of scikit-learn" comparison, are therefore between unconverged
    classifiers. Fix: ``LogisticRegression(C=..., max_iter=10_000)`` (or ``solver="newton-cg"``)
    in ``_logistic_accuracy`` and for the raw-pixel row, and stop hiding the warning."""
    clfs = rbm_run["classifiers"]
    assert len(clfs) >= 3  # one per RBM row and the raw-pixel baseline
    capped = [
        (c.C, int(np.max(c.n_iter_)), c.max_iter) for c in clfs if np.max(c.n_iter_) >= c.max_iter
    ]
    assert not capped, (
        f"{len(capped)} of {len(clfs)} logistic regressions stopped at max_iter, not at the "
        f"default tol: (C, n_iter_, max_iter) = {capped}"
    )


# ----------------------------------------------------------------------------- diagnostics.py
class _CostlyWatch:
    """A stand-in for ``watch(model, every=N)`` with the same step counting (absolute: the count
    goes on across attaches, so steps 0, N, 2N, ... of the watch's own life are sampled) whose
    sampled steps cost a fixed, known amount of CPU time and the others nothing."""

    COST_S = 0.03
    made: list = []  # every instance, in the order made (a test resets it)

    def __init__(self, model, every=1, start_step=0):
        self.model, self.every, self.step, self.handle = model, every, start_step - 1, None
        self.sampled = 0
        self.made.append(self)

    def _pre(self, module, args):
        self.step += 1
        if self.step % self.every == 0:
            self.sampled += 1
            t0 = time.process_time()
            while time.process_time() - t0 < self.COST_S:
                pass

    def __enter__(self):
        self.handle = self.model.register_forward_pre_hook(self._pre)
        return self

    def __exit__(self, *exc):
        self.handle.remove()

    def pop_records(self):
        return []


def _costly_diagnostics_rows(monkeypatch, out, *extra: str) -> dict[str, dict]:
    """``benchmarks/diagnostics.py`` (3 rounds of 50 steps, a width-8 MLP) with
    :class:`_CostlyWatch` for ``watch``; its JSON rows by variant."""
    import json

    import diagnostics as D

    monkeypatch.setattr(D, "watch", _CostlyWatch)
    monkeypatch.setattr(D, "keep_freed_memory", lambda: False)
    argv = ["diagnostics.py", "--steps", "50", "--rounds", "3", "--k", "0", "--width", "8"]
    monkeypatch.setattr(sys, "argv", [*argv, *extra, "--out", str(out)])
    before = torch.get_num_threads()
    try:
        D.main()
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)
    return {r["variant"]: r for r in json.loads(out.read_text())["results"]}


def test_diagnostics_every_50_overhead_is_right_when_steps_is_not_a_multiple_of_50(
    monkeypatch, tmp_path
):
    """``benchmarks/diagnostics.py --steps S`` promises the overhead of sampling one step in 50,
    as the median over rounds of each round's ratio to its own plain run. Each watch counts its
    steps across rounds, so with ``--steps 20`` only rounds 0, 2, 5, 7, ... contain a sampled
    step: 3 rounds in 5 contain none, the median picks one of those, and the reported every-50
    overhead is the hooks' idle cost, blind to what sampling costs (with ``--steps 25`` it is
    the other way: the median is a sampled round and the overhead is doubled). Here sampling
    is made to cost 30 ms of CPU per sampled step (0.6 ms per step on average, several times a
    step of the tiny MLP), which the benchmark must report as a large overhead. Fix: estimate
    the overhead from totals over all rounds (sum of times / sum of plain times - 1), or make
    each round a multiple of ``every`` steps (refuse other ``--steps``): done."""

    import diagnostics as D

    monkeypatch.setattr(D, "watch", _CostlyWatch)
    monkeypatch.setattr(D, "keep_freed_memory", lambda: False)
    out = tmp_path / "diag.json"
    argv = ["diagnostics.py", "--steps", "20", "--rounds", "5", "--k", "0", "--width", "8"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(out)])
    with pytest.raises(SystemExit) as refused:  # rounds that sample unequal numbers of steps
        D.main()
    assert refused.value.code == 2 and not out.exists()
    rows = _costly_diagnostics_rows(monkeypatch, out)
    plain_ms = rows["none"]["cpu_ms_per_step"]
    true = (1e3 * _CostlyWatch.COST_S / 50) / plain_ms  # the every-50 overhead, per step
    got = rows["every 50"]["cpu_overhead"]
    assert got >= 0.5 * true, (
        f"every-50 sampling costs {true:+.0%} of a {plain_ms:.2f} ms step on average, but the "
        f"benchmark reports {got:+.1%}"
    )


# ----------------------------------------------------------------------------- optim.py
@pytest.mark.parametrize("flag", ["--model", "--optims"])
def test_optim_benchmark_unknown_name_is_one_line_exit_2(monkeypatch, capsys, tmp_path, flag):
    """``benchmarks/optim.py --model linear,small,digits`` and ``--optims`` take comma lists of
    names (the help lists the models). A mistyped name (``--model mlp``, ``--optims Adam``) is a
    plain user error, but the script dies with a bare ``KeyError`` traceback from ``MODELS[...]``
    / ``OPTIMS[...]`` after printing the table's header. A user error on a command line should
    be one clear line naming the valid choices, with argparse's exit code 2, before any work.
    Fix: validate both lists right after ``parse_args`` and call ``ap.error(...)``."""
    import optim as O

    bad = {"--model": "mlp", "--optims": "Adam"}[flag]
    argv = ["optim.py", flag, bad, "--k", "2", "--rounds", "1", "--reps", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(tmp_path / "o.json")])
    monkeypatch.setattr(O, "keep_freed_memory", lambda: False)
    before = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as exc:
            O.main()
    except KeyError as err:
        pytest.fail(f"{flag} {bad}: a KeyError traceback ({err!r}) instead of a one-line error")
    finally:
        torch.set_num_threads(before)
    assert exc.value.code == 2
    assert bad in capsys.readouterr().err


def test_diagnostics_pieces_times_the_hooks_of_steps_it_never_samples(monkeypatch, tmp_path):
    """``--pieces`` adds an "unsampled" row: the watch attached with no step sampled, so that the
    every-50 overhead splits into its hooks' idle cost and the sampled steps'. Counted, not
    timed (a timed bound on 3 rounds of a tiny MLP failed 1 run in 8 on this machine): the
    unsampled row's watch sees every step of its rounds and samples none, where the every-50
    row's samples one step per 50-step round."""
    monkeypatch.setattr(_CostlyWatch, "made", [])
    rows = _costly_diagnostics_rows(monkeypatch, tmp_path / "diag.json", "--pieces")
    assert "unsampled" in rows and rows["unsampled"]["every"] == 10**9
    watches = {w.every: w for w in _CostlyWatch.made}
    assert watches[10**9].sampled == 0 and watches[10**9].step == 3 * 50  # (from step 1)
    assert watches[50].sampled == 3


def test_diagnostics_hook_floor_is_the_watch_root_hooks_doing_nothing(monkeypatch, tmp_path):
    """``--pieces`` adds a "hooks floor" row beside "unsampled": :class:`HookFloor`, the hooks a
    step-counting monitor attaches to a user's model, doing nothing but count their calls. It is
    the floor of the unsampled row only if it attaches what an idle ``watch`` attaches to the
    root (as many forward pre-hooks, forward hooks and always-called ones) and its hooks run
    as the watch's do: one call of each per training step, the autograd one from the backward,
    the optimizer one from ``optimizer.step()``; and all of them gone after the block."""
    from torch import nn

    import diagnostics as D
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def root_hooks() -> tuple[int, int, int]:
        return (
            len(model._forward_pre_hooks),
            len(model._forward_hooks),
            len(model._forward_hooks_always_called),
        )

    with watch(model, every=D.NEVER, start_step=1):
        idle = root_hooks()
    floor = D.HookFloor(model)
    with floor:
        assert root_hooks() == idle == (1, 2, 1)
        for _ in range(3):
            step()
        with torch.no_grad():
            model(x)  # an evaluation forward: the root hooks run, no backward, no step
    assert floor.calls == {"pre": 4, "post": 4, "always": 4, "optimizer": 3, "backward": 3}
    step()
    assert root_hooks() == (0, 0, 0) and floor.calls["optimizer"] == 3
    monkeypatch.setattr(_CostlyWatch, "made", [])
    rows = _costly_diagnostics_rows(monkeypatch, tmp_path / "diag.json", "--pieces")
    assert (
        rows["hooks floor"]["every"] == D.NEVER
        and len(rows["hooks floor"]["cpu_ms_per_step_all_rounds"]) == 3
    )


def test_diagnostics_trainer_times_fit_with_and_without_the_counting_hooks(monkeypatch, tmp_path):
    """``--trainer`` times ``Trainer.fit`` with diagnose_every unset, 50, and 50 with the watch's
    hooks called on every step (the trainer before it skipped them on the steps they only
    count). Counted, not timed: the first every-50 fit's hooks see only the sampled step and
    the one after it, the other's every step."""
    import json

    import diagnostics as D
    from conftest import watched_training_forwards

    seen = watched_training_forwards(monkeypatch)
    cpu = torch.device("cpu")
    D.time_trainer("every 50", 1, 8, cpu)
    assert seen == [0, 1]
    seen.clear()
    D.time_trainer("every 50, hooks every step", 1, 8, cpu)
    assert seen == list(range(13))  # digits: 13 batches of 100
    seen.clear()
    D.time_trainer("none", 1, 8, cpu)
    assert seen == []
    _costly_diagnostics_rows(monkeypatch, tmp_path / "diag.json", "--trainer", "--epochs", "1")
    meta = json.loads((tmp_path / "diag.json").read_text())
    trainer = [r for r in meta["results"] if r["setup"].startswith("trainer")]
    assert {r["setup"] for r in trainer} == {"trainer, MLP 64-8-8-10"}
    assert [r["variant"] for r in trainer] == list(D.TRAINER_VARIANTS)
    assert meta["trainer_epochs"] == 1 and all(
        len(r["cpu_ms_per_step_all_rounds"]) == 3 for r in trainer
    )
