"""Mutation review (mut36s) of trainlab.rng: pins the hash, the streams and seed_key against an
independent pure-Python SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c constants)."""

import hashlib

import torch

from trainlab import rng

_MASK = (1 << 64) - 1


def _sm64(x: int) -> int:
    """SplitMix64's output on unsigned 64-bit ints (Vigna, prng.di.unimi.it/splitmix64.c)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _signed(x: int) -> int:
    return x - (1 << 64) if x >= 1 << 63 else x


def _key(seed: int, counter: int, site: int) -> int:
    # README: streams keyed by (seed, step, site), hashing ``seed ^ site``; then the counter
    return _sm64((_sm64((seed ^ site) & _MASK) + counter) & _MASK)


# Kills rng.py:37 (x + _GOLDEN -> x - _GOLDEN), :38 (_shr(x, 30) -> 31), :39 (* _M2 -> * _M1),
# :40 (_shr(x, 31) -> 30). The module docstring promises SplitMix64's finalizer; 0xE220A8397B1DCDAF
# is splitmix64.c's first output from state 0, the published test vector.
def test_hash64_is_the_splitmix64_finalizer():
    assert _sm64(0) == 0xE220A8397B1DCDAF
    xs = [0, 1, -1, 2**62, -(2**63), 123456789, 0x7FFFFFFFFFFFFFFF]
    got = rng.hash64(torch.tensor(xs, dtype=torch.int64)).tolist()
    assert got == [_signed(_sm64(x & _MASK)) for x in xs]


# Kills rng.py:53 (hash64(seeds ^ site) -> seeds ^ site), :74 (hash64(idx) -> idx), :75 (the
# 24-bit integer + 1: floats in (0, 1] instead of [0, 1)). Expected: the 24 high bits of
# SplitMix64(key ^ SplitMix64(i)) / 2**24, computed in pure Python; the streams are a contract
# (rng._keys: a changed stream changes every number the studies quote).
def test_uniform_equals_a_pure_python_splitmix_stream():
    site, counter, seeds = 987654321, 3, [0, 7, -5, 2**62]
    u = rng.uniform(torch.tensor(seeds), counter, site, (4, 5))
    assert u.shape == (4, 4, 5)
    for row, seed in zip(u.reshape(4, -1).tolist(), seeds, strict=True):
        k = _key(seed & _MASK, counter, site)
        assert row == [(_sm64(k ^ _sm64(i)) >> 40) / 2**24 for i in range(20)]


# Kills rng.py:55 (tensor counter: k + counter -> k ^ counter). uniform's docstring: the counter
# is "an int or a 0-d int64 tensor" - the same step must draw the same mask either way.
def test_a_tensor_counter_draws_the_int_counters_stream():
    s = torch.tensor([0, 3, 11])
    for t in (1, 5, 12345):
        assert torch.equal(rng.uniform(s, t, 42, (33,)), rng.uniform(s, torch.tensor(t), 42, (33,)))


# Kills rng.py:27 (>> 1 -> >> 0): "A stable 63-bit integer" (docstring; README: "a site is a
# 63-bit key"); blake2b's 64 bits shifted right once. 64 keys all < 2**63 by chance: p = 2**-64.
def test_seed_key_is_a_63_bit_blake2b_key():
    keys = [rng.seed_key("dropout", f"layer{i}") for i in range(64)]
    assert all(0 <= k < 2**63 for k in keys)
    want = int.from_bytes(hashlib.blake2b(b"dropout\x1ffc1", digest_size=8).digest(), "little")
    assert rng.seed_key("dropout", "fc1") == want >> 1


# Kills rng.py:26 ("\x1f".join -> "".join): parts are separate, so layer names "ab"+"c" and
# "a"+"bc" (or ints 1, 23 and 12, 3) must get distinct sites, else two layers share masks.
def test_seed_key_keeps_parts_apart():
    assert rng.seed_key("ab", "c") != rng.seed_key("a", "bc")
    assert rng.seed_key(1, 23) != rng.seed_key(12, 3)


# Kills rng.py:94 (max(1, BLOCK // n) -> max(0, ...)): a row longer than the block must still be
# sorted (one row per block); expected: the documented argsort of SplitMix64(key ^ SplitMix64(i))
# in pure Python, with the site blake2b("permutation") >> 1. Also checks slot independence: seed
# 9 at slot 3 of K=4 draws what it draws alone.
def test_permutations_of_rows_longer_than_the_block(monkeypatch):
    monkeypatch.setattr(rng, "PERMUTATION_BLOCK", 3)
    seeds, epoch, n = [1, 2, 3, 9], 2, 10
    p = rng.permutations(torch.tensor(seeds), epoch, n)
    site = int.from_bytes(hashlib.blake2b(b"permutation", digest_size=8).digest(), "little") >> 1
    for row, seed in zip(p.tolist(), seeds, strict=True):
        k = _key(seed, epoch, site)
        assert row == sorted(range(n), key=lambda i: _signed(_sm64(k ^ _sm64(i))))
    assert torch.equal(rng.permutations(torch.tensor([9]), epoch, n)[0], p[3])


# ---- trainlab.diagnostics.run -------------------------------------------------------------------
import pytest  # noqa: E402

from trainlab.diagnostics.run import (  # noqa: E402
    nan_stops,
    read_records,
    run_findings,
    with_trainer_stops,
)
from trainlab.diagnostics.verdict import Finding  # noqa: E402
from trainlab.errors import UserError  # noqa: E402


# Kills run.py:49 (drop `or path.suffix == ".jsonl"`): a missing FILE.jsonl is named as given,
# not as FILE.jsonl/diagnostics.jsonl (docstring: run_dir "itself where it is that file").
def test_read_records_of_a_missing_jsonl_names_that_file(tmp_path):
    path = tmp_path / "diag.jsonl"
    with pytest.raises(UserError) as err:
        read_records(path)
    assert str(err.value).startswith(f"{path} does not exist")


# Kills run.py:216 (drop `stopped_step is not None`): a nan model without a recorded step is no
# stop to fold in (and must not crash int(None)).
def test_nan_stops_skip_a_nan_model_without_a_step():
    summary = {"models": [{"index": 0, "status": "nan", "stopped_step": None},
                          {"index": 1, "status": "nan", "stopped_step": 7}]}  # fmt: skip
    assert nan_stops(summary) == {1: 7}


# Kills run.py:248 (stop in sampled -> stop - 1 in sampled): step 5 was not sampled (only 4), so
# the hint must suggest sampling every step (docstring: "--every 1 is suggested only where step S
# was not sampled").
def test_an_unsampled_stop_suggests_every_1():
    out = with_trainer_stops([], {0: 5}, sampled={0: {0, 4}})
    assert out[0].status == "fail" and out[0].step == 5 and "--every 1" in out[0].message


# Kills run.py:274 (seen.step > stop -> >=): the note is added only where the records' first
# non-finite output is at a step AFTER the stop (docstring); at the stop step itself it is not.
def test_a_fail_at_the_stop_step_is_left_as_it_is():
    seen = Finding("nonfinite", "fail", 0, "NaN first at step 5", step=5, layer="fc1")
    assert with_trainer_stops([seen], {0: 5}, sampled={0: {5}}) == [seen]


# Kills run.py:288 (f.model >= model -> >): the stop goes first among the model's own findings
# ("first among the model's findings, where verdict() puts nonfinite").
def test_a_stop_is_inserted_first_among_its_models_findings():
    findings = [Finding("dead_relu", "ok", 0, "m0"), Finding("dead_relu", "ok", 1, "m1")]
    out = with_trainer_stops(findings, {1: 3})
    assert [(f.model, f.check) for f in out] == [
        (0, "dead_relu"),
        (1, "nonfinite"),
        (1, "dead_relu"),
    ]


# Kills run.py:160 (sizes[1] + sizes[2] > 0 -> >= 0): a run with neither a val nor a test split
# judges the evaluation stop on the training split (run_findings' docstring).
def test_an_evaluation_stop_without_held_out_splits_names_the_training_split():
    summary = {"models": [{"index": 0, "status": "nan", "stopped_step": 6,
                           "stopped_by": "evaluation"}]}  # fmt: skip
    msg = [f for f in run_findings([], summary, [100, 0, 0]) if f.check == "nonfinite"][0].message
    assert "training-split loss NaN/Inf after step 5" in msg
