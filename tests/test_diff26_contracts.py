"""Review of 767fb2a..12e3b4d (reviewer diff26)."""

from trainlab.config import Config, as_config, load_config


# config.as_config(Config, sets) now dumps the Config with exclude_unset=True. pydantic keeps
# "set" fields per model, so a section edited in place (cfg.train.epochs = 5) on a Config whose
# section came from its default factory (Config(), or load_config of a YAML without that
# section) is not "set" on the parent and the whole section is dropped: applying an unrelated
# --set (as diagnose(cfg, sets=...) does) silently resets epochs, the model's hidden layers,
# optimizer options and the population to defaults. The docstring promises the Config "with
# sets applied"; only the key that the --set names may change. Fix: dump in full and drop only
# optim.weight_decay when it is not in config.optim.model_fields_set (the intended case).
def test_as_config_with_sets_keeps_values_assigned_to_default_sections():
    cfg = Config()
    cfg.train.epochs = 5
    cfg.model.hidden = [8]
    cfg.population.seeds = [0, 1, 2]
    out = as_config(cfg, ["optim.lr=0.1"])
    assert out.optim.lr == 0.1
    assert out.train.epochs == 5
    assert out.model.kwargs("name") == {"hidden": [8]}
    assert out.population.seeds == [0, 1, 2]


# The same with a config loaded from (here: no) YAML and an optimizer option assigned in Python.
def test_as_config_with_sets_keeps_optimizer_options_assigned_in_python():
    cfg = load_config(None)
    cfg.optim.name = "sgd"
    cfg.optim.momentum = 0.9
    out = as_config(cfg, [("train.epochs", 2)])
    assert out.optim.name == "sgd"
    assert out.optim.kwargs("name").get("momentum") == 0.9
    assert out.train.epochs == 2
