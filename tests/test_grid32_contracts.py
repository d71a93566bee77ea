"""Review grid32: population definition (seeds, variants, grid, member order)."""

from __future__ import annotations

import re
from pathlib import Path

from trainlab.config import members, parse_config

README = Path(__file__).resolve().parents[1] / "README.md"


def _configs_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Configs")
    end = text.index("## Run directory", start)
    return text[start:end]


# The README's Configs section says a per-model schedule may be "a list of K values in the
# `schedule` section, one per model in member order", but nowhere defines member order: it only
# writes the population as "seeds × variants × grid" (which, read left to right, suggests the
# seed is the outermost loop). The code (config.members) puts variants outermost, then the grid
# points (itertools.product: the LAST grid axis varies fastest), and seeds innermost, so a user
# writing `schedule.gamma: [...]` for `seeds: [0, 1]` × `grid: {optim.lr: [a, b]}` cannot know
# that the list is (s0,a), (s1,a), (s0,b), (s1,b). The README must state the order it relies on.
def test_readme_defines_member_order_that_schedule_lists_rely_on():
    cfg = parse_config(
        {
            "population": {
                "seeds": [0, 1],
                "variants": [{"init.scheme": "normal"}, {"init.scheme": "he_normal"}],
                "grid": {"optim.lr": [0.1, 0.2], "optim.weight_decay": [0.0, 0.5]},
            }
        }
    )
    order = [
        (
            m.overrides["init.scheme"],
            m.overrides["optim.lr"],
            m.overrides["optim.weight_decay"],
            m.seed,
        )
        for m in members(cfg)
    ][:5]
    # (the code's order, which the docs should describe: variants, grid axes in order, seeds)
    assert order == [
        ("normal", 0.1, 0.0, 0),
        ("normal", 0.1, 0.0, 1),
        ("normal", 0.1, 0.5, 0),
        ("normal", 0.1, 0.5, 1),
        ("normal", 0.2, 0.0, 0),
    ]
    section = _configs_section()
    assert "member order" in section
    assert re.search(r"innermost|outermost|fastest|slowest", section, re.IGNORECASE), (
        "README's Configs section uses 'member order' for per-model schedule lists but never "
        "says which of seeds/variants/grid axes varies fastest"
    )
