"""Review of the session 7a50b42..HEAD (CUDA graphs, train.tf32, GPU benchmarks), on the CPU."""

import warnings
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.autograd import DeviceType

from conftest import small_config


@pytest.fixture(scope="module", autouse=True)
def _datasets_loaded():
    """The first trainer of a process loads the dataset libraries (~4 s): once, in setup."""
    from trainlab.train import Trainer

    Trainer(small_config(), device="cpu")


def test_profile_step_on_cuda_counts_each_kernel_once(monkeypatch):
    # benchmarks/profile_step.py:55-67 sums self_device_time_total over *every* key_averages()
    # row; on CUDA a CPU op (aten::addmm) carries its kernels' time as its own self device time
    # and the kernel is a row too, so every kernel is counted twice (total 2x, shares halved,
    # aten ops mixed into "the kernels"). Right: only device events, as torch's table sums them.
    bench = str(Path(__file__).resolve().parent.parent / "benchmarks")
    monkeypatch.syspath_prepend(bench)
    import profile_step
    import trainlab.train

    steps = 2

    class FakeTrainer:
        def __init__(self, config, device):
            self.device = torch.device("cuda")
            self.pop = SimpleNamespace(seeds=torch.tensor([0]))
            self.data = SimpleNamespace(x_train=torch.zeros(300, 4))
            self.batch_size, self.steps_per_epoch = 100, 3

        def step_on(self, idx):
            pass

    def ev(key, device_type, us):
        return SimpleNamespace(key=key, count=steps, device_type=device_type,
                               is_user_annotation=False, self_device_time_total=us,
                               self_cuda_time_total=us, self_cpu_time_total=5.0)  # fmt: skip

    events = [
        ev("aten::addmm", DeviceType.CPU, 400.0),  # (its kernel's time, as torch attributes it)
        ev("ampere_sgemm_128x64_tn", DeviceType.CUDA, 400.0),
        ev("aten::add_", DeviceType.CPU, 100.0),
        ev("vectorized_elementwise_kernel", DeviceType.CUDA, 100.0),
        ev("cudaLaunchKernel", DeviceType.CPU, 0.0),
    ]

    @contextmanager
    def fake_profile(activities):
        yield SimpleNamespace(key_averages=lambda: events)

    monkeypatch.setattr(trainlab.train, "Trainer", FakeTrainer)
    monkeypatch.setattr(profile_step, "_config", lambda *a, **k: None)
    monkeypatch.setattr(profile_step, "profile", fake_profile)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    got = profile_step.profile_steps("gpu", 1, steps, graphs=False, tf32=False)
    assert abs(got["total_ms_per_step"] - 0.25) < 1e-12  # (400 + 100) us over 2 steps
    assert [r["name"] for r in got["rows"]] == [
        "ampere_sgemm_128x64_tn",
        "vectorized_elementwise_kernel",
    ]


class _Refused(nn.Module):  # a forward vmap refuses and the loop runs: loop mode at step 1
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        h = self.fc(x.flatten(1))
        z = torch.zeros(h.shape[-1], device=h.device)
        z.add_(h.mean(0))  # (in place into an unbatched tensor: vmap refuses, no host read)
        return h + z


def test_population_that_falls_back_to_the_loop_is_not_captured(monkeypatch):
    # cuda_graphs.py:53-59 decides "loop mode: no graphs" once, in Trainer.__init__; a vmap
    # population that falls back to the loop at its first forward (or is resumed from a
    # checkpoint whose mode is "loop", train.py:829) is then captured and replayed, although
    # README/the module docstring say loop-mode populations never capture. Right:
    # StepGraphs.step returns None (eager) whenever trainer.pop.mode == "loop".
    from test_cuda_graphs_replay_contracts import _pair, _steps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the population's "runs its models one after another")
        cfg = small_config(population={"seeds": [0, 1]})
        _, graphed, graphs = _pair(monkeypatch, cfg, _Refused)
        _steps([graphed], 3)
    assert graphed.pop.mode == "loop"
    assert graphs.captures == 0 and graphs.replays == 0


def test_resume_names_the_value_an_older_run_trained_with_for_an_added_key(tmp_path):
    # train.py:1605-1608: a checkpoint from before train.tf32 existed, resumed with
    # train.tf32: true, is refused as "train.tf32: None -> True", and "restore these keys"
    # points at None, which the key refuses; the run trained with False (ADDED_KEYS): say
    # "False -> True"
    from trainlab.config import with_factory_defaults
    from trainlab.errors import UserError
    from trainlab.train import _config_changes

    old = with_factory_defaults(small_config()).model_dump(mode="json")
    del old["train"]["tf32"], old["train"]["cuda_graph"]  # (a run recorded before 195c4c1)
    now = small_config(train={"tf32": True})
    run = SimpleNamespace(config_path=tmp_path / "config.yaml", path=tmp_path)
    with pytest.raises(UserError) as err:
        _config_changes(old, now, run, 1)
    assert "train.tf32: False -> True" in str(err.value), str(err.value)
