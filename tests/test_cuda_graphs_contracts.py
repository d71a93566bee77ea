"""CUDA graphs (trainlab.cuda_graphs, train.cuda_graph / train.tf32): contracts found by review.

The StepGraphs tests run its host-side logic on the CPU with a stand-in for torch's CUDA graph:
"capture" runs the step eagerly once (as a real capture runs the step's Python once) and
"replay" runs no Python at all (as a real replay).
"""

import json
from contextlib import contextmanager

import torch
from torch import nn

from conftest import small_config
from trainlab import rng
from trainlab.cuda_graphs import StepGraphs
from trainlab.train import Trainer


class _FakeGraph:
    def replay(self) -> None:
        pass


def _fake_cuda_graphs(monkeypatch, trainer):
    @contextmanager
    def graph(g):
        yield

    monkeypatch.setattr(torch.cuda, "CUDAGraph", _FakeGraph)
    monkeypatch.setattr(torch.cuda, "graph", graph)
    trainer._graphs = StepGraphs(trainer)
    return trainer._graphs


class _Counts(nn.Module):
    """A user's module whose forward advances a Python step counter (trainlab keeps such
    counters in a checkpoint: Population.python_state)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.t = 0

    def forward(self, x):
        self.t += 1
        return self.fc(x.flatten(1)) * (1.0 + 0.0 * self.t)


def test_graphed_steps_keep_a_forwards_python_counter_moving(monkeypatch):
    # a replay runs no Python, so a counter the forward advances (which resume/checkpoints
    # keep) froze after the capture; such a step must run eagerly (or recapture), as hooks do
    cfg = small_config(population={"seeds": [0, 1]})
    eager = Trainer(cfg, device="cpu", model=_Counts())
    graphed = Trainer(cfg, device="cpu", model=_Counts())
    assert graphed.pop.mode == "vmap"
    _fake_cuda_graphs(monkeypatch, graphed)
    perm = rng.permutations(eager.pop.seeds, 0, eager.data.x_train.shape[0])
    for s in range(4):
        eager.step_on(perm[:, s * 64 : (s + 1) * 64])
        graphed.step_on(perm[:, s * 64 : (s + 1) * 64])
    assert graphed.pop.python_state() == eager.pop.python_state()


def test_resume_of_a_run_trained_before_the_cuda_graph_and_tf32_keys(tmp_path):
    # a checkpoint written before train.cuda_graph/train.tf32 existed has neither key: resume
    # refused every such run ("train.tf32: None -> False"); absent must read as the default
    from trainlab.train import resume, train

    cfg = small_config(train={"epochs": 1})
    path = train(cfg, out=tmp_path / "r", progress=False).run_dir
    ckpt = path / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=False)
    old = json.loads(state["config"])
    del old["train"]["cuda_graph"], old["train"]["tf32"]
    state["config"] = json.dumps(old, sort_keys=True)
    torch.save(state, ckpt)
    yaml_path = path / "config.yaml"
    text = yaml_path.read_text()
    text = "\n".join(
        line for line in text.splitlines() if "cuda_graph:" not in line and "tf32:" not in line
    )
    yaml_path.write_text(text.replace("epochs: 1", "epochs: 2") + "\n")
    resume(path, progress=False, on_note=lambda note: None)


def test_trainlabs_own_steps_change_no_python_state(monkeypatch):
    # the Python-state check must not refuse what trainlab's own step changes (dropout's call
    # counters, batch norm's frozen mask): a stacked population with both, and a vmap one
    from torch.nn import functional as F  # noqa: N812

    class _UserNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(64, 32), nn.Linear(32, 10)

        def forward(self, x):
            return self.fc2(F.silu(self.fc1(x.flatten(1))))

    hot = small_config(model={"dropout": 0.2, "batch_norm": True}, population={"seeds": [0, 1]})
    for trainer in (
        Trainer(hot, device="cpu"),
        Trainer(small_config(population={"seeds": [0, 1]}), device="cpu", model=_UserNet()),
    ):
        graphs = _fake_cuda_graphs(monkeypatch, trainer)
        perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
        for s in range(3):
            trainer.step_on(perm[:, s * 64 : (s + 1) * 64])
        assert graphs.off is None and graphs.replays == 2, (trainer.pop.mode, graphs.off)
