"""Review of the `trainlab pretrain` report (pretrainreport31)."""

from __future__ import annotations

import json

from trainlab.pretrain.run import run_pretrain


# A single-layer DBN with Gaussian visible units tracks no pseudo-likelihood (Gaussian units
# have none; metrics.jsonl and the curves figure hold only reconstruction_error), yet
# _stacks_into_run always captions the DBN curves "... reconstruction error ... and
# pseudo-log-likelihood ...": the caption describes a curve the figure does not draw. The rbm
# branch words its caption from what was tracked; the dbn one should too (name the
# pseudo-likelihood only when some layer's curve of it is drawn).
def test_gaussian_single_layer_dbn_curves_caption_names_only_drawn_curves(tmp_path):
    out = run_pretrain(
        None,
        out=tmp_path / "run",
        sets=[
            "model.kind=dbn",
            "model.layers=[4]",
            "model.visible=gaussian",
            "data.scale=standardize",
            "train.n_iter=1",
        ],
        device="cpu",
    )
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines and not any("pseudo_likelihood" in line for line in lines)  # none tracked
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    caption = next(s["caption"] for s in sections if s.get("file") == "curves.png")
    assert "reconstruction error" in caption
    assert "pseudo" not in caption, caption
