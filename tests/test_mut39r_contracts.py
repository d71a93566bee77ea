"""Mutation review (mut39r) of diagnostics/stats.py: the statistic kernels.

Expected values come from stats.py's docstrings and from numpy / exact Python arithmetic on the
same values, never from trainlab itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trainlab.diagnostics import stats


# --- uniform_bin_positions works in float64 (docstring: float32 rounds a value just below an
# edge onto the edge, tanh's 0.99999994 against 1.0). Kills stats.py:264 float64 -> float32.
def test_uniform_histogram_value_just_below_high_stays_in_the_last_bin():
    v = float(np.nextafter(np.float32(1.0), np.float32(0.0)))  # 0.99999994, exact in float32
    y = torch.tensor([[v, -v]], dtype=torch.float32)
    low, high, bins = -1.0, 1.0, 2
    width = (high - low) / bins
    expected = [0.0] * (bins + 2)
    for x in (v, -v):  # bin j = floor((x - low) / width), column j + 1, exact in float64
        j = math.floor((x - low) / width)
        expected[min(max(j + 1, 0), bins + 1)] += 1
    assert expected == [0.0, 1.0, 1.0, 0.0]
    assert stats.uniform_histogram(y, low, high, bins).tolist() == [expected]


# --- a (K, B) output is one unit (docstrings of dead_fraction / unit_peaks), not B units.
# Kills stats.py:297 unsqueeze(-1) -> unsqueeze(1).
@pytest.mark.parametrize("axis", ["channel", "last"])
def test_a_k_by_b_output_is_one_unit_per_model(axis):
    y = torch.tensor([[0.0, 1.0, -1.0, 0.0], [-1.0, -2.0, 0.0, -3.0]])  # (K=2, B=4)
    # model 0: peak 1 -> alive; model 1: peak 0 -> dead
    assert stats.unit_peaks(y, axis).tolist() == [[1.0], [0.0]]
    assert stats.dead_fraction(y, axis).tolist() == [0.0, 1.0]


# --- nonfinite: True for a model with a NaN or ±Inf anywhere (not only when all are).
# Kills stats.py:335 .all(dim=1) -> .any(dim=1).
def test_nonfinite_flags_a_single_nan_or_inf_per_model():
    a = np.array(
        [[1.0, 2.0, 3.0], [1.0, np.nan, 3.0], [np.inf, 0.0, 0.0], [np.inf, -np.inf, np.nan]],
        dtype=np.float32,
    )
    expected = (~np.isfinite(a)).any(axis=1).tolist()
    assert expected == [False, True, True, True]
    assert stats.nonfinite(torch.tensor(a)).tolist() == expected
    # float16 data too (flat() widens it)
    assert stats.nonfinite(torch.tensor(a, dtype=torch.float16)).tolist() == expected


# --- sq_norm is computed in float32 for 16-bit data (docstring), so squares beyond float16's
# 65504 stay finite. Kills stats.py:345 dropped `t2 = t2.float()`.
def test_sq_norm_of_float16_is_float32_and_does_not_overflow():
    a = np.array([[300.0, 4.0], [-250.0, 0.5]], dtype=np.float16)  # exact in float16
    want = (a.astype(np.float64) ** 2).sum(axis=1)  # [90016, 62500.25]
    got = stats.sq_norm(torch.tensor(a), 2)
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-7)


# --- 16-bit tensors are normed in float32 (foreach_norms docstring; norms' k > 1 path
# likewise): a float16 tensor whose norm exceeds 65504 stays finite. Kills stats.py:355
# `t.float() if t.dtype in low else t` -> `t` and :380 dtype=float32 -> None.
@pytest.mark.parametrize("k", [1, 2])
def test_norms_of_float16_beyond_its_range_are_finite_float32(k):
    a = np.array([[50000.0, 50000.0, 3.0]] * k, dtype=np.float16)
    want = np.linalg.norm(a.astype(np.float64), axis=1)  # ~70710.7 > 65504
    got = stats.norms([torch.tensor(a)], k)[0]
    assert got.dtype == torch.float32
    np.testing.assert_allclose(
        got.numpy(), want if k > 1 else [np.linalg.norm(a.astype(np.float64))], rtol=1e-6
    )
    if k == 1:
        (f,) = stats.foreach_norms([torch.tensor(a)])
        np.testing.assert_allclose(f.item(), np.linalg.norm(a.astype(np.float64)), rtol=1e-6)


# --- a sparse gradient's norm is that of its dense form: duplicate indices are summed first
# (foreach_norms / _dense_values docstrings). Kills stats.py:360 coalesce().values() ->
# _values() (uncoalesced duplicates normed separately: 5 instead of 7).
def test_norm_of_sparse_tensor_with_duplicate_indices_is_its_dense_norm():
    t = torch.sparse_coo_tensor(
        torch.tensor([[0, 0, 2]]), torch.tensor([3.0, 4.0, 1.0]), (4,), check_invariants=True
    )
    dense = np.zeros(4)
    np.add.at(dense, [0, 0, 2], [3.0, 4.0, 1.0])
    want = np.linalg.norm(dense)  # sqrt(50)
    (f,) = stats.foreach_norms([t])
    assert f.item() == pytest.approx(want, rel=1e-6)
    assert stats.norms([t], 1)[0].tolist() == [pytest.approx(want, rel=1e-6)]


def _is_prime(p):
    return p >= 2 and all(p % q for q in range(2, int(p**0.5) + 1))


# --- sample_stride: the smallest prime >= ceil(N / max_values) dividing no trailing product,
# so a sample holds at most max_values values. N=1000, max 300: ceil = 4, 5 divides 1000 -> 7
# (143 values); floor(1000/300) = 3 would take 334 > 300. Kills stats.py:238 ceil -> floor and
# :246 `score >= 1.0` -> `> 1.0` (a 1-D sample reaches every index at once).
def test_sample_stride_is_smallest_coprime_prime_at_or_above_the_ceiling():
    n, cap = 1000, 300
    s = next(p for p in range(-(-n // cap), n) if _is_prime(p) and n % p)
    assert s == 7
    assert stats.sample_stride((n,), cap) == s
    y = torch.linspace(-1.0, 1.0, n).reshape(1, n)
    counts = stats.uniform_histogram(y, -2.0, 2.0, 4, max_values=cap)
    assert counts.sum().item() == len(range(0, n, s)) <= cap


# --- coprime_stride returns a prime: 4, 9, 25 (squares of primes) are not. Kills stats.py:210
# `math.isqrt(s) + 1` -> `math.isqrt(s)` (a primality test that misses p*p).
@pytest.mark.parametrize("lengths,least", [((), 4), ((10,), 9), ((12, 6), 25)])
def test_coprime_stride_is_the_smallest_prime_dividing_none(lengths, least):
    want = next(
        p for p in range(max(2, least), 1000) if _is_prime(p) and all(m % p for m in lengths)
    )
    assert stats.coprime_stride(lengths, least) == want
    assert want in (5, 11, 29)


# --- sample_stride's reach rule asks an axis for every index only where the sample has 8
# values per index. (2, 7, 5) with 20 values: 70/20 -> 4; 5 and 7 divide trailing products
# (5, 35, 70); 11 divides none and takes 7 values, under 8 per index of any axis, so 11.
# Kills stats.py:243 `len(idx) // 8` -> `len(idx)` (which moves on to 23).
def test_sample_stride_reach_rule_uses_eight_samples_per_index():
    shape, cap = (2, 7, 5), 20
    n = math.prod(shape)
    suffix = (5, 35, 70)
    s = next(p for p in range(-(-n // cap), n) if _is_prime(p) and all(m % p for m in suffix))
    assert s == 11 and len(range(0, n, s)) < 8
    assert stats.sample_stride(shape, cap) == s


# --- all values are counted when N <= max_values (N == max_values included): stride 1.
# Kills stats.py:231 `n <= max_values` -> `n < max_values`.
def test_uniform_histogram_counts_every_value_when_n_equals_max_values():
    a = np.linspace(-0.9, 0.9, 12).reshape(1, 3, 4)
    assert stats.sample_stride((3, 4), 12) == 1
    got = stats.uniform_histogram(torch.tensor(a), -1.0, 1.0, 4, max_values=12)
    want, _ = np.histogram(a.ravel(), bins=4, range=(-1.0, 1.0))
    assert got.tolist() == [[0.0, *map(float, want), 0.0]]


# --- k=1: the whole tensor is one model's (a plain module's weight (out, in), bias (out,)),
# one norm each, shape (1,). Kills stats.py:370 `k == 1` -> `k == 0` (per-row norms).
def test_norms_with_k1_norm_the_whole_tensor():
    w = np.arange(12.0).reshape(3, 4) - 5.0
    b = np.array([3.0, -4.0, 12.0])
    got = stats.norms(
        [torch.tensor(w, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)], 1
    )
    assert [tuple(g.shape) for g in got] == [(1,), (1,)]
    np.testing.assert_allclose(got[0].numpy(), [np.linalg.norm(w)], rtol=1e-6)
    np.testing.assert_allclose(got[1].numpy(), [13.0], rtol=1e-6)


# --- the reach rule accepts a stride whose worst axis reaches exactly what it should (score
# 1.0). (2, 3, 16) with 20 values: ceil(96/20) = 5, prime, divides none of (16, 48, 96); its
# 20 values (2 per index of any axis) reach >= 2 indices of every axis: 5. Kills stats.py:246
# `score >= 1.0` -> `score > 1.0` (which moves on to 7).
def test_sample_stride_accepts_a_stride_reaching_exactly_enough():
    shape, cap = (2, 3, 16), 20
    idx = np.arange(0, 96, 5)
    need = max(1, len(idx) // 8)
    for below, d in ((1, 16), (16, 3), (48, 2)):
        assert len(np.unique((idx // below) % d)) >= min(d, need)
    assert stats.sample_stride(shape, cap) == 5


# --- 16-bit outputs are widened by flat() before the moment sums (docstring: float32 for 16-bit
# data), so squared deviations beyond float16's 65504 do not overflow. Kills stats.py:126
# `y = y.float()` -> `y = y`.
def test_moments_of_float16_are_computed_in_float32():
    a = np.array([[0.0, 300.0, 0.0, 300.0]], dtype=np.float16)
    m, s = stats.moments(torch.tensor(a))
    np.testing.assert_allclose(m.numpy(), a.astype(np.float64).mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(s.numpy(), a.astype(np.float64).std(axis=1, ddof=0), rtol=1e-6)
