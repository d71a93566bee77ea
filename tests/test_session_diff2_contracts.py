"""Review of the changes since 971d6ed: cases the old code handled that the new code breaks,
and edges of the new code (pretrain's clean-up on failure, --set's typed text, text grid
values made numbers, the Ctrl-C note kept for the CLI)."""

from __future__ import annotations

import gc
import json
import warnings

import pytest
import torch

from conftest import Killed, small_config


# ---------------------------------------------------------------- pretrain's clean-up on failure
@pytest.mark.parametrize(
    "exc",
    [KeyboardInterrupt, lambda: OSError(28, "No space left on device")],
    ids=["ctrl-c", "disk-full"],
)
def test_a_pretrain_that_finished_training_keeps_its_weights_when_the_report_fails(
    tmp_path, monkeypatch, exc
):
    """``_discarded_unless_done`` (pretrain/run.py) now removes the run folder on *any*
    exception or Ctrl-C inside its block, and the block reaches to the very end: the report's
    ``write()`` runs after ``model.npz`` (the trained weights) and ``summary.json`` (the final
    numbers) are already on disk. A Ctrl-C while the HTML report renders, or a disk that fills
    up writing its figures, deletes a run whose training finished and whose weights were saved
    (the old code removed the folder on a UserError only). A run that is done must keep what
    it wrote: the weights are what a user pre-trained for, possibly for hours."""
    import trainlab.report
    from trainlab.pretrain.run import PretrainConfig, run_pretrain

    seen: list[str] = []

    def failing_write(*args, **kwargs):
        seen.extend(sorted(p.name for p in (tmp_path / "run").iterdir()))
        raise exc()

    # the report's rendering, whichever way the run calls it
    monkeypatch.setattr(trainlab.report.Report, "write", failing_write)
    monkeypatch.setattr(trainlab.report, "build_report", failing_write)
    cfg = PretrainConfig.model_validate(
        {"model": {"n_components": 4}, "train": {"n_iter": 1, "batch_size": 50}, "seeds": [0]}
    )
    with pytest.raises((KeyboardInterrupt, OSError)):
        run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    assert {"model.npz", "summary.json"} <= set(seen), seen  # training had finished
    assert (tmp_path / "run" / "model.npz").is_file(), (
        "the finished run's model.npz was deleted because its report failed"
    )


# ---------------------------------------------------------------- --set: values parse as YAML
@pytest.mark.parametrize(
    "item, key, want",
    [
        ("name='2026-11-29'", "name", "2026-11-29"),
        ('name="sweep 2"', "name", "sweep 2"),
        ("data.name='digits'", "data.name", "digits"),
    ],
)
def test_set_with_a_yaml_quoted_string_is_that_string(item, key, want):
    """README: "`--set a.b=value` overrides any key (values parse as YAML ...)". Quoting a
    value in YAML is how a user keeps text as text (``--set "name='2026-11-29'"``: bare, YAML
    reads a date), and the old code gave ``2026-11-29``. Since ``_set_value`` hands string
    fields "the text as typed", the quotes become part of the value: the run folder is named
    ``'2026-11-29'`` with literal quote characters, and ``data.name='digits'`` is an unknown
    data set. Scripts written for the documented YAML parsing silently change behaviour."""
    from trainlab.config import ConfigError, load_config

    try:
        cfg = load_config(None, [item])
    except ConfigError as err:
        pytest.fail(f"--set {item} was refused: {err}")
    section, _, field = key.rpartition(".")
    got = getattr(getattr(cfg, section) if section else cfg, field)
    assert got == want, f"--set {item} gave {got!r}, not {want!r}"


# ---------------------------------------------------------------- text grid values and resume
def test_a_run_trained_before_text_grid_values_became_numbers_still_resumes(tmp_path, monkeypatch):
    """Commit 1662784 makes a grid value given as text for a number field (``optim.lr: "1e-3"``,
    as ``yaml.safe_load`` reads it) the number itself. A run trained before that change wrote
    the text everywhere: its ``config.yaml`` lists ``'1e-3'``, its checkpoint's config and its
    ``population.json`` overrides too (the models trained at lr 0.001, pydantic coerced the
    text). Resuming such a run (killed mid-way, then trainlab upgraded) now reads config.yaml's
    grid as ``[0.001, 0.01]``, compares it with the checkpoint's ``['1e-3', '1e-2']`` and
    refuses: "config.yaml changed since the checkpoint ... restore these keys", though nobody
    edited anything and there is nothing to restore. resume() already accepts earlier
    versions' checkpoints (no ``config``, no fingerprint); a run must not become unresumable
    because its recorded text now normalises to the same numbers."""
    from trainlab.runs import RunDir
    from trainlab.train import resume, train

    orig = RunDir.save_checkpoint

    def save(self, state):
        orig(self, state)
        raise Killed

    monkeypatch.setattr(RunDir, "save_checkpoint", save)
    cfg = small_config(
        train={"epochs": 2, "batch_size": 64},
        population={"seeds": [0], "grid": {"optim.lr": [0.001, 0.01]}},
    )
    run = tmp_path / "run"
    with pytest.raises(Killed):
        train(cfg, out=run, device="cpu", progress=False)
    monkeypatch.setattr(RunDir, "save_checkpoint", orig)

    # what trainlab wrote before 1662784 for `grid: {optim.lr: ["1e-3", "1e-2"]}`
    text = {0.001: "1e-3", 0.01: "1e-2"}
    yaml_text = (run / "config.yaml").read_text()
    assert "    - 0.001\n" in yaml_text and "    - 0.01\n" in yaml_text, yaml_text
    yaml_text = yaml_text.replace("    - 0.001\n", "    - '1e-3'\n")
    (run / "config.yaml").write_text(yaml_text.replace("    - 0.01\n", "    - '1e-2'\n"))
    pop = json.loads((run / "population.json").read_text())
    for m in pop["models"]:
        m["overrides"] = {"optim.lr": text[m["overrides"]["optim.lr"]]}
    (run / "population.json").write_text(json.dumps(pop))
    ckpt = run / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=True)
    trained = json.loads(state["config"])
    trained["population"]["grid"]["optim.lr"] = ["1e-3", "1e-2"]
    state["config"] = json.dumps(trained)
    torch.save(state, ckpt)

    from trainlab.errors import UserError

    try:
        result = resume(run, device="cpu", progress=False)
    except UserError as err:
        pytest.fail(f"an unedited pre-upgrade run was refused: {err}")
    assert result.summary["epochs"] == 2


# ---------------------------------------------------------------- Ctrl-C note and memory
def test_an_interrupted_train_does_not_keep_its_population_alive(tmp_path, monkeypatch):
    """``errors.on_interrupt`` (new) stores the KeyboardInterrupt itself in the module global
    ``_last_interrupt`` so the CLI can print its note; only the CLI's ``main()`` ever clears
    it. The exception's traceback holds every frame of ``Trainer.fit``, hence the trainer,
    its population (all K models' weights), optimizer state and the data set (on the GPU in a
    real run). A notebook user who stops ``trainlab.train.train(...)`` with Ctrl-C, catches
    nothing and moves on can never get that memory back: it stays referenced by trainlab
    until the process ends (a CUDA run then meets out-of-memory on the next attempt)."""
    from trainlab.runs import RunDir
    from trainlab.train import train

    orig = RunDir.save_checkpoint

    def save(self, state):
        orig(self, state)
        raise KeyboardInterrupt  # Ctrl-C right after the first epoch's checkpoint

    monkeypatch.setattr(RunDir, "save_checkpoint", save)
    cfg = small_config(
        model={"name": "mlp", "hidden": [37]},  # a width nothing else here has
        train={"epochs": 3, "batch_size": 64},
        population={"seeds": [0, 1, 2]},
    )
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out=tmp_path / "run", device="cpu", progress=False)
    gc.collect()
    kept = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            try:
                if isinstance(obj, torch.Tensor) and tuple(obj.shape) == (3, 37, 64):
                    kept += 1
            except Exception:  # noqa: BLE001 - objects that refuse isinstance checks
                pass
    assert kept == 0, (
        f"{kept} tensors of the interrupted population (K=3 weights of the 37-wide layer) are "
        "still alive after the interrupt was handled"
    )


def test_text_numbers_for_an_open_sections_options_are_those_numbers():
    """The grid values of a scheme's or optimizer's own options (``init.std``, ``optim.eps``:
    keys of an open config section, not declared fields) given as text by a YAML 1.1 reader
    (``yaml.safe_load`` reads ``1e-8`` as the text ``"1e-8"``) are the numbers trainlab's own
    loader reads: ``["1e-2", 0.01]`` lists one value twice (each seed would count twice in the
    group's statistics) and is refused; ``["1e-8", "1e-6"]`` varies ``optim.eps`` over two
    numbers, recorded as numbers."""
    from trainlab.config import members, parse_config
    from trainlab.errors import ConfigError

    with pytest.raises(ConfigError, match="twice"):
        parse_config({"init": {"scheme": "normal"},
                      "population": {"grid": {"init.std": ["1e-2", 0.01]}}})  # fmt: skip
    cfg = parse_config({"population": {"grid": {"optim.eps": ["1e-8", "1e-6"]}}})
    assert [m.overrides["optim.eps"] for m in members(cfg)] == [1e-8, 1e-6]
