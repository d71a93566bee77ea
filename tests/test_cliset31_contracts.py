"""Review (cliset31): ``--set`` overrides, ``--seeds`` and the config loader, end to end."""

from __future__ import annotations

from conftest import assert_user_error, config_file, run_cli

#: every model overrides init.scheme, so the base ``init`` section is never trained as written
VARIANTS = """
name: v
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population:
  seeds: [0]
  variants:
    - {init.scheme: he_normal}
    - {init.scheme: xavier_uniform}
"""


# An init option that NO scheme of the population takes (a typo: `stdd`, or `gainn` in the
# file) is silently accepted when every variant overrides init.scheme: resolve() drops the
# base init options each member's scheme does not take, so the typo is never checked, yet it
# is written to the run's config.yaml as if it had been used. Without variants the same
# `--set init.stdd=0.1` is "init scheme 'default' has no option 'stdd'" (exit 2); the README
# promises unknown keys are rejected, and resolve()'s docstring says "an unknown one is still
# an error". Expected: exit 2, one line naming the key, no run folder.
def test_init_typo_is_refused_when_every_variant_overrides_the_scheme(
    tmp_path, monkeypatch, capsys
):
    cfg = config_file(tmp_path, VARIANTS)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "init.stdd=0.1",
        "--device", "cpu", "--no-report", "--out", out,
    )  # fmt: skip
    assert_user_error(code, err, "stdd")
    assert not out.exists()


# `--seeds` beside a `--set` that gives the seeds is refused ("--seeds and --set
# population.seeds both give the seeds; give them one way", cli/app.py with_seeds), because one
# of them would be dropped. with_seeds compares only set_key() (the --set's own key), so the
# same seeds given inside a section value, `--set population={seeds: [4]}`, slip through and
# --seeds silently wins: the run trains seed 0, seed 4 is dropped. set_keys() (which lists
# the keys inside a section's value) would catch it. Expected: the same refusal, exit 2.
def test_seeds_and_population_section_with_seeds_are_refused(tmp_path, monkeypatch, capsys):
    cfg = config_file(tmp_path, VARIANTS)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "population={seeds: [4]}", "--seeds", "1",
        "--device", "cpu", "--no-report", "--out", out,
    )  # fmt: skip
    assert_user_error(code, err, "--seeds")
    assert not out.exists()


# The same hole with the base scheme itself misspelled: no model trains `he_normall`, so it
# was never looked up. Options of the base scheme (not trained) or of some model's scheme are
# not typos and still train.
def test_base_init_scheme_typo_refused_and_valid_options_kept(tmp_path, monkeypatch, capsys):
    bad = config_file(tmp_path, VARIANTS.replace("model:", "init: {scheme: he_normall}\nmodel:"))
    code, _, err = run_cli(
        monkeypatch, capsys, "train", bad, "--device", "cpu", "--no-report", "--out", tmp_path / "a"
    )
    assert_user_error(code, err, "he_normall")
    assert not (tmp_path / "a").exists()
    for extra in ("init: {scheme: normal, std: 0.05}", "init: {mode: fan_out}"):
        ok = config_file(tmp_path, VARIANTS.replace("model:", f"{extra}\nmodel:"))
        out = tmp_path / f"ok{len(extra)}"
        code, _, err = run_cli(
            monkeypatch, capsys, "train", ok, "--device", "cpu", "--no-report", "--out", out
        )
        assert code == 0, err
