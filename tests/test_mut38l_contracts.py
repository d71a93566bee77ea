"""Mutation review (mut38l) of ``trainlab study pretraining``'s set-up and measurement.

Expected values come from the module docstring / README (issue 6: random init vs DBN vs
stacked DAE, sigmoid and ReLU MLPs of depth 3-5, 1%, 10%, 100% of the labels, mean ± std over
seeds) and from hand computations on small fake inputs. Training is faked (fine_tune and the
pre-training are replaced), so every test here runs in well under a second or two.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import trainlab.data
import trainlab.pretrain
from trainlab.data import Dataset
from trainlab.studies import pretraining as P

# ---------------------------------------------------------------------------------------------
# label_subset: round(fraction · N) labels, shared out by class size (largest remainder), at
# least one per class, drawn at random per seed (hand computations)


@pytest.mark.parametrize(
    ("counts", "fraction", "per_class"),
    [
        # N=20, 0.3 -> 6 labels; shares 3.6, 1.5, 0.9 -> floors 3, 1, 0 (4), the 2 left go to
        # the largest remainders .9 (class 2) and .6 (class 0)
        ([12, 5, 3], 0.3, [4, 1, 1]),
        # N=20, 0.1 -> 2 labels; shares 1.8, .1, .1 -> 2, 0, 0, then at least one per class
        ([18, 1, 1], 0.1, [2, 1, 1]),
        # digits' training split (1294 rows): round(12.94) = 13 labels; shares 13·c/1294 all
        # floor to 1 (10), the 3 left go to the largest remainders, the 131-row classes
        # (1.316; classes 1, 3, 5, 6, first three in class order)
        ([128, 131, 128, 131, 130, 131, 131, 129, 125, 130], 0.01, [1, 2, 1, 2, 1, 2, 1, 1, 1, 1]),
        ([4, 6], 1.0, [4, 6]),  # all labels
    ],
)
def test_label_subset_shares_out_round_fraction_n_by_largest_remainder(counts, fraction, per_class):
    y = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(7)
    perm = rng.permutation(len(y))
    y = y[perm]  # classes interleaved
    for seed in range(3):
        idx = P.label_subset(y, fraction, seed)
        assert len(idx) == sum(per_class)
        assert np.all(np.diff(idx) > 0)  # sorted, unique
        assert np.bincount(y[idx], minlength=len(counts)).tolist() == per_class


def test_label_subset_one_percent_of_digits_is_13_labels():
    # "round(fraction · N)": 1% of 1294 = 12.94 -> 13 (not 12, the truncation)
    y = np.repeat(np.arange(10), [128, 131, 128, 131, 130, 131, 131, 129, 125, 130])
    assert len(P.label_subset(y, 0.01, seed=0)) == 13


def test_label_subset_draws_other_examples_for_other_seeds():
    y = np.repeat(np.arange(2), [50, 50])
    subsets = {tuple(P.label_subset(y, 0.1, seed=s)) for s in range(5)}
    assert len(subsets) == 5  # C(50,5)^2 possibilities: a fixed draw would repeat
    first = np.flatnonzero(y == 0)[:5]
    assert any(not set(first) <= set(s) for s in subsets)  # not simply the first rows


# ---------------------------------------------------------------------------------------------
# the study run with fakes: a toy dataset of 10 classes x 50 rows, fine-tuning replaced


def _toy(counts=(50,) * 10, d=4) -> Dataset:
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    x = torch.rand(n, d, generator=torch.Generator().manual_seed(0))
    x[:, 0] = torch.arange(n, dtype=torch.float32) / n  # row id, in [0, 1)
    yt = torch.as_tensor(y, dtype=torch.int64)
    return Dataset(
        name="toy", x_train=x, y_train=yt, x_val=x[:3], y_val=yt[:3], x_test=x[:3],
        y_test=yt[:3], input_shape=(d,), num_classes=len(counts),
    )  # fmt: skip


def _acc(act: str, frac: float, method: str, seed: int) -> float:
    """The fake test accuracy of one model."""
    return 0.5 + 0.1 * P.METHODS.index(method) + 0.01 * seed + 0.001 * (act == "relu") + frac / 10


NAN_MODEL = ("relu", 0.1, "dbn", 1)  # (activation, fraction, method, seed) stopped for NaN


class _Recorder:
    def __init__(self, *a, **k):
        self.texts: list[str] = []
        self.tables: list[tuple[str, list]] = []
        self.figures: list[tuple[str, str]] = []
        _Recorder.last = self

    def add_text(self, text):
        self.texts.append(text)

    def add_table(self, title, rows, *a, **k):
        self.tables.append((title, list(rows)))

    def add_figure(self, name, fig, caption="", *a, **k):
        self.figures.append((name, caption))

    def write(self, *a, **k):
        pass


@pytest.fixture
def fake_run(monkeypatch, tmp_path):
    """Run ``P.run`` in quick mode on the toy dataset with faked pre-training and fine-tuning;
    returns a function ``(seeds) -> (summary, calls, report)``."""
    import json

    import trainlab.report as report

    ds = _toy()
    loads: list = []

    def load(name, *a, **k):
        loads.append((name, k))
        return ds

    monkeypatch.setattr(trainlab.data, "load", load)
    monkeypatch.setattr(
        P,
        "_pretrained",
        lambda x, depth, width, seed, cfg: {
            m: [
                (np.zeros((width, x.shape[1] if i == 0 else width)), np.zeros(width))
                for i in range(depth)
            ]
            for m in ("dbn", "sdae")
        },
    )
    calls: list[dict] = []

    def fake_fine_tune(mods, sub, seeds, **kw):
        _, _, act, _, frac, s = kw["name"].split("-")
        frac, s = float(frac), int(s[1:])
        calls.append({**kw, "mods": mods, "sub": sub, "seeds": list(seeds), "act": act,
                      "frac": frac, "seed": s})  # fmt: skip
        models = []
        for method in P.METHODS:
            if (act, frac, method, s) == NAN_MODEL:
                models.append({"status": "nan", "final": {"test_acc": float("nan")}})
            else:
                models.append({"status": "ok", "final": {"test_acc": _acc(act, frac, method, s)}})
        return {"models": models}

    monkeypatch.setattr(trainlab.pretrain, "fine_tune", fake_fine_tune)
    monkeypatch.setattr(report, "Report", _Recorder)
    monkeypatch.setattr(P, "_figure", lambda *a, **k: None)

    def go(seeds=None):
        calls.clear()
        out = P.run(tmp_path / f"study{len(list(tmp_path.iterdir()))}", quick=True, seeds=seeds,
                    device="cpu")  # fmt: skip
        summary = json.loads((out / "summary.json").read_text())
        return summary, list(calls), _Recorder.last

    go.loads = loads
    return go


def test_quick_run_defaults_to_three_seeds_and_the_three_label_fractions(fake_run):
    summary, calls, _ = fake_run()
    assert summary["seeds"] == [0, 1, 2]  # "Quick mode: depth 3 only, width 64, 3 seeds"
    assert summary["fractions"] == [0.01, 0.1, 1.0]  # 1%, 10%, 100% of the labels
    assert summary["depths"] == [3] and summary["width"] == 64
    assert summary["fine_tune_steps"] == 150  # "at least 150 fine-tuning steps"
    assert summary["datasets"] == ["digits"]
    cells = summary["cells"]
    assert len(cells) == 2 * 3 * 3  # (sigmoid, ReLU) x 3 fractions x 3 methods
    assert {(c["activation"], c["labels"]) for c in cells} == {
        (a, f) for a in ("sigmoid", "relu") for f in (0.01, 0.1, 1.0)
    }
    assert all(c["n"] == 3 for c in cells)
    assert len(calls) == 2 * 3 * 3  # one fine-tuning population per (act, fraction, seed)


def test_fine_tuning_uses_adam_lr_3e3_batch_32(fake_run):
    _, calls, _ = fake_run(seeds=1)
    for c in calls:
        assert c["optimizer"] == "adam" and c["lr"] == pytest.approx(3e-3)
        assert c["batch_size"] == 32


def test_small_label_sets_are_tiled_to_320_rows_and_steps_rounded_up_to_whole_epochs(fake_run):
    # toy data: 10 classes x 50 rows. 1%: round(5) labels, then one per class -> 10 labels,
    # tiled 32x = 320 rows = 10 batches of 32 -> 15 epochs = 150 steps. 10%: 50 labels, tiled
    # ceil(320/50) = 7x = 350 rows = 11 batches -> ceil(150/11) = 14 epochs = 154 steps.
    # 100%: 500 rows (no tiling) = 16 batches -> 10 epochs = 160 steps.
    expect = {0.01: (10, 320, 15, 150), 0.1: (50, 350, 14, 154), 1.0: (500, 500, 10, 160)}
    summary, calls, _ = fake_run(seeds=[0, 1])
    for c in calls:
        n_labels, rows, epochs, _ = expect[c["frac"]]
        assert len(c["sub"].x_train) == rows and c["epochs"] == epochs
        ids = torch.unique(c["sub"].x_train[:, 0])
        assert len(ids) == n_labels  # the labelled rows, each one tiled
    for r in summary["cells"]:
        n_labels, _, _, steps = expect[r["labels"]]
        assert r["n_labels"] == n_labels and r["fine_tune_steps"] == steps


def test_each_seed_draws_its_own_stratified_subset_shared_by_its_three_methods(fake_run):
    _, calls, _ = fake_run(seeds=[0, 1, 2])
    ds = _toy()
    for frac, per_class in ((0.01, 1), (0.1, 5)):
        rows = {}
        for c in (c for c in calls if c["frac"] == frac):
            ids = torch.unique(torch.round(c["sub"].x_train[:, 0] * 500).long())
            assert len(c["mods"]) == 3  # the three methods fine-tune on this one subset
            assert np.bincount(ds.y_train[ids].numpy(), minlength=10).tolist() == [per_class] * 10
            rows.setdefault(c["seed"], set()).add(tuple(ids.tolist()))
        assert all(len(v) == 1 for v in rows.values())  # same subset for sigmoid and ReLU
        assert len({next(iter(v)) for v in rows.values()}) == 3  # but another for each seed


def test_each_model_draws_its_data_order_from_its_own_method_and_seed(fake_run):
    _, calls, _ = fake_run(seeds=[0, 1])
    by_seed: dict[int, set] = {}
    for c in calls:
        assert len(set(c["seeds"])) == 3  # three methods, three data orders
        by_seed.setdefault(c["seed"], set()).add(tuple(c["seeds"]))
    assert all(len(v) == 1 for v in by_seed.values())  # the same in every cell
    assert by_seed[0] != by_seed[1]


def test_nan_stopped_model_counts_as_accuracy_zero_in_mean_and_std(fake_run):
    summary, _, _ = fake_run()
    act, frac, method, _ = NAN_MODEL
    (row,) = [
        r for r in summary["cells"]
        if (r["activation"], r["labels"], r["method"]) == (act, frac, method)
    ]  # fmt: skip
    accs = [0.0 if s == 1 else _acc(act, frac, method, s) for s in range(3)]
    assert row["test_acc_mean"] == pytest.approx(np.mean(accs), abs=1e-12)
    assert row["test_acc_std"] == pytest.approx(np.std(accs, ddof=1), abs=1e-12)
    (m,) = [
        m for m in summary["models"]
        if (m["activation"], m["labels"], m["method"], m["seed"]) == NAN_MODEL
    ]  # fmt: skip
    assert m["test_acc"] == 0.0 and m["status"] == "nan"


def test_every_cell_row_is_mean_and_sample_std_of_its_seeds(fake_run):
    summary, _, rec = fake_run()
    for r in summary["cells"]:
        if (r["activation"], r["labels"], r["method"]) == NAN_MODEL[:3]:
            continue
        accs = [_acc(r["activation"], r["labels"], r["method"], s) for s in range(3)]
        assert r["test_acc_mean"] == pytest.approx(np.mean(accs), abs=1e-12)
        assert r["test_acc_std"] == pytest.approx(np.std(accs, ddof=1), abs=1e-12)
    # the table shows the same numbers, "labels" as "1% (10)", and the steps and n
    (claims_title, _), (title, table) = rec.tables  # (the claims, then the accuracies)
    assert claims_title.startswith("Claims") and "mean ± sample std (ddof=1)" in title
    pct = {0.01: "1% (10)", 0.1: "10% (50)", 1.0: "100% (500)"}
    for t, r in zip(table, summary["cells"], strict=True):
        assert t["labels"] == pct[r["labels"]]
        assert t["test acc"] == f"{r['test_acc_mean']:.4f} ± {r['test_acc_std']:.4f}"
        assert t["n"] == 3 and t["steps"] == {0.01: 150, 0.1: 154, 1.0: 160}[r["labels"]]


def test_one_seed_table_shows_no_spread(fake_run):
    summary, _, rec = fake_run(seeds=[0])
    (claims_title, _), (title, table) = rec.tables  # (the claims, then the accuracies)
    assert claims_title.startswith("Claims") and "one seed" in title
    for t, r in zip(table, summary["cells"], strict=True):
        assert t["test acc"] == f"{r['test_acc_mean']:.4f}"  # no "± 0.0000" from one value


# ---------------------------------------------------------------------------------------------
# pre-training settings (docstring: DBN CD-1, lr 0.1, momentum 0.5, batch 10, 30 passes per
# layer (20 quick); SDAE 25% masking noise, Adam 1e-3, batch 32, 15 passes (5 quick))


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_pretrained_stacks_use_the_documented_settings(monkeypatch, mode):
    seen: dict[str, dict] = {}

    class FakeDBN:
        def __init__(self, hidden, **kw):
            seen["dbn"] = {"hidden": list(hidden), **kw}

        def fit(self, x):
            return self

        def layer_weights(self):
            return []

    class FakeSDAE(FakeDBN):
        def __init__(self, hidden, **kw):
            seen["sdae"] = {"hidden": list(hidden), **kw}
            self.layers_ = []

    monkeypatch.setattr(trainlab.pretrain, "DBN", FakeDBN)
    monkeypatch.setattr(trainlab.pretrain, "StackedDenoisingAutoencoder", FakeSDAE)
    cfg = P.SETTINGS[mode]
    P._pretrained(np.zeros((5, 3)), 4, 7, 11, cfg)
    dbn, sdae = seen["dbn"], seen["sdae"]
    passes = {"quick": (20, 5), "full": (30, 15)}[mode]
    assert dbn["hidden"] == [7] * 4 and sdae["hidden"] == [7] * 4
    assert dbn["n_iter"] == passes[0] and sdae["n_iter"] == passes[1]
    assert dbn["method"] == "cd" and dbn["random_state"] == 11 and sdae["random_state"] == 11
    assert dbn["learning_rate"] == pytest.approx(0.1) and dbn["momentum"] == pytest.approx(0.5)
    assert dbn["batch_size"] == 10
    assert sdae["corruption"] == pytest.approx(0.25)
    assert sdae["learning_rate"] == pytest.approx(1e-3) and sdae["batch_size"] == 32


def test_full_mode_settings_match_the_docstring():
    full = P.SETTINGS["full"]
    assert full["datasets"] == ["digits", "mnist1d"] and full["depths"] == [3, 4, 5]
    assert full["width"] == 128 and full["steps"] == 600 and full["seeds"] == 5
    quick = P.SETTINGS["quick"]
    assert quick["seeds"] == 3 and quick["depths"] == [3] and quick["width"] == 64


def test_setup_text_states_the_settings_that_ran():
    text = P.setup_text(False, list(range(5)), [0.01, 0.1, 1.0])
    for part in (
        "digits, mnist1d",
        "depth 3, 4, 5 (hidden layers) × width 128",
        "1%, 10%, 100% of the training labels",
        "5 seeds per cell",
        "xavier_uniform (sigmoid), he_normal (ReLU)",
        "DBN: CD-1, lr 0.1, momentum 0.5, batch 10, 30 passes per layer",
        "SDAE: 25% masking noise, Adam 0.001, batch 32, 15 passes per layer",
        "Fine-tuning: Adam lr 0.003, batch 32, at least 600 steps",
    ):
        assert part in text, part
    quick = P.setup_text(True, [0, 1, 2], [0.01, 0.1, 1.0])
    assert "20 passes per layer" in quick and "5 passes per layer" in quick
    assert "DBN passes per layer 30 (ran 20)" in quick
    assert "SDAE passes per layer 15 (ran 5)" in quick
    assert "width 128 (ran 64)" in quick
    full_seeds = P.setup_text(True, list(range(5)), [0.01, 0.1, 1.0])
    assert "seeds (ran" not in full_seeds  # 5 seeds: none left out


# ---------------------------------------------------------------------------------------------
# the three starting points: random init Xavier-uniform (sigmoid) / He-normal (ReLU)


def _stacks(depth, width, n_in):
    g = np.random.default_rng(0)
    layer = lambda i: (g.normal(0, 0.01, (width, n_in if i == 0 else width)), np.zeros(width))  # noqa: E731
    return {0: {m: [layer(i) for i in range(depth)] for m in ("dbn", "sdae")}}


@pytest.mark.parametrize("act", ["sigmoid", "relu"])
def test_random_init_net_is_xavier_uniform_for_sigmoid_and_he_normal_for_relu(act):
    depth, width, n_in, k = 3, 256, 64, 10
    mods, names, _ = P._modules(_stacks(depth, width, n_in), 0, act, depth, width, n_in, k)
    assert names == ["random", "dbn", "sdae"]
    linears = [m for m in mods[0].modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == depth + 1
    for lin in linears:
        w = lin.weight.detach().double()
        fan_out, fan_in = w.shape
        if act == "sigmoid":
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert w.abs().max() <= bound + 1e-6  # uniform: bounded support
            assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)
        else:
            std = math.sqrt(2 / fan_in)
            assert w.std().item() == pytest.approx(std, rel=0.05)
            assert w.mean().abs().item() < 0.1 * std
            assert w.abs().max() > math.sqrt(3) * std  # normal tails, not a uniform


# ---------------------------------------------------------------------------------------------
# the figure: per panel, one error-bar curve per method, x = labels in %, sorted


def test_figure_plots_mean_with_std_error_bars_against_label_percent():
    import matplotlib

    matplotlib.use("Agg")
    rows = []
    for frac, base in ((1.0, 0.9), (0.01, 0.3), (0.1, 0.6)):  # out of order on purpose
        for i, method in enumerate(P.METHODS):
            for act in ("sigmoid", "relu"):
                rows.append({"data": "toy", "activation": act, "depth": 3, "labels": frac,
                             "method": method, "test_acc_mean": base + i / 100,
                             "test_acc_std": 0.01 * (i + 1)})  # fmt: skip
    fig = P._figure(rows, [0.01, 0.1, 1.0], [3], ["toy"])
    try:
        ax = fig.axes[0]
        assert ax.get_title() == "toy, sigmoid, depth 3"
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1%", "10%", "100%"]
        assert len(ax.containers) == 3
        for i, cont in enumerate(ax.containers):
            line = cont.lines[0]
            assert list(line.get_xdata()) == [1.0, 10.0, 100.0]
            assert np.allclose(line.get_ydata(), [0.3 + i / 100, 0.6 + i / 100, 0.9 + i / 100])
            assert cont.has_yerr
            segs = cont.lines[2][0].get_segments()
            heights = [s[1][1] - s[0][1] for s in segs]
            assert np.allclose(heights, 2 * 0.01 * (i + 1))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
