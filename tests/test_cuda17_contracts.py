"""Review (cuda17) of the GPU-only code: device names, CUDA-graph capture on cuda:N, TF32.

The first two tests run on the CPU; the others need CUDA (one GPU, or two) and skip here.
"""

from __future__ import annotations

import pytest
import torch

from conftest import small_config
from trainlab.devices import resolve_device
from trainlab.errors import UserError
from trainlab.train import Trainer


@pytest.mark.parametrize("name", ["cpu:0", "cpu:1"])
def test_a_cpu_device_name_resolves_to_the_device_cpu_tensors_are_on(name):
    # resolve_device accepts 'cpu:0'/'cpu:1' as given, but CPU tensors are on 'cpu' (no index):
    # the trainer then refuses its own batches; a CPU name must resolve to torch.device('cpu')
    # (or, for an index other than 0, be a UserError)
    try:
        dev = resolve_device(name)
    except UserError:
        return
    assert torch.zeros(1, device=dev).device == dev


def test_a_trainer_on_cpu_0_trains():
    # `trainlab train ... --device cpu:0` fails at the first step with "step_on takes ... int64
    # tensor on cpu:0, got (1, 100) torch.int64 on cpu" (exit 2) and leaves a half-made run
    # folder; 'cpu:0' is the CPU and must train as 'cpu' does
    trainer = Trainer(small_config(train={"epochs": 1}), device="cpu:0")
    trainer.train_epoch()
    assert trainer.step == trainer.steps_per_epoch


def _final(cfg, device):
    trainer = Trainer(cfg, device=device)
    for _ in range(cfg.train.epochs):
        trainer.train_epoch()
    return trainer, [p.detach().cpu() for p in trainer.params]


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_cuda_graphs_of_a_trainer_on_a_second_gpu_replay_its_step():
    # StepGraphs captures and replays on the *current* CUDA device (torch.cuda.graph's side
    # stream; pytorch/pytorch#87894): a trainer on cuda:1 while cuda:0 is current records an
    # empty graph (its kernels run eagerly on cuda:1's own stream at the capture) and every
    # replay then does nothing (weights frozen, stale loss). Capture and replay must run on the
    # trainer's device (torch.cuda.device(dev) and a capture stream made there)
    assert torch.cuda.current_device() == 0
    cfg = small_config(population={"seeds": [0, 1]}, train={"epochs": 2})
    graphed, got = _final(cfg, "cuda:1")
    _, want = _final(small_config(population={"seeds": [0, 1]},
                                  train={"epochs": 2, "cuda_graph": False}), "cuda:1")  # fmt: skip
    assert graphed._graphs.replays > 0 and graphed._graphs.off is None
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "device",
    ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                          reason="needs CUDA"))],
)  # fmt: skip
def test_tf32_false_runs_float32_matmuls_whatever_the_caller_set(monkeypatch, device):
    # train.tf32: false (the default, "off by default") leaves the caller's global
    # torch.set_float32_matmul_precision("high") in force, so a notebook that set it (as
    # Lightning advises) trains in TF32 and its results depend on that global; the trainer must
    # run its steps at "highest" when tf32 is false, as it pins the default dtype
    seen = []
    real = Trainer._step_kernels

    def spy(self, idx, step):
        seen.append(torch.get_float32_matmul_precision())
        return real(self, idx, step)

    monkeypatch.setattr(Trainer, "_step_kernels", spy)
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        trainer = Trainer(small_config(train={"epochs": 1}), device=device)
        trainer.train_epoch()
    finally:
        torch.set_float32_matmul_precision(before)
    assert seen and set(seen) == {"highest"}, set(seen)


def test_cuda_graphs_of_a_cuda_n_trainer_capture_and_replay_on_its_device(monkeypatch):
    # (the plumbing of the fix above, on the CPU) a "cuda:N" trainer's capture and replay run
    # inside torch.cuda.device(N) and capture on a stream made on N, one per StepGraphs; a
    # plain "cuda" trainer keeps torch's defaults
    from contextlib import contextmanager
    from types import SimpleNamespace

    from trainlab.cuda_graphs import StepGraphs

    entered = []

    @contextmanager
    def device(dev):
        entered.append(dev)
        yield

    monkeypatch.setattr(torch.cuda, "device", device)
    monkeypatch.setattr(torch.cuda, "Stream", lambda device: ("stream", device))
    sg = StepGraphs(SimpleNamespace(device=torch.device("cuda:1")))
    kwargs = sg._capture_kwargs()
    assert kwargs == {"stream": ("stream", torch.device("cuda:1"))}
    assert sg._capture_kwargs()["stream"] is kwargs["stream"]  # made once
    with sg._on_device():
        pass
    assert entered == [torch.device("cuda:1")]
    plain = StepGraphs(SimpleNamespace(device=torch.device("cuda")))
    assert plain._capture_kwargs() == {}
    with plain._on_device():
        pass
    assert entered == [torch.device("cuda:1")]
