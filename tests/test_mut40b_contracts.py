"""Mutation review mut40b: trainlab.threads (torch_threads) and the stacked denoising
autoencoder (row shuffling per pass, masking-noise boundary, thread use of small fits, dtype of
layers_, Adam's learning-rate ceiling, divergence check). Expected values come from the
docstrings, torch, scikit-learn or numpy, never from trainlab's own output."""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from scipy.special import expit
from torch.nn import functional as F

from trainlab import threads as T
from trainlab.pretrain import StackedDenoisingAutoencoder


def _rows(n: int, d: int = 6) -> np.ndarray:
    """``n`` distinct rows in [0, 1]: row i's first value is i / n (identifies the row)."""
    rng = np.random.default_rng(0)
    X = rng.random((n, d)).astype(np.float32)
    X[:, 0] = np.arange(n, dtype=np.float32) / n
    return X


def _record_targets(monkeypatch) -> list[np.ndarray]:
    """The clean targets of every reconstruction loss the SDAE computes (its minibatches)."""
    seen: list[np.ndarray] = []
    real = F.binary_cross_entropy_with_logits

    def spy(logits, target, *args, **kwargs):
        seen.append(target.detach().cpu().numpy().copy())
        return real(logits, target, *args, **kwargs)

    monkeypatch.setattr(F, "binary_cross_entropy_with_logits", spy)
    return seen


# ------------------------------------------------------------------------ row order per pass


def test_sdae_visits_every_row_once_per_pass_in_a_fresh_random_order(monkeypatch):
    """Docstring: random_state seeds "data order" and n_iter is "passes over the data": each
    pass visits every row exactly once (a row count one past a multiple of batch_size leaves a
    last batch of one row), in a shuffled order drawn anew for every pass (SGD's per-epoch
    reshuffling) -- not the stored order, not one order reused for every pass."""
    n, bs, passes = 31, 10, 4  # 31 = 3 * 10 + 1
    X = _rows(n)
    seen = _record_targets(monkeypatch)
    StackedDenoisingAutoencoder(
        [3], corruption=0.0, batch_size=bs, n_iter=passes, random_state=0
    ).fit(X)
    batches_per_pass = -(-n // bs)
    assert len(seen) == passes * batches_per_pass
    orders = []
    for p in range(passes):
        batches = seen[p * batches_per_pass : (p + 1) * batches_per_pass]
        assert [len(b) for b in batches] == [10, 10, 10, 1]
        ids = np.rint(np.concatenate(batches)[:, 0] * n).astype(int)
        np.testing.assert_array_equal(np.concatenate(batches), X[ids])  # whole rows, as stored
        assert sorted(ids) == list(range(n)), f"pass {p} is not a permutation of the rows"
        orders.append(tuple(ids))
    assert orders[0] != tuple(range(n)), "the rows are not shuffled"
    # reshuffled each pass: 4 random permutations of 31 rows are all distinct (p ~ 1e-33)
    assert len(set(orders)) == passes, "the same order is reused across passes"


# ---------------------------------------------------------------- masking noise at p = 0


def test_sdae_zero_corruption_keeps_an_input_whose_uniform_draw_is_zero(monkeypatch):
    """Masking noise zeroes each input with probability ``corruption``: with u ~ U[0, 1) (torch.rand
    can return exactly 0.0), "zeroed iff u < p" has probability p; corruption=0 zeroes nothing,
    even for u == 0. Every mask draw is forced to 0.0 here; with frozen weights (lr 1e-10) the
    pass loss must then be the *clean* reconstruction cross-entropy, by hand from layers_."""
    n, d, width, bs = 12, 6, 5, 4  # mask draws are (4, 6); the weight draw is (5, 6)
    X = _rows(n, d)
    real_rand = torch.rand

    def rand(*size, **kwargs):
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        if tuple(shape) == (bs, d):
            return torch.zeros(shape, dtype=kwargs.get("dtype"), device=kwargs.get("device"))
        return real_rand(*size, **kwargs)

    monkeypatch.setattr(torch, "rand", rand)
    sdae = StackedDenoisingAutoencoder(
        [width], corruption=0.0, learning_rate=1e-10, batch_size=bs, n_iter=1, random_state=0
    ).fit(X)
    monkeypatch.undo()
    ((w, c, b),) = sdae.layers_
    x = X.astype(np.float64)
    rec = expit(expit(x @ w.T + c) @ w + b)
    want = float(-(x * np.log(rec) + (1 - x) * np.log(1 - rec)).sum(axis=1).mean())
    np.testing.assert_allclose(sdae.history_["loss"][0][0], want, rtol=1e-4)


# --------------------------------------------------------------- threads of the fit's ops


def _threads_seen_in_fit(monkeypatch, X, width, bs) -> set[int]:
    counts: set[int] = set()
    real = F.binary_cross_entropy_with_logits

    def spy(*args, **kwargs):
        counts.add(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "binary_cross_entropy_with_logits", spy)
    was = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        StackedDenoisingAutoencoder([width], batch_size=bs, n_iter=1, random_state=0).fit(X)
    finally:
        torch.set_num_threads(was)
        monkeypatch.undo()
    return counts


def test_sdae_small_cpu_fit_runs_on_one_torch_thread_and_a_large_one_on_the_callers(
    monkeypatch,
):
    """The fit's comment: tiny ops run on 1 intra-op thread (small_cpu_threads: "tiny ops"),
    small meaning D * max(width) * batch_size < 2**22 on the CPU; a larger layer keeps the
    caller's count (here 2)."""
    small = _threads_seen_in_fit(monkeypatch, _rows(8, 6), 3, 4)  # 72 << 2**22
    assert small == {1}
    large = _threads_seen_in_fit(monkeypatch, _rows(4, 64), 256, 256)  # 64*256*256 = 2**22
    assert large == {2}


# ------------------------------------------------------------------- dtype of layers_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdae_layers_keep_the_input_dtype_as_sklearns_rbm_does(dtype):
    """scikit-learn's BernoulliRBM keeps components_ in the dtype of X (float32 or float64);
    the SDAE's layers_ arrays follow the same convention."""
    from sklearn.neural_network import BernoulliRBM

    X = _rows(10).astype(dtype)
    ref = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    sdae = StackedDenoisingAutoencoder([3, 2], n_iter=1, random_state=0).fit(X)
    assert ref.components_.dtype == dtype  # the premise
    for layer in sdae.layers_:
        assert [t.dtype for t in layer] == [dtype] * 3


# ------------------------------------------------------------ learning-rate ceiling of Adam


def _adam_ceiling() -> float:
    beta1 = inspect.signature(torch.optim.Adam).parameters["betas"].default[0]
    return float(np.finfo(np.float32).max) * (1 - beta1)


def test_sdae_max_learning_rate_is_float32_max_times_one_minus_adams_beta1():
    """MAX_LEARNING_RATE: "its first step is lr / (1 - beta1)" with torch's Adam default
    beta1 (0.9): float32's max * 0.1."""
    assert pytest.approx(_adam_ceiling()) == StackedDenoisingAutoencoder.MAX_LEARNING_RATE


def test_sdae_learning_rate_half_the_ceiling_takes_its_one_step():
    """A learning rate below the ceiling is accepted: one Adam step (one batch, one pass) of
    lr / (1 - beta1) * m / sqrt(v) = 10 * lr * 0.1 = lr per weight stays finite."""
    X = _rows(4)
    lr = 0.5 * _adam_ceiling()
    sdae = StackedDenoisingAutoencoder(
        [3], learning_rate=lr, batch_size=4, n_iter=1, random_state=0
    ).fit(X)
    assert all(np.isfinite(t).all() for t in sdae.layers_[0])
    with pytest.raises(ValueError, match="learning_rate"):
        StackedDenoisingAutoencoder([3], learning_rate=1.01 * _adam_ceiling(), n_iter=1).fit(X)


def test_sdae_diverged_fit_raises_and_keeps_no_nan_weights():
    """As the RBMs: a fit whose weights become inf or NaN is refused (UserError naming
    learning_rate), and the estimator stays unfitted -- never NaN layers_."""
    from sklearn.exceptions import NotFittedError

    X = _rows(16)
    sdae = StackedDenoisingAutoencoder([3], learning_rate=3e37, batch_size=2, n_iter=50,
                                       random_state=0)  # fmt: skip
    with pytest.raises(ValueError, match="learning_rate"):
        sdae.fit(X)
    with pytest.raises(NotFittedError):
        sdae.transform(X)


# -------------------------------------------------------------------------- torch_threads


def test_torch_threads_none_leaves_the_count_as_it_is(fresh_threads_state):
    """torch_threads(None): "leave them as they are" -- inside and after the block."""
    torch.set_num_threads(2)
    with T.torch_threads(None):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 2
    torch.set_num_threads(3)
    with T.torch_threads(None):
        assert torch.get_num_threads() == 3


def test_torch_threads_second_outermost_block_on_a_thread_puts_back_the_default(
    fresh_threads_state,
):
    """The module comment's rule: the first (outermost) block on a thread that starts from a
    count a block open on another thread set puts back the default (2 here), not that count.
    Thread B takes 1 from A's block when it starts and runs two outermost blocks one after
    the other (each closed before the next opens); before the second, thread D opens a block
    that sets 1, so the second starts from a count an open block set and must leave B at the
    default. (Whether a block is B's outermost must not depend on blocks B already closed.)"""
    torch.set_num_threads(2)  # the process default
    pools = {k: ThreadPoolExecutor(max_workers=1) for k in "ABCD"}
    blocks: dict = {}

    def on(k, fn):
        return pools[k].submit(fn).result()

    def open_(k, n):
        def f():
            blocks[k] = T.torch_threads(n)
            blocks[k].__enter__()

        on(k, f)

    def close(k):
        on(k, lambda: blocks.pop(k).__exit__(None, None, None))

    def b_block():
        with T.torch_threads(2):
            assert torch.get_num_threads() == 2
        return torch.get_num_threads()

    try:
        open_("A", 1)
        assert on("B", torch.get_num_threads) == 1  # B starts inside A's block: takes 1
        open_("C", 3)
        close("A")  # C's block stays open; none sets 1 now
        on("B", b_block)  # B's first outermost block (1 is no open block's count)
        assert on("B", torch.get_num_threads) == 1  # the premise: B holds 1 again
        open_("D", 1)  # an open block sets 1 now
        assert on("B", b_block) == 2
    finally:
        for k in list(blocks):
            close(k)
        for p in pools.values():
            p.shutdown()
