"""Review cifar35: CIFAR / MNIST file readers, preprocessing, fingerprints."""

from __future__ import annotations

import pickle

import numpy as np

from trainlab.data import load


def _cifar100(folder, n=40):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("train", "test"):
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"fine_labels": [i % 100 for i in range(n)],
            b"coarse_labels": [i % 20 for i in range(n)],
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh, protocol=2)


# readers._cifar_folder decides whether `path` is the parent of cifar-100-python by
# `(p / "test").exists()`, which is also true for a *folder* named `test`. A data root such as
# ~/data holding cifar-100-python/ beside an unrelated test/ folder is therefore not descended
# into, and load fails with "file not found: <root>/train", although read_cifar100's docstring
# and the README say the folder may be the parent of cifar-100-python. The marker should be a
# file (`is_file()`), as the check right after it requires; then the parent folder loads the
# same data as the batches folder itself.
def test_cifar100_parent_folder_with_a_test_subfolder_loads(tmp_path):
    _cifar100(tmp_path / "cifar-100-python")
    (tmp_path / "test").mkdir()  # an unrelated folder in the user's data root
    direct = load("cifar100", path=str(tmp_path / "cifar-100-python"))
    via_parent = load("cifar100", path=str(tmp_path))
    assert via_parent.num_classes == 100
    assert torch_equal(direct.x_train, via_parent.x_train)
    assert torch_equal(direct.x_test, via_parent.x_test)


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())
