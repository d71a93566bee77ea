"""Review of the Python API as a notebook user calls it (2026-11-30): lr_find/lr_sweep/diagnose
take the dict train() takes, apply_sets copies, a float lr's schedule drives any K."""

from __future__ import annotations

import copy

import torch

_SMALL = {
    "data": {"name": "spirals", "options": {"n_samples": 120}},
    "model": {"name": "mlp", "hidden": [4]},
    "train": {"epochs": 1, "batch_size": 32},
}


def test_lr_find_takes_the_plain_dict_that_train_takes():
    # lr_find(dict) dies in pathlib with "TypeError: expected str, bytes or os.PathLike object,
    # not dict" (load_config(dict)); train() takes the same dict, so lr_find should too
    from trainlab.optim import LRFindResult, lr_find

    result = lr_find(copy.deepcopy(_SMALL), num_steps=5, check_every=5, device="cpu")
    assert isinstance(result, LRFindResult) and len(result.lrs) == 5


def test_lr_sweep_takes_the_plain_dict_that_train_takes():
    # lr_sweep(dict) raises the same raw pathlib TypeError; it should run like train(dict)
    from trainlab.optim import lr_sweep

    result = lr_sweep(copy.deepcopy(_SMALL), [1e-3, 1e-2], device="cpu")
    assert result.lrs == [1e-3, 1e-2] and len(result.train_loss) == 2


def test_apply_sets_leaves_the_callers_dict_alone():
    # trainlab.config.apply_sets writes the --set values into the caller's dict (and its nested
    # dicts) and returns that same object, so a base dict reused for several configs carries
    # every earlier override into the next; it should return an updated copy
    from trainlab.config import apply_sets

    base = {"train": {"epochs": 1}, "model": {"name": "mlp"}}
    out = apply_sets(base, ["train.epochs=3", "model.hidden=[8]"])
    assert out["train"]["epochs"] == 3 and out["model"]["hidden"] == [8]
    assert base == {"train": {"epochs": 1}, "model": {"name": "mlp"}}


def test_schedule_of_a_float_base_lr_drives_a_population_optimizer():
    # create_schedule(name, 0.1, ...) (base_lr: Tensor | float) returns (1,) tensors, which a
    # K=3 population optimizer refuses ("lr has shape (1,) but the population has K=3"), so the
    # documented "group['lr'] = schedule(step)" fails for a shared lr; a float base should give
    # values any K takes (0-d, or broadcast)
    import trainlab.optim as O

    w = torch.nn.Parameter(torch.ones(3, 2))
    opt = O.SGD([w], lr=0.1)
    sched = O.create_schedule("cosine", 0.1, total_steps=10, steps_per_epoch=2)
    opt.param_groups[0]["lr"] = sched(0)
    w.grad = torch.ones_like(w)
    opt.step()
    assert torch.allclose(w.detach(), torch.full((3, 2), 0.9))


def test_diagnose_takes_a_dict_and_leaves_a_config_given_to_it_alone(tmp_path):
    # diagnose() sets the config's train.diagnose_every and epochs: on a copy, never on the
    # caller's Config; and it takes the plain dict train() takes
    from trainlab.config import parse_config
    from trainlab.diagnostics.run import diagnose

    cfg = parse_config(copy.deepcopy(_SMALL))
    before = cfg.model_dump()
    kw = dict(every=5, epochs=1, device="cpu", progress=False, report=False)
    diagnose(cfg, out=tmp_path / "a", **kw)
    assert cfg.model_dump() == before
    diagnose(copy.deepcopy(_SMALL), out=tmp_path / "b", **kw)
    assert (tmp_path / "b" / "verdict.json").is_file()


def test_watch_takes_one_layer_name_as_a_string():
    # watch(model, layers="fc1") iterated the string: "no layer named 'f'"; one name is a layer
    from collections import OrderedDict

    from torch import nn

    from trainlab.diagnostics import watch

    layers = [("fc1", nn.Linear(3, 4)), ("act", nn.ReLU()), ("fc2", nn.Linear(4, 2))]
    model = nn.Sequential(OrderedDict(layers))
    with watch(model, layers="fc1") as w:
        model(torch.randn(5, 3)).sum().backward()
    assert {r["layer"] for r in w.records()} == {"fc1"}


def test_train_refuses_an_out_folder_it_would_not_write(tmp_path):
    # train(out=X, write=False) trained in memory and ignored X without a word: a user looking
    # for the run folder found none
    import pytest

    from trainlab.errors import UserError
    from trainlab.train import train

    with pytest.raises(UserError, match="write=False"):
        train(copy.deepcopy(_SMALL), out=tmp_path / "run", write=False, progress=False)
    assert not (tmp_path / "run").exists()


def test_lr_sweep_takes_a_users_model_and_data_as_lr_find_does(tmp_path):
    # lr_sweep had no model=/dataset= (lr_find and train take them): a user's own module and
    # arrays could not be swept
    import json

    from torch import nn

    from trainlab.optim import lr_sweep
    from trainlab.pretrain import arrays_dataset

    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 5, generator=g)
    y = x[:, :3].argmax(1)  # learnable
    ds = arrays_dataset(x[:40].numpy(), y[:40].numpy(), x[40:].numpy(), y[40:].numpy())
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    cfg = {"train": {"batch_size": 20}}
    res = lr_sweep(cfg, [1e-4, 1e-1], model=model, dataset=ds, device="cpu", out=tmp_path / "s")
    assert len(res.train_loss) == 2 and res.train_loss[0] != res.train_loss[1]
    pop = json.loads((tmp_path / "s" / "population.json").read_text())
    assert pop["custom_model"] and pop["model_fingerprint"]["class"].endswith("Sequential")
    assert pop["custom_dataset"]["sizes"][2] == 20  # the user's 20 test rows
