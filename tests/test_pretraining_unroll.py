"""Unrolled pre-trained stacks, their use as fine-tuning starting points, and the pretraining
study's per-seed stacks."""

import numpy as np
import torch

from trainlab.config import Config
from trainlab.pretrain import DBN, StackedDenoisingAutoencoder
from trainlab.pretrain.dbn import arrays_dataset
from trainlab.studies import pretraining
from trainlab.train import Trainer


def _unrolled_hiddens(module, x):
    h = torch.as_tensor(x)
    out = []
    for i in range(1, len([n for n, _ in module.named_children() if n.startswith("fc")]) + 1):
        h = torch.sigmoid(getattr(module, f"fc{i}")(h))
        out.append(h.detach().numpy())
    return out


def test_dbn_unroll_matches_every_layer_including_gaussian_with_learned_variance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6))
    dbn = DBN([5, 4], n_iter=2, visible="gaussian", random_state=0).fit(x)
    dbn.rbms_[0].log_variance_ = rng.normal(size=6)  # as a learned variance would be
    got = _unrolled_hiddens(dbn.to_module(3).double(), x)
    # layer 2's input must be layer 1's hidden probabilities under the new variance
    want = dbn.hidden_activations(x)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=1e-6)


def test_sdae_unroll_matches_transform():
    x = np.random.default_rng(1).random((40, 6))
    sdae = StackedDenoisingAutoencoder([5, 4], n_iter=2, random_state=0).fit(x)
    got = _unrolled_hiddens(sdae.to_module(3).double(), x)[-1]
    np.testing.assert_allclose(got, sdae.transform(x), atol=1e-10)


def test_keep_scheme_starts_every_population_member_from_the_unrolled_weights():
    rng = np.random.default_rng(2)
    x = rng.random((48, 6)).astype(np.float32)
    y = rng.integers(0, 3, 48)
    dbn = DBN([5], n_iter=2, random_state=0).fit(x)
    module = dbn.to_module(3, generator=torch.Generator().manual_seed(0))
    ds = arrays_dataset(x, y, x, y, num_classes=3)
    cfg = Config.model_validate(
        {
            "name": "review",
            "init": {"scheme": "keep"},
            "optim": {"name": "sgd", "lr": 0.1},
            "train": {"epochs": 1, "batch_size": 16},
            "population": {"seeds": [0, 1, 2]},
        }
    )
    trainer = Trainer(cfg, device="cpu", model=module, dataset=ds)
    ref = module.state_dict()
    for i in range(3):
        for k, v in trainer.pop.member_state(i).items():
            torch.testing.assert_close(v, ref[k], msg=f"member {i}: {k}")


def test_study_unrolls_each_seeds_own_stacks():
    x = np.random.default_rng(3).random((50, 6))
    cfg = {"dbn_iter": 1, "sdae_iter": 1}
    stacks = {s: pretraining._pretrained(x, 2, 4, s, cfg) for s in (0, 1)}
    for s in (0, 1):
        mods, labels, keys = pretraining._modules(stacks, s, "sigmoid", 2, 4, 6, 3)
        assert labels == ["random", "dbn", "sdae"]
        assert len(set(keys)) == 3  # each method its own init/data-order key
        for m, label in zip(mods, labels, strict=True):
            if label == "random":
                continue
            for i, (w, b) in enumerate(stacks[s][label], start=1):
                fc = getattr(m, f"fc{i}")
                np.testing.assert_allclose(fc.weight.detach().numpy(), w, rtol=1e-6)
                np.testing.assert_allclose(fc.bias.detach().numpy(), b, rtol=1e-6)
    assert not np.allclose(stacks[0]["dbn"][0][0], stacks[1]["dbn"][0][0])
