"""Review (lrfind34) of `trainlab lr-find`: --out must never overwrite a file."""

from __future__ import annotations

from conftest import config_file, run_cli

SMALL = """
name: lrf
data: {name: digits}
model: {name: mlp, hidden: [8]}
optim: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 500}
population: {seeds: [0]}
"""


# wrong: `lr-find --out FILE` checks that FILE does not exist only before the (minutes-long)
# test; a file that appears at FILE while it runs (a second lr-find with the same --out, a
# user's own plot) is silently replaced by save_figure's atomic rename (cli/optim.py _png
# checks `out.exists()` once; report/plots.py save_figure writes unconditionally). The README
# promises that `--out FILE` plots "refuse a file that exists": the file found at the end must
# be kept (write with an exclusive create / os.link, and fail with one line, exit 2).
def test_lr_find_out_does_not_overwrite_a_file_created_during_the_run(
    monkeypatch, capsys, tmp_path
):
    import importlib

    mod = importlib.import_module("trainlab.optim.lr_find")  # (the package's name is the function)

    out = tmp_path / "curve.png"
    real = mod.lr_find

    def lr_find_meanwhile(*args, **kwargs):
        res = real(*args, **kwargs)
        out.write_bytes(b"someone else's plot")  # appears while the test runs
        return res

    monkeypatch.setattr(mod, "lr_find", lr_find_meanwhile)
    path = config_file(tmp_path, SMALL)
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", path, "--steps", "5", "--device", "cpu", "--out", out
    )
    assert out.read_bytes() == b"someone else's plot"
    assert code == 2 and "Traceback" not in err, (code, err[-800:])


# atomic_open(exclusive=True), what the --out plots write with: a file at the path, also one
# made while the block ran, is kept (FileExistsError) and no temporary file is left; where the
# file system has no hard links, the path is reserved by an exclusive create instead.
def test_atomic_open_exclusive_never_replaces(tmp_path, monkeypatch):
    import os

    import pytest

    from trainlab.atomic import atomic_open

    new = tmp_path / "new.bin"
    with atomic_open(new, exclusive=True) as f:
        f.write(b"mine")
    assert new.read_bytes() == b"mine"
    with pytest.raises(FileExistsError), atomic_open(new, exclusive=True) as f:
        f.write(b"other")
    assert new.read_bytes() == b"mine"
    late = tmp_path / "late.bin"
    with pytest.raises(FileExistsError), atomic_open(late, exclusive=True) as f:
        late.write_bytes(b"theirs")  # made while the block runs
        f.write(b"other")
    assert late.read_bytes() == b"theirs"

    def no_links(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    fat = tmp_path / "fat.bin"
    with atomic_open(fat, exclusive=True) as f:
        f.write(b"mine")
    assert fat.read_bytes() == b"mine"
    with pytest.raises(FileExistsError), atomic_open(fat, exclusive=True) as f:
        f.write(b"other")
    assert fat.read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fat.bin", "late.bin", "new.bin"]


# lr_sweep trains fixed learning rates with the config's first seed; a config's schedule
# (examples/lr_sweep_sgd.yaml's cosine) and its other seeds were dropped without a word.
def test_lr_sweep_says_what_of_the_config_it_does_not_use():
    import pytest

    from conftest import small_config
    from trainlab.optim import lr_sweep

    cfg = small_config(schedule={"name": "cosine"}, population={"seeds": [3, 4]})
    with pytest.warns(UserWarning, match=r"first seed \(3\); not used: schedule 'cosine', seeds 4"):
        lr_sweep(cfg, [0.01, 0.1], device="cpu")
