"""Readers for dataset files a user already has: MNIST IDX, CIFAR-10/100 python batches, ``.npz``.

Every reader checks the file before trusting it and raises :class:`~trainlab.errors.DataError`
with one line naming the file, what was expected and what was found (a truncated IDX file, a
corrupt pickle, a missing array). Nothing here downloads: a missing file is an error that says
which ``path=`` to pass.

Formats
-------
- **IDX** (LeCun et al., MNIST; also Fashion-MNIST, KMNIST, EMNIST): a 4-byte magic number
  ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the values in
  big-endian C order. Types: ``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32,
  ``0x0D`` float32, ``0x0E`` float64. Files may be gzip-compressed (detected by content).
- **CIFAR-10/100 python batches** (Krizhevsky 2009): pickled dicts with ``data``
  ``(n, 3072)`` uint8 (1024 red, 1024 green, 1024 blue values, row-major 32×32) and
  ``labels`` (CIFAR-100: ``fine_labels``/``coarse_labels``). The unpickler accepts only the
  numpy types such a batch holds, and builds arrays itself from plain number dtypes and the
  bytes they need, so a hostile pickle can neither run code nor forge object pointers.
- **npz**: ``numpy.savez`` arrays ``x_train, y_train, x_test, y_test`` and optionally
  ``x_val, y_val``; loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import difflib
import importlib
import math
import pickle
import sys
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = [
    "read_idx",
    "read_cifar10",
    "read_cifar100",
    "read_npz",
    "find_mnist_files",
    "MNIST_FILES",
    "NPZ_KEYS",
]

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: the four standard MNIST file stems (train images, train labels, test images, test labels)
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: arrays an ``.npz`` dataset must have, and the optional validation pair
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_NPZ_OPTIONAL = ("x_val", "y_val")


def _as_path(path: Any, what: str) -> Path:
    """``path`` as a Path; YAML reads a bare number (a folder named ``2024``) as an int."""
    if isinstance(path, int) and not isinstance(path, bool):
        path = str(path)
    if not isinstance(path, (str, Path)):
        raise DataError(
            f"path must be a file or folder name, got {path!r}; pass path=... to a {what} "
            "(quote it in YAML)"
        )
    return expand_home(path)


def expand_home(path: str | Path) -> Path:
    """``path`` with a leading ``~`` or ``~user`` expanded as the shell does: left as it is when
    there is no such user (``~backup.npz`` is a file name) or no home folder is known."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # Path.expanduser: "Could not determine home directory"
        return Path(path)


def _broken_link(p: Path) -> str:
    """``", a broken symbolic link to TARGET"`` where ``p`` is one, else ``""``."""
    if p.is_symlink() and not p.exists():
        return f", a broken symbolic link to {p.readlink()}"
    return ""


def _require_file(path: str | Path, what: str = "file") -> Path:
    p = _as_path(path, what)
    if not p.exists():
        raise DataError(
            f"file not found: {p}{_broken_link(p)} (pass path=... to an existing {what})"
        )
    if not p.is_file():
        raise DataError(f"{p} is not a file (pass path=... to a {what})")
    return p


#: names of archives the data sets come in (cifar-10-python.tar.gz, ...): extract them first
_ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip", ".tar.bz2", ".tar.xz")


def _require_folder(path: str | Path | None, dataset: str, what: str) -> Path:
    if path is None:
        raise DataError(
            f"{dataset}: no path given; pass path=... to a folder with {what} "
            "(trainlab never downloads)"
        )
    p = _as_path(path, f"folder with {what}")
    if not p.exists():
        raise DataError(
            f"file not found: {p}{_broken_link(p)} (pass path=... to a folder with {what})"
        )
    if not p.is_dir():
        if p.name.endswith(_ARCHIVES):
            unpack = f"unzip {p.name}" if p.name.endswith(".zip") else f"tar xf {p.name}"
            raise DataError(
                f"{p} is an archive; extract it (e.g. {unpack}) and pass path=... to the "
                f"folder with {what}"
            )
        raise DataError(f"{p} is not a folder (pass path=... to a folder with {what})")
    return p


# --------------------------------------------------------------------------- IDX


def _gunzip(p: Path, raw: bytes, max_length: int) -> bytes:
    """The first ``max_length`` decompressed bytes of the gzip data ``raw`` (fewer if the
    stream ends first): a file whose header lies about its size is never inflated whole."""
    out = b""
    while True:  # a file of several gzip members (cat a.gz b.gz, bgzip) is their concatenation
        d = zlib.decompressobj(wbits=31)  # gzip header and trailer
        try:
            out += d.decompress(raw, max_length - len(out))
        except zlib.error as err:
            raise DataError(
                f"{p}: corrupt or truncated gzip file ({err}); re-copy or re-compress it"
            ) from None
        if len(out) >= max_length:
            return out
        if not d.eof:
            raise DataError(f"{p}: corrupt or truncated gzip file; re-copy or re-compress it")
        raw = d.unused_data.lstrip(b"\x00")  # zero padding after a member: skipped, as gzip(1)
        if not raw:  # and Python's gzip do; other trailing bytes must be another member
            return out


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian numpy array of its stored shape.

    Checks the magic number (two zero bytes, a known type code, ``ndim >= 1``) and that the
    data size equals ``prod(dims) * itemsize``; a truncated file raises a DataError naming the
    file with the expected and the actual number of bytes.
    """
    p = _require_file(path, "IDX file")
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise _unreadable(p, err) from None
    gz = raw[:2] == b"\x1f\x8b"
    buf = _gunzip(p, raw, 4) if gz else raw  # then the header, then at most the data + 1
    if len(buf) < 4:
        raise DataError(f"{p}: not an IDX file: {len(buf)} bytes, too short for the header")
    magic = int.from_bytes(buf[:4], "big")
    code, ndim = buf[2], buf[3]
    if buf[0] != 0 or buf[1] != 0 or code not in _IDX_TYPES or ndim == 0:
        raise DataError(
            f"{p}: not an IDX file: bad magic number 0x{magic:08X} (expected 0x0000TTNN with "
            f"type TT in {{08,09,0B,0C,0D,0E}} and NN >= 1 dimensions, e.g. 0x00000803)"
        )
    header = 4 + 4 * ndim
    if gz:
        buf = _gunzip(p, raw, header)
    if len(buf) < header:
        raise DataError(
            f"{p}: truncated IDX header: expected {header} bytes for {ndim} dimensions, "
            f"found {len(buf)}"
        )
    dims = tuple(int.from_bytes(buf[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no int64 overflow
    if gz:  # one byte more than the header promises is enough to tell extra data
        # (zlib takes a C ssize_t: a header claiming more than that inflates to the end)
        buf = _gunzip(p, raw, min(header + expected + 1, sys.maxsize))
    actual = len(buf) - header
    swapped = tuple(int.from_bytes(d.to_bytes(4, "big"), "little") for d in dims)
    if actual != expected and actual == math.prod(swapped) * dtype.itemsize:
        raise DataError(
            f"{p}: not an IDX file: its dimensions {swapped} are written little-endian (read "
            f"as IDX's big-endian they are {dims}); write them big-endian (e.g. "
            "struct.pack('>I', n)), as the IDX format stores them"
        )
    if actual < expected:
        raise DataError(
            f"{p}: truncated IDX file: expected {expected} bytes of data for shape {dims} "
            f"({dtype.name}), found {actual}; re-copy the file"
        )
    if actual > expected:
        raise DataError(
            f"{p}: corrupt IDX file: expected {expected} bytes of data for shape {dims} "
            f"({dtype.name}), found "
            + (f"{actual} ({actual - expected} extra)" if not gz else "more (gzip, not read on)")
            + "; re-copy the file"
        )
    arr = np.frombuffer(buf, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return arr.reshape(dims).astype(dtype.newbyteorder("="))


def find_mnist_files(folder: str | Path) -> tuple[Path, Path, Path, Path]:
    """The four MNIST IDX files in ``folder`` (``name``, ``name.gz``, or ``-idx`` written ``.idx``).

    A file may also sit in a folder of its own name (``train-images-idx3-ubyte/train-images-
    idx3-ubyte``, as in some re-distributions), and ``folder`` may be the root that torchvision
    used (``<folder>/MNIST/raw``, ``FashionMNIST/raw``, ``KMNIST/raw``, or ``<folder>/raw``).
    Order: train images, train labels, test images, test labels. Missing files raise a
    DataError listing the names looked for and what the folder holds.
    """
    p = _require_folder(folder, "mnist", "the 4 MNIST IDX files")
    subs = [p / s / "raw" for s in ("MNIST", "FashionMNIST", "KMNIST")] + [p / "raw"]

    def holds_train_images(d: Path) -> bool:  # the first file, in any of the forms below
        stem = MNIST_FILES[0]
        names = [stem, stem.replace("-idx", ".idx")]
        return any((d / n / f).is_file() or (d / f).is_file()
                   for n in names for f in (n, n + ".gz"))  # fmt: skip

    if not holds_train_images(p):  # a torchvision root (which other data sets share)?
        held = [s for s in subs if holds_train_images(s)]
        if len(held) > 1:  # MNIST beside Fashion-MNIST: which one is meant is not ours to pick
            names = ", ".join(str(s.parent if s.parent != p else s) for s in held)
            raise DataError(
                f"mnist: {p} holds more than one MNIST-format data set ({names}); pass the "
                "folder of the one you mean as data.options.path"
            )
        p = held[0] if held else p
    found = []
    for stem in MNIST_FILES:
        names = [stem, stem.replace("-idx", ".idx")]
        files = [n + ext for n in names for ext in ("", ".gz")]
        cands = [p / f for f in files] + [p / n / f for n in names for f in files]
        hit = next((c for c in cands if c.is_file()), None)
        if hit is None:
            have = sorted(c.name for c in p.iterdir())[:12]
            raise DataError(
                f"file not found: {p / stem}[.gz] (pass path=... to a folder with the 4 MNIST IDX "
                f"files {', '.join(MNIST_FILES)}); the folder has: {', '.join(have) or 'nothing'}"
            )
        found.append(hit)
    return tuple(found)  # type: ignore[return-value]


# --------------------------------------------------------------------------- CIFAR


def _np_core(name: str) -> Any:
    """``numpy._core.<name>`` (numpy 2) or ``numpy.core.<name>`` (numpy 1)."""
    try:
        return importlib.import_module(f"numpy._core.{name}")
    except ImportError:  # pragma: no cover - numpy 1.x
        return importlib.import_module(f"numpy.core.{name}")


class _DtypeSpec:
    """What a pickle says about a dtype (``numpy.dtype(obj, align, copy)`` then its state),
    recorded, not built: :meth:`build` makes a plain number dtype from it or refuses it."""

    def __init__(self, obj: Any = None, *_: Any) -> None:
        self.obj, self.state = obj, None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def build(self) -> np.dtype:
        name = self.obj.decode("latin1") if isinstance(self.obj, bytes) else self.obj
        try:
            dt = np.dtype(name) if isinstance(name, str) else None
        except TypeError:
            dt = None
        if dt is None or dt.kind not in "biuf":
            raise pickle.UnpicklingError(
                f"refusing a {name!r} array: a data batch holds numbers only"
            )
        order = self.state[1] if isinstance(self.state, tuple) and len(self.state) > 1 else "|"
        order = order.decode("latin1") if isinstance(order, bytes) else order
        return dt.newbyteorder(order) if order in ("<", ">") else dt


class _ArraySpec:
    """What a pickle says about an ndarray (``_reconstruct`` then the state ``(version, shape,
    dtype, fortran, raw bytes)``), recorded; :meth:`build` makes the array with
    ``np.frombuffer`` from a plain number dtype and exactly as many bytes as its shape needs."""

    def __init__(self, *_: Any) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def build(self) -> np.ndarray:
        state = self.state
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]  # (version, shape, dtype, fortran, raw)
        if not (isinstance(state, tuple) and len(state) == 4):
            raise pickle.UnpicklingError("an array without its shape, dtype and values")
        shape, dtype, fortran, raw = state
        return _array_from(raw, dtype, shape, "F" if fortran else "C")


def _array_from(raw: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """An array built by numpy from ``raw`` bytes, a plain number dtype and a shape, checked."""
    if not isinstance(dtype, _DtypeSpec):
        raise pickle.UnpicklingError("an array whose dtype is not a numpy dtype")
    dt = dtype.build()
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise pickle.UnpicklingError(f"an array of shape {shape!r}")
    if not isinstance(raw, bytes | bytearray | pickle.PickleBuffer):
        raise pickle.UnpicklingError(f"an array whose values are a {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) != math.prod(shape) * dt.itemsize:
        raise pickle.UnpicklingError(
            f"an array of shape {shape} {dt} with {len(raw)} bytes of values"
        )
    order = order.decode("latin1") if isinstance(order, bytes) else order
    return np.frombuffer(raw, dt).reshape(shape, order="F" if order == "F" else "C").copy()


def _scalar_from(dtype: Any, raw: Any) -> Any:
    """A numpy scalar (``multiarray.scalar(dtype, bytes)``) of a plain number dtype."""
    return _array_from(raw, dtype, (), "C")[()]


def _built(obj: Any, memo: dict[int, Any] | None = None) -> Any:
    """``obj`` with every recorded array built (dicts and lists walked, each shared one once:
    a pickle's repeated references must not multiply the walk); a bare dtype refused."""
    memo = {} if memo is None else memo
    if id(obj) in memo:
        return memo[id(obj)]
    if isinstance(obj, _ArraySpec):
        out: Any = obj.build()
    elif isinstance(obj, _DtypeSpec):
        raise pickle.UnpicklingError("a bare dtype where data belongs")
    elif isinstance(obj, dict):
        out = {_built(k, memo): _built(v, memo) for k, v in obj.items()}
    elif isinstance(obj, list | tuple):
        out = type(obj)(_built(v, memo) for v in obj)
    else:
        return obj
    memo[id(obj)] = out
    return out


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR batch holds: dicts, lists, str/bytes, ints, numpy arrays of
    numbers.

    numpy's own reconstructors never see the file's values: a dtype and an array are recorded
    (:class:`_DtypeSpec`, :class:`_ArraySpec`) and built afterwards by ``np.frombuffer`` from a
    plain number dtype and a byte string of exactly the right size. (numpy's ``dtype`` state
    can forge an object array whose "pointers" come from the file: reading it crashed the
    process.)
    """

    _ALLOWED = {
        ("numpy", "ndarray"): lambda: _ArraySpec,
        ("numpy", "dtype"): lambda: _DtypeSpec,
        ("_codecs", "encode"): lambda: __import__("codecs").encode,
        **{
            (f"numpy.{core}.multiarray", fn): (lambda f=f: f)
            for core in ("core", "_core")
            for fn, f in (("_reconstruct", _ArraySpec), ("scalar", _scalar_from))
        },
        **{
            (f"numpy.{core}.numeric", "_frombuffer"): (lambda: _array_from)
            for core in ("core", "_core")
        },
    }

    def find_class(self, module: str, name: str) -> Any:
        make = self._ALLOWED.get((module, name))
        if make is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data batch")
        return make()


def _unreadable(p: Path, err: OSError) -> DataError:
    """A data file the OS will not let us read (permissions, an I/O error)."""
    return DataError(
        f"{p}: cannot read it ({err.strerror or err}); make the file readable "
        f"(e.g. chmod u+r) or use a copy"
    )


def _load_batch(p: Path) -> dict[str, Any]:
    try:
        with p.open("rb") as fh:
            obj = _built(_BatchUnpickler(fh, encoding="bytes").load())
    except OSError as err:
        raise _unreadable(p, err) from None
    except Exception as err:  # any failure to unpickle a damaged file (LookupError, MemoryError..)
        if p.read_bytes()[:2] == b"\x1f\x8b":
            raise DataError(
                f"{p}: a gzip-compressed file, not a CIFAR batch; unpack it first (gunzip, or "
                "tar xzf for the cifar-10-python.tar.gz archive) and pass the folder of its "
                "batch files"
            ) from None
        raise DataError(
            f"{p}: corrupt CIFAR batch: cannot unpickle it ({type(err).__name__}: {err}); "
            "re-copy the batch files"
        ) from None
    if not isinstance(obj, dict):
        raise DataError(f"{p}: corrupt CIFAR batch: expected a dict, found {type(obj).__name__}")
    return {(k.decode("latin1") if isinstance(k, bytes) else str(k)): v for k, v in obj.items()}


def _batch_arrays(p: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    d = _load_batch(p)
    if "data" not in d or label_key not in d:
        raise DataError(
            f"{p}: corrupt CIFAR batch: expected keys 'data' and '{label_key}', found "
            f"{', '.join(sorted(d)) or 'none'}"
        )
    data = np.asarray(d["data"])
    labels = np.asarray(d[label_key])
    size = p.stat().st_size
    if data.nbytes > size:  # nested lists built from repeated references (the pickle memo):
        # values the file does not hold; refused before use
        raise DataError(
            f"{p}: corrupt CIFAR batch: 'data' claims {data.nbytes} bytes but the file holds "
            f"{size}; re-copy the batch files"
        )
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise DataError(
            f"{p}: corrupt CIFAR batch: 'data' must be uint8 of shape (n, 3072), found "
            f"{data.dtype} {data.shape}"
        )
    if labels.ndim != 1:
        raise DataError(
            f"{p}: corrupt CIFAR batch: '{label_key}' must be a list of class indices (shape "
            f"(n,)), found shape {labels.shape}; re-copy the batch files"
        )
    if labels.shape[0] != data.shape[0]:
        raise DataError(
            f"{p}: corrupt CIFAR batch: {data.shape[0]} images but {labels.shape[0]} labels"
        )
    if labels.size == 0:  # an empty list reads as float64: no labels, nothing to check
        labels = labels.astype(np.int64)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{p}: corrupt CIFAR batch: '{label_key}' must hold integer class indices, found "
            f"{labels.dtype} values such as {labels[:3].tolist()}; re-copy the batch files"
        )
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)  # (n, 3, 32, 32)


def _cifar_folder(folder: str | Path | None, dataset: str, marker: str, sub: str) -> Path:
    p = _require_folder(folder, dataset, f"the {dataset} python batches")
    if not (p / marker).is_file() and (p / sub).is_dir():  # the archive's parent folder: a
        p = p / sub  # file missing there is named inside it
    return p


def read_cifar10(
    folder: str | Path | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the CIFAR-10 python batches: ``data_batch_1..5`` and ``test_batch`` in ``folder``.

    ``folder`` may also be the parent of ``cifar-10-batches-py``. Returns
    ``(x_train, y_train, x_test, y_test)``: uint8 ``(50000, 3, 32, 32)``, int64 ``(50000,)``,
    uint8 ``(10000, 3, 32, 32)``, int64 ``(10000,)`` (sizes as found).
    """
    p = _cifar_folder(folder, "cifar10", "test_batch", "cifar-10-batches-py")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for n in names:
        if not (p / n).is_file():
            raise DataError(
                f"file not found: {p / n} (pass path=... to a folder with the CIFAR-10 python "
                f"batches {', '.join(names)})"
            )
    train = [_batch_arrays(p / n, "labels") for n in names[:5]]
    x_test, y_test = _batch_arrays(p / "test_batch", "labels")
    x_train = np.concatenate([b[0] for b in train])  # (50000, 3, 32, 32)
    y_train = np.concatenate([b[1] for b in train])  # (50000,)
    return x_train, y_train, x_test, y_test


def read_cifar100(
    folder: str | Path | None, label_mode: str = "fine"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the CIFAR-100 python files ``train`` and ``test`` in ``folder``.

    ``label_mode``: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses). ``folder`` may
    also be the parent of ``cifar-100-python``. Returns ``(x_train, y_train, x_test, y_test)``.
    """
    if label_mode not in ("fine", "coarse"):
        raise DataError(f"cifar100: label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    p = _cifar_folder(folder, "cifar100", "test", "cifar-100-python")
    for n in ("train", "test"):
        if not (p / n).is_file():
            raise DataError(
                f"file not found: {p / n} (pass path=... to a folder with the CIFAR-100 python "
                "files train and test)"
            )
    x_train, y_train = _batch_arrays(p / "train", f"{label_mode}_labels")
    x_test, y_test = _batch_arrays(p / "test", f"{label_mode}_labels")
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------- npz


def _npz_array(p: Path, z: Any, key: str) -> np.ndarray:
    """Array ``key`` of the open archive ``z``; an object (pickled) array is a DataError, and
    so is a member whose header claims another amount of data than it holds (a corrupt shape
    field would make numpy allocate the claimed size first, terabytes; one claiming less
    would read part of the data, or its bytes as another dtype)."""
    name = key + ".npy"
    fmt = np.lib.format
    with z.zip.open(name) as f:
        version = fmt.read_magic(f)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(version)
        shape, _, dtype = read(f) if read is not None else ((), False, np.dtype("u1"))
        header = f.tell()
    claimed = math.prod(shape) * dtype.itemsize
    held = z.zip.getinfo(name).file_size - header  # (numpy writes exactly the array's bytes)
    if read is not None and not dtype.hasobject and claimed != held:
        raise DataError(
            f"{p}: {key}'s header claims shape {shape} of {dtype} ({claimed:,} bytes) but the "
            f"archive holds {held:,} bytes of data: the file is corrupt (a wrong dtype or "
            "shape in its header); write it again with numpy.savez"
        )
    try:
        return z[key]
    except ValueError as err:
        if "allow_pickle" not in str(err):
            raise
        raise DataError(
            f"{p}: {key} is an array of Python objects (dtype=object; e.g. strings or lists), "
            "which trainlab does not unpickle; save numbers: inputs as a numeric array, labels "
            "as integer class indices (numpy.unique(y, return_inverse=True)[1])"
        ) from None


def _warn_near_misses(p: Path, keys: list[str]) -> None:
    """Warn about arrays named almost like one trainlab reads (``x_valid`` for ``x_val``): they
    are not read, and the split they were meant to be is made another way."""
    known = (*NPZ_KEYS, *_NPZ_OPTIONAL)
    lacked = [k for k in known if k not in keys]  # (y_train_onehot beside y_train: no miss)
    near = {k: m[0] for k in keys if k not in known and (m := difflib.get_close_matches(k, lacked))}
    if near:
        warnings.warn(
            f"{p}: array(s) {', '.join(near)} are not read (did you mean "
            f"{', '.join(dict.fromkeys(near.values()))}?); trainlab reads {', '.join(known)}",
            UserWarning,
            stacklevel=4,
        )


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read an ``.npz`` dataset: ``x_train, y_train, x_test, y_test`` (+ optional ``x_val, y_val``).

    Loaded with ``allow_pickle=False``. Missing arrays, a lone ``x_val``/``y_val``, or inputs
    and labels of different lengths raise a DataError that lists what the file holds.
    """
    p = _require_file(path, ".npz file")
    try:
        with p.open("rb") as fh:
            head = fh.read(6)
    except OSError as err:
        raise _unreadable(p, err) from None
    if head[:2] != b"PK" and head != b"\x93NUMPY":  # neither a zip archive nor a .npy file
        raise DataError(
            f"{p}: not an .npz file (a zip archive of .npy arrays; this one starts with bytes "
            f"{head!r}); write it with numpy.savez(path, x_train=..., y_train=..., x_test=..., "
            "y_test=...)"
        )
    try:
        z = np.load(p, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):  # a .npy file: one array, no names
            raise DataError(
                f"{p}: holds a single array (a .npy file), not an .npz archive of named "
                "arrays; write it with numpy.savez(path, x_train=..., y_train=..., x_test=..., "
                "y_test=...)"
            )
        with z:
            keys = sorted(z.files)
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise DataError(
                    f"{p}: missing array(s) {', '.join(missing)}; an npz dataset needs "
                    f"{', '.join(NPZ_KEYS)} (optional x_val, y_val); the file has: "
                    f"{', '.join(keys) or 'nothing'}"
                )
            present = [k for k in _NPZ_OPTIONAL if k in z.files]
            if len(present) == 1:
                raise DataError(
                    f"{p}: has {present[0]} without its partner; give both x_val and y_val or "
                    f"neither (the file has: {', '.join(keys)})"
                )
            _warn_near_misses(p, keys)
            out = {k: _npz_array(p, z, k) for k in (*NPZ_KEYS, *present)}
    except DataError:
        raise
    except (
        zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zlib.error,
        RuntimeError,  # an encrypted member; NotImplementedError: an unknown compression method
        MemoryError,  # a damaged size the header check above did not catch
    ) as err:  # fmt: skip
        raise DataError(
            f"{p}: not a readable .npz file ({type(err).__name__}: {err}); write it with "
            "numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"
        ) from None
    for split in ("train", "val", "test"):
        if f"x_{split}" not in out:
            continue
        x, y = out[f"x_{split}"], out[f"y_{split}"]
        if y.ndim == 2 and x.ndim >= 1 and y.shape[0] == x.shape[0] and y.shape[1] > 1:
            raise DataError(
                f"{p}: y_{split} has shape {y.shape}: one-hot or score rows, not class indices; "
                f"save y_{split}.argmax(1), shape ({y.shape[0]},)"
            )
        if x.ndim < 1 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise DataError(
                f"{p}: x_{split} has shape {x.shape} but y_{split} {y.shape}; they need the same "
                "length N, with y 1-D (the file has: "
                + ", ".join(f"{k} {v.shape}" for k, v in out.items())
                + ")"
            )
        refuse_channels_last(f"{p}: x_{split}", x.shape, f"save x_{split}")
    return out


def refuse_channels_last(what: str, shape: tuple[int, ...], fix: str) -> None:
    """A DataError for ``(N, H, W, C)`` images ``what``: 1, 3 or 4 channels last behind two
    larger spatial sizes (a ``(N, C, H, W)`` array has its few channels in front:
    ``(N, 3, 32, 32)``); ``fix`` names the array (``save x_train``, ``pass x``)."""
    if len(shape) == 4 and shape[3] in (1, 3, 4) and min(shape[1], shape[2]) > 4:
        raise DataError(
            f"{what} has shape {shape}, images with their channels last (N, H, W, C); "
            f"trainlab takes (N, C, H, W), as torch's convolutions do: {fix}.transpose(0, 3, 1, 2)"
        )
