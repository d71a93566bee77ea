"""Review (pretrainflow18): the `trainlab pretrain` journey -- config, run directory, report,
and what a user sees on the way. Each test fails on the current code."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import yaml

from conftest import run_cli

TINY_RBM = (
    "name: tiny\ndata: {name: digits, scale: minmax}\n"
    "model: {kind: rbm, n_components: 4}\n"
    "train: {n_iter: 5, batch_size: 100}\nseeds: [0]\ndevice: cpu\n"
)


def _digits01(n: int) -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().data[:n] / 16.0


def test_line_plot_reconstructions_share_the_inputs_scale():
    # Wrong: for 1-D data (mnist1d, spirals, ...) each reconstruction subplot autoscales, so a
    # flat 0.5 +- 0.001 reconstruction looks as varied as its input; right: the reconstruction
    # row is drawn on the inputs' scale (as the image path does with vmin/vmax).
    from trainlab.pretrain.run import reconstructions_figure

    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (3, 40))
    rec = 0.5 + 0.001 * rng.standard_normal((3, 40))
    fig = reconstructions_figure(x, rec, (40,))
    bottom = fig.axes[3:6]
    for ax in bottom:
        lo, hi = ax.get_ylim()
        assert lo <= x.min() and hi >= x.max(), (lo, hi)


def test_rbm_test_reconstruction_of_large_weights_prints_no_numpy_overflow_warning():
    # Wrong: run.py's _rbm_reconstruct computes 1 / (1 + np.exp(-a)) and the CLI prints
    # "RuntimeWarning: overflow encountered in exp" (seen with --grid learning_rate=...,1000);
    # right: no warning, the result is the same 0 (use scipy.special.expit, as the RBMs do).
    from trainlab.pretrain import BernoulliRBM
    from trainlab.pretrain.run import _rbm_reconstruct

    x = _digits01(200)
    rbm = BernoulliRBM(8, n_iter=1, random_state=0).fit(x)
    rbm.components_ = rbm.components_ * 1e4  # finite weights (not 'diverged'), saturated units
    assert not rbm.diverged()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = _rbm_reconstruct(rbm, x[:10])
    assert np.isfinite(r).all()


def test_dbn_reconstruction_for_the_report_prints_no_numpy_overflow_warning():
    # Wrong: the DBN down pass in run.py's _fit_stack computes 1 / (1 + np.exp(-h)) and warns
    # "overflow encountered in exp" for a finite, saturated DBN (learning_rate 1000);
    # right: no warning (scipy.special.expit), the same finite reconstruction.
    from trainlab.pretrain.run import PretrainConfig, _fit_stack

    x = _digits01(600)
    cfg = PretrainConfig.model_validate(
        {
            "model": {"kind": "dbn", "layers": [8]},
            "train": {"learning_rate": 1000.0, "n_iter": 1, "batch_size": 50},
            "device": "cpu",
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _, rec = _fit_stack(cfg, 0, x[:500], x[500:])
    assert np.isfinite(rec).all()


def test_pretrain_takes_set_overrides_like_every_other_config_command(
    tmp_path, monkeypatch, capsys
):
    # Wrong: train, diagnose, lr-find and schedule take `--set KEY=VALUE`, but `trainlab
    # pretrain CONFIG --set train.n_iter=1` exits 2 ("No such option: --set"), so shrinking a
    # pre-training run means editing the example; right: the override applies to the run.
    cfg = tmp_path / "p.yaml"
    cfg.write_text(TINY_RBM)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "pretrain", cfg, "--set", "train.n_iter=1", "--out", out
    )
    assert code == 0, err
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["n_iter"] == 1


def test_report_of_a_pretrain_run_missing_a_figure_does_not_send_the_user_to_a_study(
    tmp_path, monkeypatch, capsys
):
    # Wrong: `trainlab report` on a pretrain run whose figures/curves.png is gone says
    # "re-run the study that made it" -- it is no study; right: name the command that made it
    # (trainlab pretrain), or rebuild the figure from metrics.jsonl / model.npz.
    from trainlab.pretrain.run import run_pretrain

    cfg = tmp_path / "p.yaml"
    cfg.write_text(TINY_RBM.replace("n_iter: 5", "n_iter: 1"))
    run = run_pretrain(cfg, out=tmp_path / "run")
    (run / "figures" / "curves.png").unlink()
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    if code == 0:  # rebuilt: the right outcome too
        assert (run / "figures" / "curves.png").exists()
        return
    assert code == 2, err
    assert "study" not in err and "pretrain" in err, err


def test_pretrain_interrupted_before_its_folder_exists_does_not_offer_resume(
    tmp_path, monkeypatch, capsys
):
    # Wrong: Ctrl-C while `trainlab pretrain` loads its data prints the generic "a `trainlab
    # train` run continues from its checkpoint with `trainlab resume DIR`", but pretrain runs do
    # not resume (README); right: say that nothing was written and to run it again.
    import trainlab.pretrain.run as prun

    def interrupted(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr(prun, "_data", interrupted)
    cfg = tmp_path / "p.yaml"
    cfg.write_text(TINY_RBM)
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", tmp_path / "run")
    assert code == 130, err
    assert "resume" not in err, err
    assert not (tmp_path / "run").exists()


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])


def test_pretrain_config_with_an_empty_section_takes_its_defaults(tmp_path):
    # a section whose keys are all commented out (`train:`) is null in YAML: it takes its
    # defaults, as `trainlab train` configs do (it was "train: Input should be a valid dictionary")
    from trainlab.pretrain.run import PretrainConfig, load_pretrain_config

    cfg = tmp_path / "p.yaml"
    cfg.write_text("model: {kind: rbm}\ntrain:\n#  n_iter: 3\ngrid:\n")
    assert load_pretrain_config(cfg).train == PretrainConfig().train
