"""Review of the shipped example configs (examples35)."""

from pathlib import Path

from trainlab.config import load_config, resolve
from trainlab.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# `--set init.std=0.5` on examples/init_schemes.yaml is accepted, written to config.yaml, and
# trains no model with it: the two `normal` variants set init.std themselves, and the zeros,
# xavier_uniform and he_normal variants take no std (resolve() drops it for them). The README
# refuses a --set that the population overrides for every model (`--set init.scheme=...` on
# this very example is refused "changes no model"), and `_sets_reach_a_model`'s docstring names
# exactly this case ("would be recorded in config.yaml and used by none"); only the literal
# "every variant sets the key" test misses it. Expected: a ConfigError naming init.std.
def test_set_init_std_on_init_schemes_example_that_no_model_uses_is_refused():
    cfg = None
    try:
        cfg = load_config(EXAMPLES / "init_schemes.yaml", ["init.std=0.5"])
    except ConfigError as e:
        assert "init.std" in str(e)
        return
    # accepted: show that indeed no model trains with std 0.5, then fail
    used = [resolve(cfg, v).init.model_dump().get("std") for v in cfg.population.variants]
    assert 0.5 in used, f"--set init.std=0.5 accepted but used by no model (per variant: {used})"
