"""Review: the HTML report of ``trainlab pretrain`` runs (figures, captions, diverged models)."""

from __future__ import annotations

import json
import re

import numpy as np

from trainlab.pretrain.run import PretrainConfig, run_pretrain


def _pretrain(tmp_path, monkeypatch, raw, name="run"):
    """Run ``trainlab pretrain`` on ``raw`` (a config mapping) on the CPU; returns the run
    folder and, per figure name, what the figure drew: its images (arrays), its lines (number
    of points, marker) and its caption."""
    from trainlab.report import plots

    drawn: dict[str, dict] = {}
    orig = plots.save_figure

    def save(fig, path, *args, **kwargs):
        images = [np.ma.filled(np.ma.asarray(im.get_array(), dtype=float), np.nan)
                  for ax in fig.axes for im in ax.get_images()]  # fmt: skip
        lines = [(len(ln.get_xdata()), ln.get_marker()) for ax in fig.axes for ln in ax.get_lines()]
        drawn[path.stem] = {"images": images, "lines": lines}
        return orig(fig, path, *args, **kwargs)

    monkeypatch.setattr(plots, "save_figure", save)
    out = run_pretrain(PretrainConfig.model_validate(raw), out=tmp_path / name, device="cpu")
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    for sec in sections:
        if sec["kind"] == "figure":
            drawn[sec["file"].removesuffix(".png")]["caption"] = sec["caption"]
    return out, drawn


def _metrics(out):
    return [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]


def test_the_curves_of_a_one_pass_run_show_their_points(tmp_path, monkeypatch):
    """A ``trainlab pretrain`` run with ``train.n_iter: 1`` (the quickest look at a config) has
    one reconstruction error and one pseudo-likelihood per model in metrics.jsonl, and the
    report promises "the pseudo-likelihood / reconstruction-error curves" (issue 6) after each
    pass. ``curves_figure`` draws each model as a line without markers, and a line through one
    point draws nothing: the figure is a pair of empty axes with a legend, so the user sees no
    number at all. Every single-point series must carry a marker."""
    raw = {"model": {"kind": "rbm", "n_components": 4}, "train": {"n_iter": 1, "batch_size": 50},
           "seeds": [0, 1]}  # fmt: skip
    out, drawn = _pretrain(tmp_path, monkeypatch, raw)
    assert len(_metrics(out)) == 2  # one pass of two models
    lines = drawn["curves"]["lines"]
    assert lines, "the curves figure draws no series"
    invisible = [ln for ln in lines if ln[0] == 1 and ln[1] in ("None", "", " ", None)]
    assert not invisible, f"{len(invisible)} one-point series are drawn as lines (invisible)"


def test_a_gaussian_rbms_curves_caption_does_not_promise_a_pseudo_likelihood(tmp_path, monkeypatch):
    """A Gaussian-visible RBM has no pseudo-likelihood (its docstring: ``history_
    ["pseudo_likelihood"]`` stays empty), so metrics.jsonl has no ``pseudo_likelihood`` and the
    curves figure has one panel, reconstruction error. The caption under it is a fixed string
    that says "reconstruction error ... and pseudo-log-likelihood of the first 1000 training
    samples", i.e. the report describes a curve that is not there (and that the model cannot
    have). Captions must say what was drawn."""
    raw = {"data": {"scale": "standardize"},
           "model": {"kind": "rbm", "n_components": 4, "visible": "gaussian"},
           "train": {"n_iter": 2, "batch_size": 50}, "seeds": [0]}  # fmt: skip
    out, drawn = _pretrain(tmp_path, monkeypatch, raw)
    assert not any("pseudo_likelihood" in r for r in _metrics(out))
    caption = drawn["curves"]["caption"]
    assert "pseudo" not in caption.lower(), caption


def test_figures_of_a_diverged_model_0_are_not_shown_as_if_it_had_trained(tmp_path, monkeypatch):
    """When model 0 of a population diverged (inf/NaN weights; summary.json lists it under
    ``diverged``), its numbers are blank in the tables, but the "model 0 filters" and
    "test inputs (top) and their reconstructions (bottom)" figures are still drawn from its
    NaN weights: empty white squares, captioned as if they were learned filters and
    reconstructions. Here the grid lists the too-large learning rate first, which is all it
    takes. The report must either draw these figures from a model that trained or say that
    the model shown diverged."""
    raw = {"data": {"scale": "standardize"},
           "model": {"kind": "rbm", "n_components": 4, "visible": "gaussian"},
           "train": {"n_iter": 2, "batch_size": 50}, "seeds": [0],
           "grid": {"learning_rate": [1000.0, 0.01]}}  # fmt: skip
    out, drawn = _pretrain(tmp_path, monkeypatch, raw)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [0], summary["diverged"]
    for name in ("filters", "reconstructions"):
        fig = drawn[name]
        images = (
            fig["images"][len(fig["images"]) // 2 :]
            if name == "reconstructions"
            else (fig["images"])
        )  # reconstructions: the bottom row
        blank = all(not np.isfinite(im).any() for im in images)
        assert not blank or "diverged" in fig["caption"].lower(), (name, fig["caption"])


def test_the_filters_grid_shows_every_filter_or_says_how_many_it_shows(tmp_path, monkeypatch):
    """The pre-training report "shows the learned filters as an image grid" (issue 6) under the
    caption "model 0 filters". For an RBM of 70 hidden units it draws only the first 64
    (``filters_figure``'s ``n=64``) and the caption does not say so, so the reader takes 64
    filters for the whole model (scikit-learn's digits example, which the default config
    copies, shows all 100). Each filter is an 8x8 digits image; the grid must show all
    ``n_components`` of them, or the caption must give the number shown."""
    raw = {"model": {"kind": "rbm", "n_components": 70}, "train": {"n_iter": 1, "batch_size": 50},
           "seeds": [0]}  # fmt: skip
    out, drawn = _pretrain(tmp_path, monkeypatch, raw)
    comps = np.load(out / "model.npz")["components_0"]
    fig = drawn["filters"]
    assert all(im.shape == (8, 8) for im in fig["images"])
    shown = len(fig["images"])
    assert shown == len(comps) or re.search(rf"\b{shown}\b", fig["caption"]), (
        shown,
        len(comps),
        fig["caption"],
    )


def test_a_model_whose_training_error_overflowed_is_not_averaged_as_a_live_model(
    tmp_path, monkeypatch
):
    """Gaussian RBMs at learning_rate 1.0 blow up to weights ~1e30: finite in float64, so
    ``est.diverged()`` is False, but their last-pass training reconstruction error is inf
    (``null`` in metrics.jsonl and summary.json, "—" in the report, which is how the report
    shows a diverged model's numbers). summary.json still calls them ``diverged: false``, the
    CLI does not warn, and their test reconstruction error (~1e60) is averaged into the grid
    point's mean ± std, whose caption says "diverged models left out". A model whose own
    training metric is non-finite has diverged: it must be flagged (and left out of the
    aggregates) like one with inf weights."""
    raw = {"data": {"scale": "standardize"},
           "model": {"kind": "rbm", "n_components": 4, "visible": "gaussian"},
           "train": {"n_iter": 2, "batch_size": 50, "method": "pcd"}, "seeds": [0, 1],
           "grid": {"learning_rate": [0.01, 1.0]}}  # fmt: skip
    out, _ = _pretrain(tmp_path, monkeypatch, raw)
    summary = json.loads((out / "summary.json").read_text())
    last = {r["model"]: r for r in _metrics(out)}  # each model's last pass
    overflowed = [i for i, r in last.items() if r.get("reconstruction_error") is None]
    assert overflowed, "no model's training error overflowed; the set-up needs a larger rate"
    for i in overflowed:
        model = summary["models"][i]
        assert model["diverged"] or model["test_reconstruction_error"] is None, model
