"""Review read29j: trainlab pretrain (run.py) and RBMPopulation (population.py)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from trainlab.errors import ConfigError, UserError
from trainlab.pretrain import population as population_mod
from trainlab.pretrain import run as run_mod
from trainlab.pretrain.population import RBMPopulation
from trainlab.pretrain.run import load_pretrain_config


def _grid_config(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("model: {n_components: 4}\ngrid: {learning_rate: [0.01, 0.02]}\n")
    return path


# `--set train.learning_rate=0.5` on a learning_rate grid is refused ("changes no model": every
# model trains with a grid value, config.yaml would record 0.5 that none used), but the same
# value given as the section, `--set 'train={learning_rate: 0.5, n_iter: 1}'`, is accepted and
# 0.5 lands in config.yaml unused. run.py's _sets_reach_a_model reads only set_key() ("train"),
# not the keys inside a section's value, as trainlab.config._set_keys does for `trainlab train`
# (`--set 'optim={lr: 0.5}'` on an lr grid is refused there). Both forms must be refused alike.
@pytest.mark.parametrize(
    "item",
    ["train={learning_rate: 0.5, n_iter: 1}", ("train", {"learning_rate": 0.5, "n_iter": 1})],
)
def test_set_train_section_with_a_grid_axis_is_refused_like_the_dotted_key(tmp_path, item):
    cfg = _grid_config(tmp_path)
    with pytest.raises(ConfigError, match="changes no model"):
        load_pretrain_config(cfg, ["train.learning_rate=0.5"])  # the dotted form (refused now)
    with pytest.raises(ConfigError, match="changes no model"):
        load_pretrain_config(cfg, [item])
    # a section without the grid's key stays fine
    assert load_pretrain_config(cfg, ["train={n_iter: 1}"]).train.n_iter == 1


# summary.json's "fit_seconds" of an rbm run is measured from before RBMPopulation.fit to after
# the metrics lines (one fsync each, K x n_iter of them), the test-split scores, model.npz, the
# curves/filters/reconstructions figures and the report sections are written: on a 200-model
# population it read 5.6 s for a 3.1 s fit. Writing model.npz (here made slow on purpose) is not
# fitting; fit_seconds must be the training time (RBMPopulation.fit_time_ / the fit call).
def test_fit_seconds_is_the_fit_not_the_run_files(tmp_path, monkeypatch):
    spent = []
    real_fit = population_mod.RBMPopulation.fit

    def timed_fit(self, X):
        t0 = time.perf_counter()
        out = real_fit(self, X)
        spent.append(time.perf_counter() - t0)
        return out

    real_save = run_mod._save_npz

    def slow_save(path, arrays, scaling):
        time.sleep(1.5)
        real_save(path, arrays, scaling)

    monkeypatch.setattr(population_mod.RBMPopulation, "fit", timed_fit)
    monkeypatch.setattr(run_mod, "_save_npz", slow_save)
    path = run_mod.run_pretrain(
        None, out=tmp_path / "run", sets=["model.n_components=4", "train.n_iter=1"]
    )
    summary = json.loads((path / "summary.json").read_text())
    assert len(spent) == 1
    assert summary["fit_seconds"] <= spent[0] + 0.5, (summary["fit_seconds"], spent[0])


# RBMPopulation(monitor=True) is taken as a count of 1 sample (isinstance(True, int)), where the
# member estimators refuse a bool for the same count (BernoulliRBM(monitor=True).fit raises
# InvalidParameterError via refuse_bool_counts): monitor=True must be refused the same way.
def test_population_refuses_a_bool_monitor():
    with pytest.raises((UserError, ValueError)):
        RBMPopulation(4, monitor=True)
    assert RBMPopulation(4, monitor=np.int64(3)).monitor == 3  # a numpy count stays fine
