"""trainlab study: a bad --device is refused before any folder is made, for every study; the
clipping table counts the models whose first-epoch gradient diverged."""

from __future__ import annotations

from conftest import run_cli


def test_preprocessing_bad_device_leaves_no_run_directory_behind(tmp_path, monkeypatch, capsys):
    """A mistyped ``--device`` is a user error: one line, exit status 2, and nothing written.
    The studies promise that an existing ``--out`` is never overwritten, so a folder left
    behind by a failed start blocks the corrected command: ``trainlab study preprocessing
    --quick --device bogus --out X`` creates ``X/checkpoints/`` before the device is checked,
    and the rerun with ``--device cpu --out X`` is then refused with "run directory X already
    exists". The activations study checks the device first and leaves nothing; the
    ``--seeds 0`` errors of every study leave nothing either (tests/test_studies_optim.py)."""
    out = tmp_path / "pp"
    code, _, err = run_cli(
        monkeypatch, capsys, "study", "preprocessing", "--quick", "--device", "bogus",
        "--out", out,
    )  # fmt: skip
    assert code == 2 and "unknown device 'bogus'" in err and "Traceback" not in err
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert left == [], f"a failed start left {left} in {out}: the rerun with the same --out fails"


def test_optimizers_2d_rejects_an_unknown_device(tmp_path, monkeypatch, capsys):
    """``--device`` is validated by every other study (an unknown name is one line and exit
    status 2: "unknown device 'bogus'; use auto, cpu or cuda"), following the house rule that
    public functions validate their inputs. ``trainlab study optimizers-2d --device bogus``
    instead runs the whole study and exits 0, so a typo such as ``--device cdua`` (or asking
    for ``cuda`` on a machine without one) goes unnoticed: the user believes the study ran on
    the device they named. The 2-D study may well run on the CPU whatever the device, but the
    argument must still be a valid one."""
    from trainlab.studies import optimizers_2d

    monkeypatch.setattr(optimizers_2d, "QUICK_STEPS", 20)  # keeps the (wrongly) accepted run short
    out = tmp_path / "o2d"
    code, _, err = run_cli(
        monkeypatch, capsys, "study", "optimizers-2d", "--quick", "--device", "bogus",
        "--out", out,
    )  # fmt: skip
    assert code == 2, f"exit {code}: an unknown --device was accepted silently"
    assert "unknown device 'bogus'" in err


def test_clipping_table_names_the_models_whose_first_epoch_gradient_diverged():
    """The clipping study's "grad norm, epoch 1" column is about exploding gradients, so a model
    whose epoch-1 mean norm is infinite or NaN must be counted, not silently averaged away (the
    column showed the finite models' mean, or "—" when every model diverged)."""
    from trainlab.studies.clipping import _first_epoch_grad_norm

    rows = [
        {"model": 0, "epoch": 1, "grad_norm": 2.0},
        {"model": 1, "epoch": 1, "grad_norm": float("inf")},
        {"model": 2, "epoch": 1, "grad_norm": 4.0},
        {"model": 0, "epoch": 2, "grad_norm": 100.0},
        {"model": 3, "epoch": 1, "grad_norm": float("nan")},
    ]
    cell = {"metrics": rows}
    assert _first_epoch_grad_norm(cell, [0, 2]) == "3"
    assert _first_epoch_grad_norm(cell, [0, 1, 2]) == "3 (1/3 non-finite)"
    assert _first_epoch_grad_norm(cell, [1, 3]) == "2/2 non-finite"
    assert _first_epoch_grad_norm(cell, [7]) == "—"
