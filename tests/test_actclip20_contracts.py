"""Review actclip20: the ``activations`` and ``clipping`` studies, fed hand-made measurements
(no study is trained)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainlab.studies import clipping as clip_study
from trainlab.studies.evidence import CONTRADICTED


def _rows(nan: dict[tuple[str, str, float], int], n: int = 2) -> list[dict[str, Any]]:
    """The clipping study's table rows for every (activation, clipping, LR), ``n`` models
    each, ``nan`` of them NaN where given (0 elsewhere)."""
    out = []
    for act in clip_study.ACTIVATIONS:
        for c in clip_study.CLIPPING:
            for lr in clip_study.LRS:
                k = nan.get((act, c, lr), 0)
                out.append(
                    {
                        "activation": act,
                        "clipping": c,
                        "lr": lr,
                        "n_nan": k,
                        "n_models": n,
                        "test_acc": [0.5 + 0.01 * i for i in range(n - k)],
                    }
                )
    return out


def test_tanh_claim_contradicted_when_tanh_diverges_and_relu_does_not():
    # clipping.py:310 — tanh 2/6 NaN, ReLU 0/6 NaN reads "not tested (no ReLU model diverged
    # either)": "either" is false and tanh exploding where ReLU did not contradicts "fewer NaN
    # than ReLU"; right: verdict contradicted.
    rows = _rows({("tanh", "no clipping", 0.1): 2})
    claims = clip_study._claims(rows, ["relu", "tanh"], list(clip_study.CLIPPING), quick=False)
    verdict = next(c for c in claims if c["claim"].startswith("tanh"))["verdict"]
    assert verdict == CONTRADICTED, verdict


def _fake_train_cell(raw: dict[str, Any], out: Path, device: str) -> dict[str, Any]:
    """A cell as ``train_cell`` returns it: every model finite, every step clipped (clip_frac
    1.0 in every epoch, as the quick run measures at every LR), loss falling."""
    clipped = "clip_norm" in raw["train"] or "clip_value" in raw["train"]
    seeds, lrs = raw["population"]["seeds"], raw["population"]["grid"]["optim.lr"]
    models, metrics = [], []
    for i, (lr, seed) in enumerate((lr, s) for lr in lrs for s in seeds):
        final = {"train_loss": 1.0, "test_acc": 0.5 + 0.01 * seed + (0.0 if clipped else 0.3)}
        models.append(
            {
                "index": i,
                "seed": seed,
                "overrides": {"optim.lr": lr},
                "status": "ok",
                "stopped_step": None,
                "final": final,
            }
        )
        for epoch in (1, 2):
            row = {
                "model": i,
                "epoch": epoch,
                "step": 41 * epoch,
                "train_loss": 3.0 / epoch,
                "test_acc": final["test_acc"],
                "grad_norm": 500.0 / epoch,
            }
            if clipped:
                row["clip_frac"] = 1.0
            metrics.append(row)
    return {"summary": {"models": models}, "metrics": metrics}


def test_clipping_report_shows_the_fraction_of_clipped_steps(tmp_path, monkeypatch):
    # clipping.py:188 — the trainer records each epoch's fraction of clipped steps (clip_frac),
    # but the study drops it: the report says clipping "bounds the first steps" / "steps cut to
    # max_norm" yet never measures it (the quick run clips 100% of steps in every epoch); right:
    # the divergence table and results.json give the clipped-step fraction per clipped cell.
    monkeypatch.setattr(clip_study, "train_cell", _fake_train_cell)
    root = clip_study.run(tmp_path / "clip", quick=True, seeds=2, device="cpu")
    rows = json.loads((root / "results.json").read_text())["rows"]
    clipped = [r for r in rows if r["clipping"] != "no clipping"]
    assert clipped
    for r in clipped:
        keys = [k for k in r if "clipped" in k.lower() or "clip_frac" in k.lower()]
        assert keys, f"no clipped-step fraction in results.json row: {sorted(r)}"
        assert any(str(r[k]).startswith(("100", "1.0", "1")) for k in keys), r
    table = next(
        s
        for s in json.loads((root / "report_sections.json").read_text())["sections"]
        if s.get("title") == "Divergence and accuracy per LR and clipping"
    )
    assert any("clipped" in c.lower() for c in table["columns"]), table["columns"]
