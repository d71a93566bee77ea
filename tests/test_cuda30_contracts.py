"""Review (cuda30) of the CUDA-only paths: CUDA graphs' eager steps and the optimizers' step
counts read from the device. Run on the CPU by making the trainer's step take its CUDA
branches (``on_cpu`` false, no fused CPU kernels), as tests/test_cuda_graphs_replay_contracts.py
does."""

import torch

from conftest import small_config
from trainlab import rng
from trainlab.cuda_graphs import StepGraphs
from trainlab.optim.base import PopulationOptimizer
from trainlab.train import Trainer


def _cuda_branches(monkeypatch):
    """Every trainer's step takes its CUDA branches on CPU tensors (the device is only read as
    ``device.type`` inside the step); the optimizers take their ``_foreach`` paths."""
    real = Trainer._step_kernels

    def as_cuda(self, idx, step):
        dev = self.device
        self.device = torch.device("cuda")
        try:
            return real(self, idx, step)
        finally:
            self.device = dev

    monkeypatch.setattr(Trainer, "_step_kernels", as_cuda)
    monkeypatch.setattr(PopulationOptimizer, "_fusable", staticmethod(lambda group, t: False))


# StepGraphs.eager_step (every eager step of a CUDA trainer: the warm-up, hooked steps,
# train.cuda_graph false) sets optimizer.graph_t to t = 1 + the count shared by *all* parameters
# that have optimizer state, and PopulationOptimizer._counts (base.py) takes graph_t whenever the
# parameters stepping *now* share one count, without checking that it is that t. When the
# parameters that step are all new (no state yet: staged training, the first layer unfrozen after
# the last one trained for 3 steps), they share the count 0 -> t = 1, but graph_t says 4: on CUDA
# their Adam bias corrections use t = 4 (a step ~0.58x torch's, here 0.004 off at lr 0.01),
# while the host path (CPU) uses t = 1 as torch.optim.Adam does (each parameter its own t). The
# same run must give the same weights on both paths (the module doc of cuda_graphs: eager CUDA
# steps compute what the CPU computes), so the weights must agree to float rounding.
def test_eager_cuda_step_of_parameters_that_start_stepping_alone_uses_their_own_t(monkeypatch):
    _cuda_branches(monkeypatch)
    cfg = small_config(population={"seeds": [0, 1]})
    host, dev = (Trainer(cfg, device="cpu") for _ in range(2))
    dev._graphs = StepGraphs(dev)
    dev._graphs.off = "eager steps only"  # every step through eager_step, as on CUDA
    first = lambda t: t.params[:2]  # noqa: E731  (the first layer's weight and bias)
    last = lambda t: t.params[2:]  # noqa: E731
    perm = rng.permutations(host.pop.seeds, 0, host.data.x_train.shape[0])
    for t in (host, dev):
        for p in first(t):
            p.requires_grad_(False)  # stage 1: the last layer trains alone
    for s in range(3):
        for t in (host, dev):
            t.step_on(perm[:, s * 64 : (s + 1) * 64])
    for t in (host, dev):  # stage 2: the first layer trains alone, its first steps
        for p in first(t):
            p.requires_grad_(True)
        for p in last(t):
            p.requires_grad_(False)
    for t in (host, dev):
        t.step_on(perm[:, 192:256])
    assert host.optimizer.state[first(host)[0]]["step"] == 1
    for a, b in zip(host.params, dev.params, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


# the device count is what is read when the parameters' own counts are the t it was set for
# (a replay advances graph_t without running Python: the host counters are then stale)
def test_graph_t_is_read_when_the_stepping_parameters_share_its_t():
    opt = PopulationOptimizer.__new__(PopulationOptimizer)
    opt.graph_t, opt.graph_t_host = torch.tensor(9.0, dtype=torch.float64), 4
    assert opt._counts([4, 4]) is opt.graph_t
    assert opt._counts([1, 1]) == [1, 1]  # new parameters stepping alone: their own t
    assert opt._counts([4, 1]) == [4, 1]
