"""Findings of a scikit-learn/torch user's review (2026-12-02): inputs torch or scikit-learn
refuse, and trainlab took."""

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import SGD, Adam


@pytest.mark.parametrize(
    "kwargs",
    [{"lr": "0.1"}, {"lr": b"0.1"}, {"lr": ["0.1", 0.2, 0.3]}, {"lr": [True, 0.1, 0.1]}],
)
def test_a_hyperparameter_given_as_text_is_refused(kwargs):
    """``SGD(p, lr="0.1")`` stepped with lr 0.1 (``float("0.1")``); ``torch.optim.SGD`` raises."""
    p = torch.nn.Parameter(torch.zeros(3, 2))
    with pytest.raises(ConfigError, match="lr must be a"):
        SGD([p], **kwargs)


def test_adam_betas_given_as_text_are_refused():
    p = torch.nn.Parameter(torch.zeros(3, 2))
    with pytest.raises(ConfigError, match="beta1 must be a number"):
        Adam([p], betas=("0.9", 0.99))
    Adam([p], betas=(0.9, [0.99, 0.999, 0.95]))  # (numbers, and a list of K, still go)


def test_a_range_error_states_a_range_that_excludes_infinity():
    """``SGD(p, lr=-1)`` said "lr must lie in [0.0, inf], got -1.0; fix the config value":
    inf is refused too (``must be finite``), and the Python API has no config value."""
    p = torch.nn.Parameter(torch.zeros(3, 2))
    with pytest.raises(ConfigError) as err:
        SGD([p], lr=-1.0)
    assert str(err.value) == "lr must lie in [0.0, inf), got -1.0"
    with pytest.raises(ConfigError, match="lr must be finite"):
        SGD([p], lr=float("inf"))


def test_clipping_thresholds_given_as_text_or_bools_are_refused():
    from trainlab.optim import clip_grad_norm_

    p = torch.nn.Parameter(torch.zeros(3, 2))
    p.grad = torch.ones(3, 2)
    for bad in ("1.0", True):
        with pytest.raises(ConfigError, match="max_norm must be a number"):
            clip_grad_norm_([p], bad, k=3)
    with pytest.raises(ConfigError) as err:
        clip_grad_norm_([p], -1.0, k=3)
    assert str(err.value) == "max_norm must be > 0, got -1.0"


@pytest.mark.parametrize("step", [-5, -0.5, float("nan"), True, "3"])
def test_a_schedule_refuses_a_step_before_its_start(step):
    """``create_schedule("cosine", ...)(-5)`` returned learning rates above the base lr."""
    from trainlab.optim import create_schedule

    sched = create_schedule("cosine", torch.tensor([0.1, 0.2]), total_steps=100, steps_per_epoch=10)
    with pytest.raises(ConfigError, match="step is a number >= 0"):
        sched(step)
    assert torch.equal(sched(0), torch.tensor([0.1, 0.2]))
    assert torch.equal(sched(torch.tensor(0)), sched(0))  # (a tensor step is not read)


def test_a_table_printed_to_a_log_file_keeps_each_row_on_one_line(tmp_path):
    """``trainlab diagnose CFG > log`` wrote the verdict table at 80 columns (rich's width when
    no stream is a terminal), its detail cells split over two lines: grep found half a
    sentence. In a log file or a pipe the CLI console is as wide as its widest line."""
    import os
    import subprocess
    import sys

    detail = "model 0: " + " ".join(f"word{i}" for i in range(40))  # ~290 characters
    script = (
        "from trainlab.cli.app import console\n"
        "from trainlab.diagnostics.verdict import Finding, verdict_table\n"
        f"console.print(verdict_table([Finding(check='gradients', status='warn', model=0, "
        f"message={detail!r})]))\n"
        "print('width', console.width)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env,
        stdin=subprocess.DEVNULL, cwd=tmp_path, check=True,
    ).stdout  # fmt: skip
    rows = [line for line in out.splitlines() if "word" in line]
    assert len(rows) == 1 and detail in rows[0], out
    # an explicit width still holds (COLUMNS=40: the narrow-terminal fallback, one line a row)
    narrow = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env={**env, "COLUMNS": "40"}, stdin=subprocess.DEVNULL, cwd=tmp_path, check=True,
    ).stdout  # fmt: skip
    assert "width 40" in narrow


def test_a_verbose_dbn_says_which_layer_is_training(capsys):
    """``DBN(verbose=True)`` printed ``[BernoulliRBM] Iteration 1, …`` for every layer alike."""
    import numpy as np

    from trainlab.pretrain import DBN

    x = np.random.default_rng(0).random((40, 6))
    DBN(layers=[5, 3], n_iter=2, batch_size=10, random_state=0, verbose=True).fit(x)
    lines = capsys.readouterr().out.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("[DBN]")]
    assert [lines[i] for i in heads] == [
        "[DBN] layer 1 of 2: BernoulliRBM, 5 units",
        "[DBN] layer 2 of 2: BernoulliRBM, 3 units",
    ]
    assert heads == [0, 3]  # each before its layer's two passes


def _digits_config():
    from trainlab.config import parse_config

    return parse_config({"data": {"name": "digits"}, "train": {"epochs": 1}})


def test_a_module_on_the_meta_device_is_refused_with_the_fix():
    """Parameters built under ``torch.device("meta")`` failed inside torch's ``Module.cpu``:
    ``NotImplementedError: Cannot copy out of meta tensor; no data!``."""
    import trainlab
    from trainlab.diagnostics import watch
    from trainlab.errors import UserError

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10, device="meta"))
    with pytest.raises(UserError, match=r"'1.weight' on the meta device .*to_empty"):
        trainlab.train(_digits_config(), model=model, write=False)
    with pytest.raises(UserError, match="on the meta device"):
        watch(model)


def test_one_model_that_vmap_cannot_batch_gives_no_k_times_warning(recwarn):
    """At K=1 a forward with ``.item()`` warned that the population "runs its 1 models one after
    another (K times one model's time)": one model loses nothing."""
    import trainlab

    class Itemized(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(64, 10)

        def forward(self, x):
            scale = float(x.abs().max().item()) or 1.0
            return self.fc(x.flatten(1) / scale)

    trainlab.train(_digits_config(), model=Itemized(), write=False)
    assert not [w for w in recwarn if "one after another" in str(w.message)]


def test_tensors_given_to_arrays_dataset_raise_no_numpy_deprecation_warning():
    import warnings

    from trainlab.pretrain import arrays_dataset

    x, y = torch.rand(30, 4), torch.arange(30) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        data = arrays_dataset(x, y, x[:6], y[:6], val_fraction=0)
    assert torch.equal(data.x_train.cpu(), x)


def _as_unprivileged(script: str, cwd) -> str:
    """Run ``script`` with Python where file permissions bind: as this user when it is not
    root, else under ``capsh`` with the capabilities that override them dropped."""
    import os
    import shlex
    import shutil
    import subprocess
    import sys

    cmd = [sys.executable, "-c", script]
    if os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("running as root without capsh: permissions cannot bind")
        cmd = [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c", shlex.join(cmd)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=True).stdout


def test_a_data_folder_that_cannot_be_read_is_named_as_such(tmp_path):
    """``data.options.path`` an unreadable folder: ``trainlab.data.load`` raised a bare
    PermissionError on a file name it had only guessed (``noperm/train-images-idx3-ubyte/
    train-images-idx3-ubyte``), which the CLI then reported as "no permission to write there"."""
    (tmp_path / "noperm").mkdir()
    (tmp_path / "noperm").chmod(0)
    script = (
        "from trainlab import data\n"
        "for name, p in [('mnist', 'noperm'), ('npz', 'noperm/x.npz'), ('cifar10', 'noperm')]:\n"
        "    try:\n"
        "        data.load(name, path=p)\n"
        "    except Exception as e:\n"
        "        print(type(e).__name__, e)\n"
    )
    try:
        out = _as_unprivileged(script, tmp_path).splitlines()
    finally:
        (tmp_path / "noperm").chmod(0o700)
    assert len(out) == 3, out
    for line, name in zip(out, ["mnist", "npz", "cifar10"], strict=True):
        assert line.startswith(f"DataError {name}: cannot read the folder noperm (Permission"), line
        assert "chmod u+rx" in line


def test_classes_only_in_the_test_split_are_warned_about(tmp_path):
    """An .npz whose test labels hold classes the training labels lack loaded with
    ``num_classes`` covering them and trained without a word: their accuracy can only be 0."""
    import warnings

    import numpy as np

    from trainlab import data

    rng = np.random.default_rng(0)
    x, y = rng.random((60, 4)).astype("float32"), np.arange(60) % 2
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:20], y_test=np.arange(20) % 4)
    with pytest.warns(UserWarning, match=r"the test labels hold classes 2, 3, which no training"):
        got = data.load("npz", path=tmp_path / "d.npz")
    assert got.num_classes == 4
    np.savez(tmp_path / "ok.npz", x_train=x, y_train=y, x_test=x[:20], y_test=y[:20])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.load("npz", path=tmp_path / "ok.npz")


def test_an_idx_header_written_little_endian_is_named_as_such(tmp_path):
    """Dimensions packed little-endian were reported as a truncated file ("expected
    222140119354188110852259840 bytes of data ... re-copy the file"): re-copying fixes
    nothing."""
    import gzip
    import struct

    import numpy as np

    from trainlab.data import read_idx
    from trainlab.errors import DataError

    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = b"\x00\x00\x08\x03" + struct.pack("<3I", 2, 3, 4) + images.tobytes()
    (tmp_path / "le").write_bytes(raw)
    (tmp_path / "le.gz").write_bytes(gzip.compress(raw))
    for name in ("le", "le.gz"):
        with pytest.raises(DataError, match=r"dimensions \(2, 3, 4\) are written little-endian"):
            read_idx(tmp_path / name)
    big = b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 3, 4) + images.tobytes()[:-1]
    (tmp_path / "cut").write_bytes(big)
    with pytest.raises(DataError, match="truncated IDX file"):  # (a cut file is still one)
        read_idx(tmp_path / "cut")


def test_a_gzipped_cifar_batch_says_to_unpack_it(tmp_path):
    import gzip

    from test_readers import write_cifar10
    from trainlab.data import read_cifar10
    from trainlab.errors import DataError

    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    batch = folder / "data_batch_3"
    batch.write_bytes(gzip.compress(batch.read_bytes()))
    with pytest.raises(DataError, match="data_batch_3: a gzip-compressed file, not a CIFAR batch"):
        read_cifar10(folder)


def test_ragged_inputs_without_a_test_split_get_the_one_line_error():
    """``arrays_dataset(ragged, y, None, None)`` raised numpy's ValueError ("setting an array
    element with a sequence") from the empty test split's shape; with a test split, the
    DataError."""
    import numpy as np

    from trainlab.errors import DataError
    from trainlab.pretrain import arrays_dataset

    with pytest.raises(DataError, match="train inputs and labels must each be one array"):
        arrays_dataset([[1.0, 2.0], [3.0]] * 20, np.array([0, 1] * 20), None, None)
    data = arrays_dataset(np.ones((40, 3)), np.array([0, 1] * 20), None, None)
    assert data.x_test.shape == (0, 3) and data.y_test.shape == (0,)


def test_rbm_curves_show_the_mean_input_baseline_and_name_their_axes():
    """Figure review: pretrain_rbm/figures/curves.png had no y labels, titled the negative
    pseudo-log-likelihood "pseudo likelihood", and gave no baseline: its falling reconstruction
    error (0.0746 after 2 passes) looked like learning though predicting the mean image scores
    ~0.074."""
    import numpy as np

    from trainlab.pretrain.run import curves_figure

    hist = {"epoch": [1, 2], "reconstruction_error": np.array([[0.08, 0.07]]),
            "pseudo_likelihood": np.array([[-26.0, -25.5]])}  # fmt: skip
    fig = curves_figure(hist, ["m0"], {"reconstruction_error": 0.074})
    rec, pl = fig.axes
    assert rec.get_ylabel() == "reconstruction error"
    assert pl.get_title() == "pseudo-log-likelihood (per sample)"
    (base,) = [line for line in rec.get_lines() if line.get_linestyle() == "--"]
    assert base.get_ydata()[0] == 0.074 and base.get_label() == "predict the mean input"
    assert "predict the mean input" in [t.get_text() for t in rec.get_legend().get_texts()]
    assert not [line for line in pl.get_lines() if line.get_linestyle() == "--"]


def test_an_update_ratio_small_only_because_the_schedule_decayed_is_not_a_warning():
    """Figure review: `trainlab train examples/lr_sweep_sgd.yaml --diagnose` (cosine, 4 epochs)
    warned "update/weight ratio too small" for all 10 models, lr 0.1 at 95% test accuracy
    included: judged at step 50 of 52, where cosine had cut the learning rate ~60×. An update
    scales with the learning rate: judged at the largest rate, the ratio is within bounds."""
    from trainlab.diagnostics.run import _decayed_schedule
    from trainlab.diagnostics.verdict import Finding

    def small(model, value, extra=""):
        return Finding("update_ratio", "warn", model,
                       f"update/weight ratio too small: {value:.1e} in 'fc1' (bound 1e-05){extra}",
                       50, "fc1", value, ["fc1"])  # fmt: skip

    cosine = [{"model": m, "epoch": e, "step": 13 * e, "lr": lr}
              for m in range(4) for e, lr in enumerate([0.087, 0.05, 0.013, 1e-5], 1)]  # fmt: skip
    constant = [{"model": 4, "epoch": e, "step": 13 * e, "lr": 0.1} for e in (1, 2, 3, 4)]
    findings = [
        small(0, 8.5e-6),  # lr at step 50 ≈ 0.001 (1/87): ≈ 7e-4 at the largest rate
        small(1, 1e-9),  # ≈ 6e-8 at the largest rate: too small even there
        small(2, 8.5e-6, "; at step 0 it was too large: 1.3e-01 in 'out' (bound 0.1)"),
        Finding("update_ratio", "ok", 3, "‖Δθ‖/‖θ‖ within [1e-05, 0.1]", 50, None, 1e-3),
        small(4, 8.5e-6),  # a constant rate: nothing decayed
    ]
    out = _decayed_schedule(findings, cosine + constant)
    assert out[0].status == "ok" and "the schedule had cut the learning rate" in out[0].message
    assert out[0].value == 8.5e-6 and out[0].step == 50 and out[0].layer == "fc1"
    assert [f.status for f in out[1:]] == ["warn", "warn", "ok", "warn"]
    assert out[1:] == findings[1:]


def test_a_broken_symbolic_link_is_named_as_such(tmp_path, monkeypatch):
    """``data.options.path: dangling.npz`` (a link to a file that is gone) said "file not found:
    /…/nonexist.npz", the link's target, which the user never typed."""
    from trainlab import data
    from trainlab.data import with_absolute_path
    from trainlab.errors import DataError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dangling.npz").symlink_to("nonexist.npz")
    options = with_absolute_path({"path": "dangling.npz"})
    assert options["path"] == str(tmp_path / "dangling.npz")
    with pytest.raises(DataError) as err:
        data.load("npz", **options)
    assert str(err.value).startswith(
        f"file not found: {tmp_path / 'dangling.npz'}, a broken symbolic link to nonexist.npz"
    )


def test_an_empty_test_split_in_the_file_is_warned_about(tmp_path):
    """An .npz whose x_test/y_test hold 0 rows trained silently; summary.json then showed
    test_acc null with no word why."""
    import numpy as np

    from trainlab import data

    x, y = np.random.default_rng(0).random((40, 3)), np.arange(40) % 2
    np.savez(tmp_path / "e.npz", x_train=x, y_train=y, x_test=x[:0], y_test=y[:0])
    with pytest.warns(UserWarning, match=r"test split \(x_test/y_test\) is empty"):
        got = data.load("npz", path=tmp_path / "e.npz")
    assert len(got.y_test) == 0
