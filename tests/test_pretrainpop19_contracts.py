"""Review pretrainpop19: RBM populations and `trainlab pretrain --grid` (defects found)."""

from __future__ import annotations

import json

import pytest

from conftest import run_pretrain_cli


@pytest.mark.parametrize("item", ["method=cd,pcd", "visible=gaussian,bernoulli"])
def test_grid_over_a_non_grid_key_names_the_key_not_the_values(tmp_path, monkeypatch, capsys, item):
    # Wrong: `--grid method=cd,pcd` says "values must be numbers" (as if method could be an
    # axis); right: say the key cannot be a grid axis and list the valid ones, as n_components does.
    code, err, out = run_pretrain_cli(tmp_path, monkeypatch, capsys, "model: {n_components: 4}\n",
                               "--grid", item)  # fmt: skip
    assert code == 2 and not out.exists()
    assert "learning_rate" in err and "must be numbers" not in err, err


def test_rbm_curves_caption_states_how_many_samples_were_tracked(tmp_path, monkeypatch, capsys):
    # Wrong: the curves caption always says "the first 1000 training samples", also when the
    # training split has fewer (blobs, 200 samples: ~160); right: the number actually tracked.
    text = (
        "data: {name: blobs, options: {n_samples: 200}}\n"
        "model: {n_components: 4}\ntrain: {n_iter: 1}\ndevice: cpu\n"
    )
    code, err, out = run_pretrain_cli(tmp_path, monkeypatch, capsys, text)
    assert code == 0, err
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    caption = next(s["caption"] for s in sections if s.get("file") == "curves.png")
    assert "first 1000 " not in caption, caption


def test_a_diverged_population_member_is_said_and_listed():
    # a member that diverges came back silently with NaN weights (a solo fit raises a
    # UserError); the population keeps its other members, warns naming it, and lists it
    import numpy as np

    from trainlab.pretrain import RBMPopulation

    x = np.random.RandomState(0).randn(64, 6)
    pop = RBMPopulation(n_components=4, seeds=[0], learning_rate=[0.001, 1000.0], n_iter=3,
                        batch_size=16, monitor=0, visible="gaussian")  # fmt: skip
    with pytest.warns(UserWarning, match=r"1 of 2 members diverged.*1 \(learning_rate 1000\)"):
        pop.fit(x)
    assert pop.diverged_ == [1] and np.isfinite(pop.estimators_[0].components_).all()
