"""Review diff32d: defects found in the commits 5f561c0..HEAD."""

from __future__ import annotations

import yaml

import trainlab
from trainlab import train as train_mod


def _tiny(scheme: dict) -> dict:
    return {
        "name": "tiny",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [8]},
        "init": scheme,
        "optim": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 1, "batch_size": 500},
        "population": {"seeds": [0]},
    }


# fc29aa3 (init: negative_slope with a nonlinearity other than leaky_relu is refused) breaks
# every he_normal/he_uniform run's own config.yaml: config.yaml records every init default
# (README, Configs), so a plain `init: {scheme: he_normal}` run writes `nonlinearity: relu,
# negative_slope: 0.01` (the function's defaults), and _check_options now refuses exactly that
# pair. `trainlab resume` (after raising train.epochs, as README allows) and re-running the
# run's config.yaml then fail with "negative_slope applies to nonlinearity 'leaky_relu' only"
# (examples/mnist1d_cnn.yaml and lr_sweep_sgd.yaml runs included). The default negative_slope
# that the run itself wrote is not a user's choice: the resume must go on.
def test_resume_of_a_he_normal_run_with_its_own_config_yaml(tmp_path):
    out = tmp_path / "run"
    trainlab.train(_tiny({"scheme": "he_normal"}), out=out, device="cpu", progress=False)
    cfg_path = out / "config.yaml"
    raw = yaml.safe_load(cfg_path.read_text())
    assert raw["init"].get("nonlinearity") == "relu"  # as the run recorded its defaults
    raw["train"]["epochs"] = 2  # README: train.epochs may be raised to train a run further
    cfg_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    result = train_mod.resume(out, device="cpu", progress=False)
    assert result.summary["epochs"] == 2
