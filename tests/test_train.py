"""The trainer: K=1 equals a hand-written loop; results do not depend on K; NaN isolation;
run directories; early stopping."""

import json

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

from conftest import RowLSTM, requires_cuda, small_config
from trainlab import init, rng
from trainlab.errors import UserError
from trainlab.models import create
from trainlab.train import Trainer, train


def _weights(result, i):
    return result.population.member_state(i)


def test_k1_equals_a_hand_written_loop():
    """One trainlab model = the PyTorch tutorial loop over the same batch indices."""
    cfg = small_config(train={"epochs": 3, "batch_size": 50}, population={"seeds": [7]})
    result = train(cfg, write=False, progress=False, device="cpu")

    data = Trainer(cfg, device="cpu").data
    model = create("mlp", input_shape=data.input_shape, num_classes=10, hidden=[16])
    gen = torch.Generator().manual_seed(rng.seed_key("init", 7))
    init.apply(model, "xavier_uniform", generator=gen, bias=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    n = data.x_train.shape[0]
    for epoch in range(3):
        perm = rng.permutations(torch.tensor([7]), epoch, n)[0]
        for s in range(0, n, 50):
            idx = perm[s : s + 50]
            loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for name, t in model.state_dict().items():
        torch.testing.assert_close(_weights(result, 0)[name], t, rtol=1e-4, atol=1e-5, msg=name)


def test_a_model_does_not_depend_on_its_neighbours():
    """Seed 2 with lr 0.03 trained alone equals the same member of a population of 8 with other
    seeds, learning rates and init schemes around it (the grid puts it in slot 4)."""
    alone = train(
        small_config(optim={"lr": 0.03}, model={"dropout": 0.2}, population={"seeds": [2]}),
        write=False,
        progress=False,
        device="cpu",
    )
    cfg = small_config(
        model={"dropout": 0.2},
        population={
            "seeds": [1, 2],
            "variants": [{"init.scheme": "he_normal", "model.dropout": 0.5}, {}],
            "grid": {"optim.lr": [0.01, 0.03]},
        },
    )
    pop = train(cfg, write=False, progress=False, device="cpu")
    slot = [
        m.index
        for m in pop.members
        if m.seed == 2 and m.overrides.get("optim.lr") == 0.03 and "init.scheme" not in m.overrides
    ]
    assert len(slot) == 1
    for name, t in _weights(alone, 0).items():
        torch.testing.assert_close(_weights(pop, slot[0])[name], t, rtol=1e-4, atol=1e-6, msg=name)
    assert alone.summary["models"][0]["final"]["test_acc"] == pytest.approx(
        pop.summary["models"][slot[0]]["final"]["test_acc"], abs=1e-6
    )


def test_nan_in_one_model_leaves_the_others_identical():
    base = dict(optim={"name": "sgd", "lr": 0.1, "momentum": 0.9}, train={"epochs": 2})
    sane = train(
        small_config(**base, population={"seeds": [0, 1]}),
        write=False,
        progress=False,
        device="cpu",
    )
    mixed = train(
        small_config(**base, population={"seeds": [0, 1], "grid": {"optim.lr": [0.1, 1e30]}}),
        write=False,
        progress=False,
        device="cpu",
    )
    models = mixed.summary["models"]
    assert [m["status"] for m in models] == ["ok", "ok", "nan", "nan"]
    assert all(m["stopped_step"] >= 1 for m in models[2:])
    assert [m["index"] for m in mixed.summary["nan_models"]] == [2, 3]
    for i in (0, 1):
        for name, t in _weights(sane, i).items():
            torch.testing.assert_close(_weights(mixed, i)[name], t, msg=name)
    # a stopped model is frozen: its weights stay finite, the summary's aggregates skip it
    assert all(torch.isfinite(t).all() for t in _weights(mixed, 2).values())
    assert mixed.summary["aggregates"]["test_acc"]["n"] == 2


def test_the_progress_mean_leaves_out_nan_models():
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        train={"epochs": 1},
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.1, 1e30]}},
    )
    trainer = Trainer(cfg, device="cpu")
    rows = trainer.train_epoch()
    assert trainer.alive.tolist() == [True, True, False, False]
    mean = (rows[0]["val_acc"] + rows[1]["val_acc"]) / 2
    assert trainer.progress_line(rows) == f"val_acc {mean:.3f}, 2/4 training"


def test_progress_to_a_log_file_is_one_line_per_epoch(capsys, monkeypatch):
    """Without a terminal (nohup, a batch job) rich draws the bar only when it stops."""
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):  # rich: "a terminal"
        monkeypatch.delenv(var, raising=False)
    train(small_config(train={"epochs": 2}), write=False, progress=True, device="cpu")
    out = capsys.readouterr().out
    assert "t epoch 1/2: val_acc " in out and "t epoch 2/2: val_acc " in out


def test_run_directory(tmp_path):
    out = tmp_path / "run"
    cfg = small_config(population={"seeds": [0, 1], "variants": [{}, {"optim.lr": 0.001}]})
    result = train(cfg, out=out, progress=False, device="cpu")
    assert result.run_dir == out
    for name in ("config.yaml", "population.json", "metrics.jsonl", "summary.json"):
        assert (out / name).is_file(), name
    written = yaml.safe_load((out / "config.yaml").read_text())  # factory defaults written out
    assert written["optim"]["eps"] == 1e-8 and written["optim"]["betas"] == [0.9, 0.999]
    assert written["model"]["activation"] == "relu" and written["model"]["dropout"] == 0.0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 4 * 2
    assert {
        "model",
        "epoch",
        "step",
        "train_loss",
        "val_acc",
        "test_acc",
        "lr",
        "grad_norm",
    } <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 4 and len(summary["models"]) == 4
    model = summary["models"][3]
    assert model["seed"] == 1 and model["overrides"] == {"optim.lr": 0.001}
    assert set(model["final"]) >= {"train_loss", "val_loss", "val_acc", "test_loss", "test_acc"}
    assert set(summary["aggregates"]["test_acc"]) == {"mean", "std", "ci95", "n"}
    assert {g["group"] for g in summary["groups"]} == {"default", "optim.lr=0.001"}
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["epoch"] == 2 and "optimizer" in state and "population" in state
    # never overwrite an existing run directory
    with pytest.raises(UserError, match=f"already exists.*trainlab resume {out}"):
        train(cfg, out=out, progress=False, device="cpu")
    # a folder without a checkpoint is not offered to `trainlab resume`
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="already exists") as err:
        train(cfg, out=other, progress=False, device="cpu")
    assert "resume" not in str(err.value) and (other / "notes.txt").read_text() == "mine"


def test_early_stopping_freezes_the_model():
    cfg = small_config(
        optim={"lr": 0.5},
        train={"epochs": 6, "early_stopping_patience": 1, "early_stopping_metric": "val_acc"},
        population={"seeds": [0, 1, 2]},
    )
    result = train(cfg, write=False, progress=False, device="cpu")
    stopped = [m for m in result.summary["models"] if m["status"] == "early_stopped"]
    assert stopped, "lr 0.5 should plateau within 6 epochs"
    assert all(m["stopped_step"] is not None for m in stopped)


def test_user_module_is_trainable():
    class Net(nn.Module):  # a forward that reshapes: trained through the vmap path
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc(x.view(x.size(0), -1))

    result = train(
        small_config(train={"epochs": 3}), model=Net(), write=False, progress=False, device="cpu"
    )
    assert result.population.mode == "vmap"
    assert result.summary["models"][0]["final"]["test_acc"] > 0.6
    with pytest.raises(UserError, match="shape mismatch"):
        train(small_config(), model=nn.Linear(10, 10), write=False, progress=False, device="cpu")
    with pytest.raises(UserError, match="shape mismatch"):
        train(
            small_config(),
            model=nn.Sequential(nn.Flatten(), nn.Linear(64, 3)),
            write=False,
            progress=False,
            device="cpu",
        )


def test_clip_fraction_is_recorded(tmp_path):
    cfg = small_config(train={"epochs": 2, "clip_norm": 1e-3}, population={"seeds": [0, 1]})
    train(cfg, out=tmp_path / "r", progress=False, device="cpu")
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["clip_frac"] == 1.0 for r in rows)  # a norm of 1e-3 clips every step
    with pytest.raises(UserError, match="closures"):
        train(small_config(optim={"name": "lbfgs"}), write=False, progress=False)


def test_dropout_only_in_the_overrides_still_builds_dropout_layers():
    cfg = small_config(population={"seeds": [0], "grid": {"model.dropout": [0.0, 0.5]}})
    result = train(cfg, write=False, progress=False)
    rates = [m.p.tolist() for m in result.population.net.modules() if hasattr(m, "site")]
    assert rates == [[0.0, 0.5]]


def test_only_numbers_vary_per_model():
    cfg = small_config(
        optim={"name": "sgd", "momentum": 0.9},
        population={"seeds": [0], "grid": {"optim.nesterov": [True, False]}},
    )
    with pytest.raises(UserError, match="only numbers can vary"):
        train(cfg, write=False, progress=False)


def test_unknown_names_are_clear():
    with pytest.raises(UserError, match="did you mean 'digits'"):
        train(small_config(data={"name": "digit"}), write=False, progress=False)
    with pytest.raises(UserError, match="did you mean 'mlp'"):
        train(small_config(model={"name": "mpl"}), write=False, progress=False)


def test_public_api():
    import trainlab

    assert callable(trainlab.train) and trainlab.train.Trainer is Trainer
    result = trainlab.train(small_config(train={"epochs": 1}), write=False, progress=False)
    assert result.summary["k"] == 1
    assert trainlab.Population.__name__ == "Population"
    assert trainlab.load_config(None).train.epochs == 15
    with pytest.raises(AttributeError):
        trainlab.nope  # noqa: B018


def _hot_config():
    """Every per-step feature on: dropout, batch norm, per-model lr, warmup + cosine, both clips;
    the _foreach optimizer path (the one CUDA takes; the fused kernels are CPU-only)."""
    return small_config(
        model={"dropout": 0.2, "batch_norm": True},
        optim={"name": "adam", "fused": False},
        train={"clip_norm": 1.0, "clip_value": 0.5},
        schedule={"name": "cosine", "warmup_steps": 2},
        population={"seeds": [0, 1], "grid": {"optim.lr": [0.01, 0.02]}},
    )


def test_a_step_makes_no_tensor_from_host_data(monkeypatch):
    """``torch.tensor`` / ``torch.as_tensor`` of host data onto a CUDA device is a copy that waits
    for the GPU (a host sync), so ``step_on`` must make none (DESIGN.md principle 3). Checked on
    the CPU by recording those calls during steps (the dropout counter was one, per layer)."""
    trainer = Trainer(_hot_config(), device="cpu")
    perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
    trainer.step_on(perm[:, :32])  # the optimizer makes its state on the first step
    made = []
    for name in ("tensor", "as_tensor", "from_numpy"):

        def spy(*args, _real=getattr(torch, name), _name=name, **kwargs):
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(torch, name, spy)
    for s in range(1, 4):
        trainer.step_on(perm[:, s * 32 : (s + 1) * 32])
    monkeypatch.undo()
    assert made == []


@requires_cuda
def test_cuda_steps_do_not_sync():
    """On CUDA a training step queues kernels and never waits for them (no .item(), no
    host-to-device copy): torch's sync debug mode turns any sync into an error."""
    trainer = Trainer(_hot_config(), device="cuda")
    perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
    for s in range(2):  # warm-up: optimizer state, library handles
        trainer.step_on(perm[:, s * 32 : (s + 1) * 32])
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for s in range(2, 5):
            trainer.step_on(perm[:, s * 32 : (s + 1) * 32])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert bool(torch.isfinite(trainer._sum_loss).all())


def test_per_model_optimizer_values_are_not_rounded_to_float32():
    """Per-model values reach the optimizer in float64 (trainlab.optim.base): a per-model
    β₂ = 0.999 stays 0.999, as a shared one does, not float32's 0.99900001."""
    cfg = small_config(
        optim={"name": "adam", "betas": [0.9, 0.999]},
        population={"seeds": [0], "variants": [{}, {"optim.betas": [0.8, 0.99]}]},
    )
    b1, b2 = Trainer(cfg, device="cpu").optimizer.param_groups[0]["betas"]
    assert b1.dtype == b2.dtype == torch.float64
    assert b1.tolist() == [0.9, 0.8] and b2.tolist() == [0.999, 0.99]


def test_parameters_no_scheme_covers_are_drawn_per_seed():
    """An LSTM's weights (no init scheme covers them) start different for different seeds,
    drawn by PyTorch's default init from each model's seed: the same for a seed whatever the
    population, the template's own values or the global RNG (they were the template's, the
    same in every model, so seeds shared them)."""
    cfg = small_config(population={"seeds": [0, 1]})
    with pytest.warns(UserWarning, match="drawn per model"):
        torch.manual_seed(5)
        both = Trainer(cfg, model=RowLSTM(), device="cpu").pop
        torch.manual_seed(6)
        alone = Trainer(small_config(population={"seeds": [1]}), model=RowLSTM(), device="cpu")
    w = [both.member_state(i)["rnn.weight_ih_l0"] for i in (0, 1)]
    assert not torch.equal(w[0], w[1])
    assert torch.equal(alone.pop.member_state(0)["rnn.weight_ih_l0"], w[1])
    bound = 1 / RowLSTM().rnn.hidden_size ** 0.5  # nn.LSTM's default: U(-1/√H, 1/√H)
    assert float(w[0].abs().max()) <= bound and float(w[0].std()) > 0.5 * bound / 3**0.5


def test_a_recurrent_user_module_trains_and_is_watched():
    """torch.vmap cannot batch nn.LSTM: the trainer still trains it (the population runs its
    models one after another), each model as it trains alone, and watch() records it."""
    from trainlab.diagnostics import watch

    cfg = small_config(train={"epochs": 3}, population={"seeds": [0, 1]})
    with (
        pytest.warns(UserWarning, match=r"rnn.weight_ih_l0 drawn per model by PyTorch's default"),
        pytest.warns(UserWarning, match="LSTM per model: this population runs its 2 models one"),
    ):
        both = train(cfg, model=RowLSTM(), write=False, progress=False, device="cpu")
    assert both.population.mode == "loop"
    accs = [m["final"]["test_acc"] for m in both.summary["models"]]
    assert min(accs) > 0.5
    torch.manual_seed(1)  # the template's LSTM weights do not matter: each seed draws its own
    with pytest.warns(UserWarning, match="drawn per model"):
        alone = train(
            small_config(train={"epochs": 3}, population={"seeds": [1]}),
            model=RowLSTM(), write=False, progress=False, device="cpu",
        )  # fmt: skip
    for n, t in alone.population.member_state(0).items():
        torch.testing.assert_close(both.population.member_state(1)[n], t, msg=n)
    pop = both.population
    with watch(pop) as w:
        pop.train()
        pop(torch.randn(2, 4, 64)).sum().backward()
    layers = {(r["model"], r["layer"]) for r in w.records()}
    assert {(0, "rnn"), (1, "rnn"), (0, "fc"), (1, "fc")} <= layers
