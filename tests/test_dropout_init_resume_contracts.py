"""Adversarial review: per-model settings of user modules (dropout rates, init of parameters no
scheme covers) across train and resume."""

import warnings

import pytest
import torch
from torch import nn

from conftest import Killed, small_config
from trainlab.train import Trainer, resume, train


def _dropout_net() -> nn.Module:
    """A user module with its own dropout rate (0.5) and no model.dropout in the config."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10)
    )


def _rates(pop) -> list[list[float]]:
    """Each dropout layer's per-model rates, as the population holds them."""
    return [t.tolist() for n, t in pop.state_dict().items() if n.endswith(".p") and t.dim() == 1]


def test_a_user_module_run_killed_before_its_first_checkpoint_resumes_with_its_own_dropout(
    tmp_path, monkeypatch
):
    """A user module's ``nn.Dropout(0.5)`` trains at 0.5 when the config gives no
    ``model.dropout`` ("left out, a module given keeps its own"). ``config.yaml`` is written
    with the mlp factory's defaults, ``model.dropout: 0.0`` among them, so resume reads a
    *given* global dropout of 0 and sets every rate to 0. With a checkpoint the rates come back
    from it, but a run killed during its first epoch (which resume is documented to restart,
    "continues a run killed at any moment") has none: the resumed run silently trains without
    dropout and ends with other weights than the uninterrupted run, breaking
    "resume reaches the same final weights as an uninterrupted run"."""
    cfg = small_config(train={"epochs": 1}, population={"seeds": [0, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = train(cfg, out=tmp_path / "ref", progress=False, device="cpu", model=_dropout_net())
        assert _rates(ref.population) == [[0.5, 0.5]]  # the module's own rate, as promised

        def die(self, *args, **kwargs):  # killed during the first epoch: no checkpoint yet
            raise Killed

        with monkeypatch.context() as m:
            m.setattr(Trainer, "train_epoch", die)
            with pytest.raises(Killed):
                train(cfg, out=tmp_path / "run", progress=False, device="cpu", model=_dropout_net())
        assert not (tmp_path / "run" / "checkpoints" / "last.pt").exists()
        res = resume(tmp_path / "run", progress=False, device="cpu", model=_dropout_net())
    assert _rates(res.population) == [[0.5, 0.5]], "resume changed the module's dropout rate"
    a, b = ref.population.state_dict(), res.population.state_dict()
    differ = [n for n in a if not torch.equal(a[n], b[n])]
    assert differ == [], f"resumed run differs from the uninterrupted one in {differ}"


def test_a_user_module_model_without_a_dropout_override_keeps_its_rate_beside_one_with_it():
    """Principle 2: a model's result depends only on its own config and seed, never on its
    neighbours. A user module's model whose config leaves ``model.dropout`` out keeps the
    module's own rate (0.5) when trained alone; put in a population beside a variant that
    overrides ``model.dropout: 0.2``, the same model (same seed, same overrides ``{}``) is set
    to rate 0.0 instead (``Trainer.__init__`` fills the rate of every model without the
    override with 0). A user comparing "dropout 0.2 vs the module's default" sees the default
    arm silently trained without dropout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = Trainer(small_config(), device="cpu", model=_dropout_net())
        both = small_config(population={"seeds": [0], "variants": [{"model.dropout": 0.2}, {}]})
        pair = Trainer(both, device="cpu", model=_dropout_net())
    assert pair.members[1].overrides == {} and pair.members[1].seed == alone.members[0].seed
    assert _rates(alone.pop) == [[0.5]]
    assert _rates(pair.pop) == [[0.2, 0.5]], (
        "the model without a model.dropout override lost its module's own rate because a "
        "neighbour overrides it"
    )


class _Recurrent(nn.Module):
    """An LSTM: its parameters are drawn per model by their module's reset_parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(8, 8, batch_first=True)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.rnn(x.reshape(x.size(0), 8, 8))[0][:, -1])


def test_drawing_the_lstm_init_per_model_does_not_reseed_the_cuda_generators(monkeypatch):
    """``train`` promises "torch's global RNG ... [is] left as it was", and ``_build_model``
    takes care to seed only the CPU generator ("CUDA's untouched"). But ``_init_members`` draws
    the default init of an LSTM/Embedding with ``torch.manual_seed(...)`` inside
    ``fork_rng(devices=[])``: ``torch.manual_seed`` also calls ``torch.cuda.manual_seed_all``,
    and the fork restores only the CPU generator. On a CUDA machine every CUDA generator of
    the user's process is left reseeded with trainlab's key (a script that seeded torch,
    trained a run, then drew on the GPU gets other numbers; on a CPU-only build the seed is
    queued and applied when CUDA initializes)."""
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    cfg = small_config(train={"epochs": 1}, population={"seeds": [0, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Trainer(cfg, device="cpu", model=_Recurrent())
    assert calls == [], f"the trainer reseeded every CUDA generator ({len(calls)} times)"
