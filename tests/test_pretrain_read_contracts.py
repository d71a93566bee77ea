"""Review of the CD engine, RBM population, estimators and the ``trainlab pretrain`` run.

Checked by hand and found correct (no test kept, nothing failed): the engine's numpy path against
its torch path (V or H of 1, CD/PCD, k = 1..3, momentum and weight decay, float32/float64,
batch sizes that do not divide n); Gaussian visible units with and without learned variance
against a numpy CD-k/PCD-k written from the documented formulas (fast and momentum paths);
population members against solo fits (Bernoulli and Gaussian, CD/PCD, k = 1, 2, remainder
batches, lr x momentum x decay grids); the monitor's reconstruction error and pseudo-likelihood
against numpy; the CLI's config, grid and device errors. Only the one below failed.
"""

from __future__ import annotations

import json

import yaml

from trainlab.pretrain import run as run_mod


def test_gaussian_dbn_summary_has_no_pseudo_likelihood_for_a_first_layer_that_tracks_none(
    tmp_path,
):
    """For ``dbn`` and ``sdae`` runs, ``run.py``'s docstring says each summary row holds the
    first layer's last-pass numbers: ``train_reconstruction_error`` and ``train_pseudo_likelihood``
    "(dbn, where tracked)". A Gaussian first layer tracks no pseudo-likelihood, since it has
    no meaning for real-valued inputs. The ``rbm`` kind leaves the key out in that case. The
    ``dbn`` path, though, writes ``"train_pseudo_likelihood": null`` in every model row and
    adds a ``{"mean": null, "n": 0}`` aggregate, because layer 2's Bernoulli pseudo-likelihood
    keeps the key. In these summaries null marks a diverged model's numbers, so a user reading
    summary.json (or a script that collects non-null values) sees a healthy Gaussian DBN as if
    its pseudo-likelihood had blown up. The row should carry only the numbers that were tracked.
    """
    cfg_path = tmp_path / "dbn.yaml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "name": "gdbn",
                "data": {"name": "digits", "scale": "standardize"},
                "model": {"kind": "dbn", "layers": [6, 3], "visible": "gaussian"},
                "train": {"learning_rate": 0.001, "batch_size": 100, "n_iter": 1},
                "seeds": [0],
                "device": "cpu",
            }
        )
    )
    out = run_mod.run_pretrain(cfg_path, out=tmp_path / "run")
    summary = json.loads((out / "summary.json").read_text())
    row = summary["models"][0]
    assert summary["diverged"] == [] and row["train_reconstruction_error"] is not None
    # tracked numbers only: no null stand-in for a first-layer pseudo-likelihood never computed
    assert row.get("train_pseudo_likelihood", "absent") == "absent", row
    assert "train_pseudo_likelihood" not in summary["aggregates"], summary["aggregates"]


def test_a_population_fitted_for_no_pass_has_the_documented_history_arrays():
    """``RBMPopulation``'s docstring: after ``fit``, ``history_`` holds
    ``reconstruction_error`` and (Bernoulli units) ``pseudo_likelihood`` as ``(K, n_iter)``
    arrays. With ``n_iter=0`` (a population set up to be trained on with other tools, or a
    grid that includes 0 passes) they were None, so ``history_["reconstruction_error"].shape``
    crashed a script that works for every other n_iter; they must be ``(K, 0)`` arrays."""
    import numpy as np

    from trainlab.pretrain import RBMPopulation

    x = np.random.default_rng(0).random((30, 5))
    pop = RBMPopulation(3, seeds=[0, 1], n_iter=0, monitor=10).fit(x)
    assert pop.history_["reconstruction_error"].shape == (2, 0)
    assert pop.history_["pseudo_likelihood"].shape == (2, 0)
