"""Synthetic classification sets: spirals, Gaussian blobs, and a random teacher network.

Each generator is a pure function of its arguments (``data_seed`` keys a numpy
``Generator``), so the data stays fixed while ``load(..., seed=...)`` varies the split. The
generators are also public (``make_spirals`` etc.) for notebooks. They are cheap, so unlike
``mnist1d`` they are not cached (a 60000 × 784 teacher set would pin 190 MB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import UserError
from .datasets import DATASETS, RawData, _nonneg_float, _positive_int, _refuse_beyond_memory

__all__ = ["make_spirals", "make_blobs", "make_teacher"]


def _per_class(n_samples: int, classes: int) -> np.ndarray:
    """Class sizes that differ by at most one and sum to ``n_samples``."""
    sizes = np.full(classes, n_samples // classes, dtype=np.int64)
    sizes[: n_samples % classes] += 1
    return sizes


#: the largest angle noise (radians) spirals takes: far past where the arms vanish, far below
#: where ``noise·N(0, 1)`` overflows or sin/cos lose every digit
MAX_ANGLE_NOISE = 1e6


def make_spirals(
    n_samples: int = 1500, classes: int = 3, noise: float = 0.2, data_seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """K interleaved spiral arms in 2-D (the CS231n "spiral" toy set), ``(N, 2)`` float32.

    Arm ``j`` has radius ``r = linspace(0, 1)`` and angle
    ``θ = 2πj/K + 4r + noise·N(0, 1)`` (radians); a point is ``r·(sin θ, cos θ)``.
    Not linearly separable: a linear classifier stays far below a small MLP's ~100% (logistic
    regression on the defaults: 53% training accuracy at K=3, 78% at K=2; CS231n reports 49%).
    Bad arguments are a one-line UserError, as through ``trainlab.data.load("spirals")``.
    """
    n_samples = _positive_int("spirals", "n_samples", n_samples, 2)
    classes = _positive_int("spirals", "classes", classes, 2)
    noise = _nonneg_float("spirals", "noise", noise)
    if noise > MAX_ANGLE_NOISE:  # noise·N(0, 1) would overflow (1e308) or lose all precision
        raise UserError(
            f"spirals: noise={noise:g} is too large; give at most {MAX_ANGLE_NOISE:g} (it is "
            "an angle in radians: above ~3 the arms are already scattered uniformly)"
        )
    data_seed = _positive_int("spirals", "data_seed", data_seed, 0)
    _every_class_sampled("spirals", n_samples, classes)
    # float64 (N, 2) inputs and their pieces, int64 labels, then load()'s float32 copies
    _refuse_beyond_memory("spirals", f"n_samples={n_samples}", 96.0 * n_samples)
    rng = np.random.default_rng(np.random.SeedSequence([int(data_seed), 0x5719]))
    xs, ys = [], []
    for j, n in enumerate(_per_class(n_samples, classes)):
        r = np.linspace(0.0, 1.0, n)  # (n,)
        t = 2 * np.pi * j / classes + 4.0 * r + noise * rng.standard_normal(n)  # (n,)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))  # (n, 2)
        ys.append(np.full(n, j, dtype=np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def make_blobs(
    n_samples: int = 1000,
    dim: int = 2,
    classes: int = 3,
    std: float = 1.0,
    center_box: float = 5.0,
    data_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs: class ``c`` ~ ``N(μ_c, std² I)``, ``μ_c ~ U[-box, box]^dim``.

    Returns ``(N, dim)`` float32 inputs and int64 labels (sizes differ by at most one). Bad
    arguments are a one-line UserError, as through ``trainlab.data.load("blobs")``.
    """
    n_samples = _positive_int("blobs", "n_samples", n_samples, 2)
    dim = _positive_int("blobs", "dim", dim)
    classes = _positive_int("blobs", "classes", classes, 2)
    std = _nonneg_float("blobs", "std", std)
    center_box = _nonneg_float("blobs", "center_box", center_box)
    data_seed = _positive_int("blobs", "data_seed", data_seed, 0)
    _every_class_sampled("blobs", n_samples, classes)
    # float64 (N, dim) inputs, their noise draw, int64 labels, then load()'s float32 copies
    _refuse_beyond_memory(
        "blobs", f"n_samples={n_samples}, dim={dim}", n_samples * (24.0 * dim + 16)
    )
    if center_box + 10 * std > FLOAT32_SAFE:  # the inputs are float32
        raise UserError(
            f"blobs: center_box={center_box!r} and std={std!r} give inputs beyond float32's "
            f"range; keep center_box + 10·std below {FLOAT32_SAFE:g}"
        )
    rng = np.random.default_rng(np.random.SeedSequence([int(data_seed), 0xB10B]))
    centers = rng.uniform(-center_box, center_box, size=(classes, dim))  # (C, dim)
    sizes = _per_class(n_samples, classes)
    y = np.repeat(np.arange(classes, dtype=np.int64), sizes)  # (N,)
    x = centers[y] + std * rng.standard_normal((n_samples, dim))  # (N, dim)
    return x.astype(np.float32), y


#: inputs drawn (from their own stream) to centre the teacher's logits (:func:`make_teacher`)
TEACHER_REFERENCE = 8192


def make_teacher(
    n_samples: int = 5000,
    dim: int = 20,
    classes: int = 10,
    hidden: int | Sequence[int] = 64,
    data_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs labelled by a random teacher MLP (a student-teacher task of any size).

    ``x ~ N(0, I_dim)``; the teacher is ``dim → hidden… → classes`` with ReLU, weights
    ``N(0, 2/fan_in)`` (He et al. 2015) and an ``N(0, 1/fan_in)`` output layer; the label is
    ``argmax`` of the teacher's logits after subtracting each logit's mean over a fixed
    reference draw of ``TEACHER_REFERENCE`` inputs, which keeps the classes roughly balanced.
    A student with the teacher's architecture can reach 100%. The weights and the reference
    draw come from their own streams, so ``n_samples`` changes the inputs, never the teacher:
    the first ``n`` samples of a larger set are the ``n`` samples of a smaller one, labels
    included. With few input dimensions and many classes some logit may never be the
    largest, leaving its class without samples (``dim=2, classes=50, data_seed=0``: 32 of the
    50 classes are empty).
    Cost is a forward pass of the samples and of the reference draw: 60000 × 784 with
    ``hidden=256`` takes ~1 s. Bad arguments are a one-line UserError, as through
    ``trainlab.data.load("teacher")``; so is a teacher that labels over 99% of a fixed draw of
    inputs one class (a narrow or deep ReLU teacher can die).
    """
    if isinstance(hidden, np.ndarray) and hidden.ndim == 0:  # (np.asarray(64): one width)
        hidden = hidden.item()
    widths = [hidden] if isinstance(hidden, int | np.integer) else hidden
    if not isinstance(widths, list | tuple | np.ndarray) or not all(
        isinstance(w, int | np.integer) and not isinstance(w, bool) and w >= 1 for w in widths
    ):
        raise UserError(f"teacher: hidden must be a width >= 1 or a list of widths, got {hidden!r}")
    n_samples = _positive_int("teacher", "n_samples", n_samples, 2)
    dim = _positive_int("teacher", "dim", dim)
    classes = _positive_int("teacher", "classes", classes, 2)
    data_seed = _positive_int("teacher", "data_seed", data_seed, 0)
    _every_class_sampled("teacher", n_samples, classes)
    # float32 weights, the (N, dim) inputs and the widest (N, w) activations twice, labels,
    # then load()'s copies of the inputs
    sizes_ = [dim, *(int(w) for w in widths), classes]
    weight_bytes = 4.0 * sum(a * b for a, b in zip(sizes_[:-1], sizes_[1:], strict=False))
    rows = max(n_samples, TEACHER_REFERENCE)
    _refuse_beyond_memory(
        "teacher",
        f"n_samples={n_samples}, dim={dim}, hidden={list(sizes_[1:-1])}",
        weight_bytes + rows * (12.0 * dim + 8.0 * max(sizes_[1:]) + 16),
    )
    # the teacher's weights, the inputs and the centring draw come from independent streams,
    # so the teacher does not depend on n_samples: more data from the same seed is more data
    # from one teacher (a spawned child does not depend on how many are spawned)
    seq = np.random.SeedSequence([int(data_seed), 0x7EAC])
    teacher_seq, input_seq, reference_seq = seq.spawn(3)
    rng = np.random.default_rng(teacher_seq)
    sizes = [dim, *(int(w) for w in widths), classes]
    weights = [
        rng.standard_normal((a, b), dtype=np.float32) * np.float32(np.sqrt(gain / a))
        for a, b, gain in zip(sizes[:-1], sizes[1:], [2.0] * len(widths) + [1.0], strict=True)
    ]  # (fan_in, fan_out) each

    def logits(x: np.ndarray) -> np.ndarray:
        h = x  # (N, dim)
        for weight in weights[:-1]:
            h = np.maximum(h @ weight, 0.0)  # (N, w)
        return h @ weights[-1]  # (N, C)

    # the centring offset from its own draw: centred by the samples' own mean, the labelling
    # rule (and labels of the same inputs) would change with n_samples
    ref = np.random.default_rng(reference_seq).standard_normal(
        (TEACHER_REFERENCE, dim), dtype=np.float32
    )
    ref_logits = logits(ref)
    offset = ref_logits.mean(0, keepdims=True)  # (1, C)
    # a (nearly) dead teacher judged on the reference draw, not on the samples: a few samples of
    # a sound teacher may all fall in one class by chance (5 of them: 12 of 200 seeds at 2
    # classes); one that puts over 99% of its inputs in one class is refused
    ref_y = (ref_logits - offset).argmax(1)
    top = np.bincount(ref_y, minlength=classes).argmax()
    share = float((ref_y == top).mean())
    if share > 0.99:  # (all or nearly all one class: its samples would be, too)
        raise UserError(
            f"teacher: the teacher labels {share:.2%} of its inputs class {int(top)} (a dead "
            "ReLU teacher); pass another data_seed, wider hidden layers or a larger dim"
        )
    x = np.random.default_rng(input_seq).standard_normal((n_samples, dim), dtype=np.float32)
    y = (logits(x) - offset).argmax(1).astype(np.int64)
    return x, y


@DATASETS.register(
    "spirals",
    "K-arm 2-D spirals (CS231n): n_samples=1500, classes=3, noise=0.2, data_seed=0; shape (2,)",
)
def _spirals(
    *, n_samples: int = 1500, classes: int = 3, noise: float = 0.2, data_seed: int = 0
) -> RawData:
    x, y = make_spirals(n_samples, classes, noise, data_seed)  # (it checks them)
    return RawData(x=x, y=y, num_classes=int(classes), source="synthetic")


@DATASETS.register(
    "blobs",
    "Gaussian blobs: n_samples=1000, dim=2, classes=3, std=1.0, center_box=5.0, data_seed=0; "
    "shape (dim,)",
)
def _blobs(
    *,
    n_samples: int = 1000,
    dim: int = 2,
    classes: int = 3,
    std: float = 1.0,
    center_box: float = 5.0,
    data_seed: int = 0,
) -> RawData:
    x, y = make_blobs(n_samples, dim, classes, std, center_box, data_seed)  # (it checks them)
    return RawData(x=x, y=y, num_classes=int(classes), source="synthetic")


#: synthetic inputs are float32: options that would put them near its limit are refused
FLOAT32_SAFE = 1e30


def _every_class_sampled(name: str, n: int, k: int) -> None:
    if n < k:
        raise UserError(
            f"{name}: n_samples={n} is fewer than classes={k}, so some class has no sample; "
            f"pass n_samples >= {k}"
        )


@DATASETS.register(
    "teacher",
    "random teacher MLP labels N(0, I) inputs, any size: n_samples=5000, dim=20, classes=10, "
    "hidden=64, data_seed=0; shape (dim,)",
)
def _teacher(
    *,
    n_samples: int = 5000,
    dim: int = 20,
    classes: int = 10,
    hidden: int | Sequence[int] = 64,
    data_seed: int = 0,
) -> RawData:
    x, y = make_teacher(n_samples, dim, classes, hidden, data_seed)  # (it checks them)
    return RawData(x=x, y=y, num_classes=int(classes), source="synthetic")
