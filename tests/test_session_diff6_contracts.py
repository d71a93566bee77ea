"""Adversarial review of commit a326431: ``Dataset.checked()`` for a dataset given to
``train``/``resume``, the watch's update ratio after the ``_finish_update`` change, and
training under ``torch.inference_mode()`` (``_trainer_context``).

Every test here fails on the code it was written against, for the reason its docstring gives.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.data import Dataset
from trainlab.diagnostics import verdict, watch
from trainlab.errors import UserError
from trainlab.train import resume, train


def _cfg(epochs: int = 1):
    return small_config(
        model={"name": "mlp", "hidden": [8]},
        train={"epochs": epochs, "batch_size": 16},
    )


def _xy(n: int = 40, d: int = 4, classes: int = 3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)  # (N, D) float32
    y = torch.arange(n) % classes  # (N,) int64
    return x, y


def _weights(result, i: int = 0) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in result.model(i).state_dict().items()}


def _killed_then_resumed(monkeypatch, tmp_path, cfg, ds, ctx=None):
    """Train ``cfg`` on ``ds`` into a run folder, "killed" after the first checkpoint, then
    ``resume(run, dataset=ds)`` (inside ``ctx()`` if given); the resumed result."""
    out = tmp_path / "run"
    orig = kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        train(cfg, dataset=ds, out=out, progress=False, device="cpu")
    from trainlab.runs import RunDir

    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    if ctx is None:
        return resume(out, dataset=ds, progress=False, device="cpu")
    with ctx():
        return resume(out, dataset=ds, progress=False, device="cpu")


# -- resume(dataset=...) of a dataset that Dataset.checked() converted --------------------------


@pytest.mark.parametrize("form", ["int32-labels", "numpy-arrays"])
def test_resume_accepts_the_very_dataset_the_run_trained_on(monkeypatch, tmp_path, form):
    """Commit a326431 made ``train(cfg, dataset=ds)`` accept a hand-built ``Dataset`` with
    int32 labels or numpy arrays: ``Dataset.checked()`` converts them (labels to int64, arrays
    to tensors) and the run records the *converted* dataset's fingerprint (SHA-256 of its
    tensors' bytes) in population.json. ``resume(run, dataset=ds)`` -- the documented way to
    continue such a run ("resume it from Python: trainlab.train.resume(dir,
    dataset=the_same_dataset)") -- fingerprints the dataset *as given*, unconverted: with int32
    labels the bytes differ and the very same dataset is refused ("the dataset passed to resume
    is not the one ... trained on (its sha256 differ)"); with numpy arrays ``_dataset_record``
    calls ``.detach()`` on an ndarray and crashes with AttributeError. A run that trained can
    thus never be resumed. Resuming with the same object must reach the uninterrupted run's
    weights (``resume``'s docstring: bitwise on CPU)."""
    x, y = _xy()
    if form == "int32-labels":
        y = y.to(torch.int32)
        ds = Dataset("mine", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 3)
    else:
        xn, yn = x.numpy(), y.numpy()
        ds = Dataset("mine", xn, yn, xn[:8], yn[:8], xn[:8], yn[:8], (4,), 3)
    cfg = _cfg(epochs=2)
    want = _weights(train(cfg, dataset=ds, write=False, progress=False, device="cpu"))
    got = _weights(_killed_then_resumed(monkeypatch, tmp_path, cfg, ds))
    for key in want:
        assert torch.equal(got[key], want[key]), key


# -- Dataset.checked(): too lax / crashing ------------------------------------------------------


def test_a_float64_test_split_is_refused_before_the_run_folder(tmp_path):
    """``Dataset.checked()`` promises to check a hand-built dataset "as ``load`` checks a
    file's" and converts numpy arrays to tensors; ``load`` always gives float32 inputs in every
    split, and the ``Dataset`` docstring says inputs are float32. The trainer compares the
    model's dtype with ``x_train`` only, so a test split that arrives as a float64 numpy array
    (``np.load`` of a second file, the most common case) passes every check, the whole run
    trains and writes its run folder, and the final evaluation dies with ``RuntimeError:
    expected scalar type Float but found Double``, losing the run's summary. It must be
    refused up front with a UserError naming the split (or the split trained on as float32),
    before anything is written."""
    x, y = _xy()
    x_test = x[:8].numpy().astype(np.float64)  # e.g. np.load("test.npy")
    ds = Dataset("mine", x, y, x[:8], y[:8], x_test, y[:8].numpy(), (4,), 3)
    out = tmp_path / "run"
    try:
        result = train(_cfg(), dataset=ds, out=out, progress=False, device="cpu")
    except UserError:
        assert not out.exists(), sorted(p.name for p in out.iterdir())
        return
    row = result.summary["models"][0]
    assert row["status"] == "ok", row


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64])
def test_unsigned_integer_labels_train_or_are_refused_in_one_line(dtype):
    """``Dataset.checked()`` accepts numpy arrays of any integer kind (``_tensor_field``:
    ``dtype.kind in "biuf"``) and promises "1-D integer labels in [0, num_classes) (made
    int64)" or "a one-line DataError". Unsigned labels are common (segmentation masks and
    label files are often uint16; ``np.fromfile(..., np.uint32)``). ``torch.from_numpy`` makes
    them torch.uint16/32/64, for which torch implements no ``min``: the range check
    ``int(y.min())`` crashes with ``NotImplementedError: "min_all" not implemented for
    'UInt16'``. Such labels must train exactly as the same labels in int64, or be refused with
    a UserError."""
    x, y = _xy()
    yu = y.numpy().astype(dtype)
    ds = Dataset("mine", x, yu, x[:8], yu[:8], x[:8], yu[:8], (4,), 3)
    _trains_as_or_refused(ds, Dataset("mine", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 3))


def _trains_as_or_refused(ds: Dataset, ref: Dataset) -> None:
    """``ds`` trains bitwise as ``ref`` (the same data in the documented form), or is refused
    with a UserError."""
    try:
        got = train(_cfg(), dataset=ds, write=False, progress=False, device="cpu")
    except UserError:
        return
    want = train(_cfg(), dataset=ref, write=False, progress=False, device="cpu")
    for key, value in _weights(want).items():
        assert torch.equal(_weights(got)[key], value), key


def test_big_endian_numpy_inputs_train_or_are_refused_in_one_line():
    """``Dataset.checked()`` converts numpy float arrays to tensors (``_tensor_field``:
    ``torch.from_numpy(np.ascontiguousarray(value))``) and promises a one-line ``DataError``
    otherwise; ``trainlab.data.load`` reads data "of either byte order". Arrays in big-endian
    order (``np.fromfile(path, ">f4")``, FITS and other scientific formats, files written on
    big-endian machines) make ``torch.from_numpy`` raise a bare ``ValueError: given numpy
    array has byte order different from the native byte order``, not a trainlab error. They
    must train as the same values in native order, or be refused with a UserError."""
    x, y = _xy()
    xb = x.numpy().astype(">f4")
    ds = Dataset("mine", xb, y, x[:8], y[:8], x[:8], y[:8], (4,), 3)
    _trains_as_or_refused(ds, Dataset("mine", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 3))


# -- _trainer_context: resume under inference_mode ----------------------------------------------


def test_resume_under_inference_mode_trains_as_outside_it(monkeypatch, tmp_path):
    """Commit a326431: "training ... work under no_grad/inference_mode" -- the trainer's
    methods turn autograd back on, so a notebook cell under ``torch.inference_mode()`` trains
    the same weights as one outside it (tested for ``train``). ``resume`` is the other way to
    train, but ``Trainer.load_state`` (not wrapped by ``_trainer_context``) rebuilds the
    trainer's state tensors (``alive``, ``nan_step``, ...) from the checkpoint in the caller's
    inference mode, so they are inference tensors, and the first resumed step dies with
    ``RuntimeError: Inplace update to inference tensor outside InferenceMode is not allowed``
    (at ``self.alive &= ~failed``). The resumed run must reach the uninterrupted run's
    weights, as it does under ``torch.no_grad()``."""
    x, y = _xy()
    ds = Dataset("mine", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 3)
    cfg = _cfg(epochs=2)
    want = _weights(train(cfg, dataset=ds, write=False, progress=False, device="cpu"))
    got = _weights(_killed_then_resumed(monkeypatch, tmp_path, cfg, ds, torch.inference_mode))
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)


# -- watch: update_ratio with a fused optimizer at lr 0 -----------------------------------------


def _lr0_records(fused: bool) -> list[dict]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    # lr 0: the first step of a warmup from 0 (LambdaLR(lambda s: s / warmup)), or a frozen lr
    opt = torch.optim.Adam(model.parameters(), lr=0.0, fused=fused, foreach=not fused or None)
    x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
    with watch(model, every=1) as w:
        for _ in range(3):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    return w.records()


def test_an_optimizer_step_with_lr_0_reads_the_same_with_a_fused_and_a_foreach_optimizer():
    """The watch documents that an optimizer step is detected "from the parameters' in-place
    version counters ... or from a step of a ``torch.optim`` optimizer holding them (a global
    step hook: fused optimizers move no counter)", and ``update_ratio`` is then
    ‖θ_{s+1} − θ_s‖/‖θ_s‖: 0.0 for a real step with lr 0 (a warmup from 0, a schedule that
    ends at 0), which the verdict reads as "no update (model stopped or frozen)". Since
    a326431 (``update_by_value = not counted``) an all-zero update seen only through the step
    hook reads as None, so ``Adam(fused=True)`` at lr 0 records ``update_ratio=None`` at every
    step while ``Adam(foreach=True)`` -- bitwise the same training -- records 0.0, and the
    verdict's update_ratio finding disappears for the fused run. The records must not depend
    on the optimizer's kernel."""
    foreach, fused = _lr0_records(False), _lr0_records(True)
    for a, b in zip(foreach, fused, strict=True):
        assert (a["step"], a["layer"]) == (b["step"], b["layer"])
        assert a["update_ratio"] == b["update_ratio"], (a["step"], a["layer"])
    found = {
        name: [(f.status, f.message) for f in verdict(recs) if f.check == "update_ratio"]
        for name, recs in (("foreach", foreach), ("fused", fused))
    }
    assert found["fused"] == found["foreach"], found


def test_an_empty_validation_split_of_any_shape_still_trains():
    """Before ``Dataset.checked()``, a dataset whose validation split is simply empty
    (``torch.empty(0)``, ``torch.tensor([])``: shape ``(0,)``, float labels) trained, since
    no evaluation reads an empty split; the check must not refuse "no split" for its shape."""
    x, y = _xy()
    empty = torch.tensor([])
    ds = Dataset("mine", x, y, empty, empty, x[:8], y[:8], (4,), 3)
    result = train(_cfg(epochs=1), dataset=ds, write=False, progress=False, device="cpu")
    assert result.summary["models"][0]["final"]["test_acc"] >= 0.0
