"""The README's "See it yourself" examples: ``trainlab diagnose`` on
``examples/vanishing_tanh.yaml`` and ``examples/dying_relu.yaml`` finds what each file's comment
says it finds, in every model of its population, and the fix the comment offers (its
``Then --set ...`` line) reads ok."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trainlab.diagnostics.run import diagnose

EXAMPLES = Path(__file__).parents[1] / "examples"

#: example -> {check: the layer where every model's warning points}, as the comment says
SICK = {
    "vanishing_tanh": {"activations": None, "gradients": "fc1", "update_ratio": None},
    "dying_relu": {"dead_relu": "act1"},
}
#: example -> the overrides its comment's ``Then --set`` line offers as the fix
FIX = {"vanishing_tanh": ["init.std=0.0625"], "dying_relu": ["init.std=0.1"]}


def _fix(path: Path) -> list[str]:
    """The ``key=value`` overrides of the comment's ``# Then --set ...`` line."""
    line = next(ln for ln in path.read_text().splitlines() if ln.startswith("# Then --set"))
    return re.findall(r"--set (\S+?)(?:,|\s|$)", line)


def _run(name: str, tmp_path: Path, sets: list[str] | None = None):
    out = tmp_path / (name + ("-fixed" if sets else ""))
    return diagnose(EXAMPLES / f"{name}.yaml", out=out, sets=sets, progress=False, report=False)


@pytest.fixture(scope="module")
def sick(tmp_path_factory):
    """The diagnose result of each example as it stands, run once for this module."""
    done: dict[str, object] = {}

    def get(name: str):
        if name not in done:
            done[name] = _run(name, tmp_path_factory.mktemp(name))
        return done[name]

    return get


@pytest.mark.parametrize("name", sorted(SICK))
def test_a_sick_example_shows_its_sickness_in_every_model(name, sick):
    result = sick(name)
    models = {f.model for f in result.findings}
    assert models == set(range(5))  # the example's five seeds
    for check, layer in SICK[name].items():
        found = [f for f in result.findings if f.check == check]
        assert len(found) == 5 and all(f.status == "warn" for f in found), (check, found)
        if layer is not None:
            assert {f.layer for f in found} == {layer}
    unexpected = [
        f for f in result.findings if f.check not in SICK[name] and f.status != "ok"
    ]  # the comment names every warning the verdict gives
    assert not unexpected


@pytest.mark.parametrize("name", sorted(SICK))
def test_the_fix_a_sick_examples_comment_offers_reads_ok(name, tmp_path):
    sets = _fix(EXAMPLES / f"{name}.yaml")
    assert sets == FIX[name]  # (the line is read as a user would type it)
    result = _run(name, tmp_path, sets)
    assert result.findings and all(f.status == "ok" for f in result.findings), [
        (f.model, f.check, f.message) for f in result.findings if f.status != "ok"
    ]


def test_the_readmes_see_it_yourself_commands_name_real_studies_and_examples():
    text = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## See it yourself") : text.index("## From Python")]
    from trainlab.studies import list_studies

    studies = re.findall(r"`trainlab study (\S+) --quick`", section)
    assert studies and set(studies) <= {name for name, _ in list_studies()}
    examples = re.findall(r"`trainlab diagnose (examples/\S+\.yaml)`", section)
    assert sorted(Path(e).stem for e in examples) == sorted(SICK)
    assert all((EXAMPLES.parent / e).is_file() for e in examples)


def test_dying_relus_units_die_in_its_first_ten_steps_as_its_comment_says(sick):
    """'a few at step 0, most after the first ten steps': act1's dead fraction per model."""
    records = sick("dying_relu").records
    dead = {(r["model"], r["step"]): r["dead_fraction"] for r in records if r["layer"] == "act1"}
    for m in range(5):
        assert dead[m, 0] < 0.25 and dead[m, 10] > 0.5, (m, dead[m, 0], dead[m, 10])
