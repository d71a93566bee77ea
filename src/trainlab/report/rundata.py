"""Read a run directory for the report, without torch: config, population, metrics, summary.

File formats are fixed in ``docs/ARCHITECTURE.md`` ("The run directory"). Every problem with a
file becomes a :class:`~trainlab.errors.UserError` that names the file and the fix, with one
exception chosen on purpose: a *truncated last line* of a JSONL file (what ``kill -9`` leaves in
the middle of an append) is dropped silently, because it is the normal state of a killed run. A
corrupt line anywhere else is an error.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError

__all__ = ["RunData", "read_run", "read_jsonl", "read_json", "group_label", "model_label"]

#: The group label of a model with no per-model overrides.
DEFAULT_GROUP = "default"  # the group of models without overrides (config.Member.group)


def read_json(path: Path, *, what: str = "") -> Any:
    """Parse a JSON file; a missing or corrupt file is a UserError naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UserError(f"{path} is missing{what}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path} cannot be read ({err}); check the file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(
            f"{path} is corrupt ({err.msg} at line {err.lineno}); "
            "restore it or re-run to write it again"
        ) from None


def split_sizes(population: dict[str, Any] | None) -> list[int] | None:
    """``[train, val, test]`` sample counts from a ``population.json`` object: the record of the
    data the run loaded (``data_fingerprint``) or was given (``custom_dataset``); None if it has
    neither (runs from before they were recorded)."""
    for key in ("data_fingerprint", "custom_dataset"):
        rec = (population or {}).get(key)
        sizes = rec.get("sizes") if isinstance(rec, dict) else None
        if isinstance(sizes, list) and len(sizes) == 3 and all(isinstance(n, int) for n in sizes):
            return sizes
    return None


def read_population(path: Path) -> dict[str, Any]:
    """``population.json``: an object whose ``models`` is a list of objects with an ``index``;
    anything else is a UserError naming the file."""
    pop = read_json(path)
    if not isinstance(pop, dict) or not isinstance(pop.get("models"), list):
        raise UserError(
            f"{path} is not a population file (needs {{'k': K, 'models': [...]}}); "
            "restore it or re-run the training"
        )
    _check_models(path, pop["models"])
    given = pop.get("custom_dataset")
    if isinstance(given, dict) and not (
        isinstance(given.get("sizes", []), list)
        and all(isinstance(n, int) for n in given.get("sizes", []))
    ):
        raise UserError(f"{path}: custom_dataset.sizes is not a list of integers; restore it")
    return pop


def _check_models(path: Path, models: list[Any]) -> None:
    """Every entry of a ``models`` list is an object with an integer ``index`` (and, where
    present, an object ``final`` and ``overrides``)."""
    for i, m in enumerate(models):
        if not isinstance(m, dict) or "index" not in m:
            raise UserError(f"{path}: models[{i}] lacks 'index'; restore the file")
        if isinstance(m["index"], bool) or not isinstance(m["index"], int):
            raise UserError(f"{path}: models[{i}].index is {m['index']!r}, not an integer")
        for key in ("final", "overrides"):
            if m.get(key) is not None and not isinstance(m[key], dict):
                raise UserError(f"{path}: models[{i}].{key} is not an object; restore the file")
        step = m.get("stopped_step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise UserError(f"{path}: models[{i}].stopped_step is {step!r}, not an integer")
        if m.get("status") is not None and not isinstance(m["status"], str):
            raise UserError(f"{path}: models[{i}].status is {m['status']!r}, not text")


def _check_sections(path: Path, sec: dict[str, Any]) -> None:
    """``title`` is text (or absent); a table's ``rows`` is a list of lists and its ``columns``
    a list (or absent)."""
    if sec.get("title") is not None and not isinstance(sec["title"], str):
        raise UserError(f"{path}: 'title' is {sec['title']!r}, not text; fix or delete it")
    for i, t in enumerate(sec["sections"]):
        if not isinstance(t, dict) or t.get("kind") != "table":
            continue
        rows, cols = t.get("rows") or [], t.get("columns")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise UserError(f"{path}: section {i}'s rows are not a list of lists; fix or delete it")
        if cols is not None and not isinstance(cols, list):
            raise UserError(f"{path}: section {i}'s columns are not a list; fix or delete it")


def read_jsonl(path: Path, *, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a JSONL file (``[]`` if it does not exist).

    A last line without its newline that does not parse is the half-written append of a killed
    run and is skipped silently; any other line that does not parse, or that is not an object
    with the ``required`` keys, raises a UserError naming the file and line.
    """
    if not path.exists():
        return []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path} cannot be read ({err}); check the file") from None
    lines = text.splitlines(keepends=True)
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1 and not line.endswith("\n"):
                break  # the partial last line of a killed run
            raise UserError(
                f"{path} line {i + 1} is corrupt (not JSON); delete that line or re-run the run"
            ) from None
        if not isinstance(row, dict):
            raise UserError(f"{path} line {i + 1} is not a JSON object; delete that line")
        missing = [k for k in required if k not in row]
        if missing:
            raise UserError(
                f"{path} line {i + 1} lacks {', '.join(missing)}; is this a trainlab run file?"
            )
        rows.append(row)
    return rows


def _cut_short(path: Path, data: RunData, summ: dict[str, Any]) -> bool:
    """Whether a finished run's ``metrics.jsonl`` lost its end: no row of the summary's last
    epoch, or a last line without its newline (a kill never leaves one once the run has
    finished: the summary is written after the last append)."""
    last = max((r["epoch"] for r in data.metrics if isinstance(r.get("epoch"), int)), default=0)
    if last < summ["epochs"]:
        return True
    with open(path / "metrics.jsonl", "rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) != b"\n"


def num(x: Any) -> float | None:
    """A finite float, or None (JSON null, NaN, Inf, a string that is not a number)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def format_overrides(overrides: dict[str, Any] | None) -> str:
    """``{"optim.lr": 0.1, "init.scheme": "he"}`` -> ``"optim.lr=0.1, init.scheme=he"``."""
    if not overrides:
        return ""
    return ", ".join(f"{k}={v}" for k, v in overrides.items())


def group_label(model: dict[str, Any]) -> str:
    """The model's override group (``population.json`` ``group``), or :data:`DEFAULT_GROUP`."""
    g = model.get("group")
    if g is None:
        g = format_overrides(model.get("overrides"))
    return str(g) if g else DEFAULT_GROUP


def model_label(model: dict[str, Any]) -> str:
    """``"model 3 (seed 3, optim.lr=10)"``."""
    parts = [f"seed {model.get('seed', '?')}"]
    ov = format_overrides(model.get("overrides"))
    if ov:
        parts.append(ov)
    return f"model {model.get('index', '?')} ({', '.join(parts)})"


@dataclass
class RunData:
    """Everything the report reads from a run directory (absent files are None / empty)."""

    path: Path
    config_text: str | None = None
    config: dict[str, Any] | None = None
    population: dict[str, Any] | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, Any] | None = None

    # -- derived --------------------------------------------------------------------------------
    @property
    def has_population(self) -> bool:
        return self.population is not None

    @property
    def complete(self) -> bool:
        """A population run is complete when ``summary.json`` was written."""
        return self.summary is not None

    @property
    def models(self) -> list[dict[str, Any]]:
        """Per-model records (index, seed, overrides, group), from population.json."""
        if self.population is None:
            return []
        return list(self.population.get("models", []))

    @property
    def name(self) -> str:
        for src in (self.summary, self.config):
            if src and src.get("name"):
                return str(src["name"])
        return self.path.resolve().name

    @property
    def planned_epochs(self) -> int | None:
        if self.summary and self.summary.get("epochs") is not None:
            return int(self.summary["epochs"])
        train = (self.config or {}).get("train") or {}
        e = train.get("epochs") if isinstance(train, dict) else None
        # (a hand-edited ``.inf`` / ``.nan`` plans nothing readable)
        ok = isinstance(e, int | float) and not isinstance(e, bool) and math.isfinite(e)
        return int(e) if ok else None

    @property
    def split_sizes(self) -> list[int] | None:
        """``[train, val, test]`` sample counts of the data the run trained on, from
        ``population.json`` (None for a run that recorded none)."""
        return split_sizes(self.population)

    @property
    def device(self) -> str | None:
        if self.summary and self.summary.get("device"):
            return str(self.summary["device"])
        return None

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        """Group label -> models, in order of first appearance in population.json."""
        out: dict[str, list[dict[str, Any]]] = {}
        for m in self.models:
            out.setdefault(group_label(m), []).append(m)
        return out

    def curves(self) -> dict[int, list[dict[str, Any]]]:
        """Model index -> its metrics rows sorted by epoch (duplicates from a resume: last wins)."""
        by_model: dict[int, dict[Any, dict[str, Any]]] = {}
        for row in self.metrics:
            by_model.setdefault(int(row["model"]), {})[row["epoch"]] = row
        return {k: [v[e] for e in sorted(v)] for k, v in by_model.items()}

    def plot_curves(self) -> dict[int, list[dict[str, Any]]]:
        """:meth:`curves` cut where each model stopped: the epochs that ended by ``stopped_step``
        (rows after a stop hold a frozen model's numbers, not training). A NaN/Inf model's
        ``stopped_step`` is the failing step's number, the number of steps done before it; an
        early-stopped model's is the step count at the end of its last epoch."""
        curves = self.curves()
        for r in self.model_results():
            step, rows = r.get("stopped_step"), curves.get(r["index"])
            if step is None or not rows or r["status"] not in ("nan", "early_stopped"):
                continue
            if r["status"] == "nan":  # up to its last finite epoch (a killed run's stopped_step
                bad = next((i for i, x in enumerate(rows) if _failed(x)), len(rows))
                rows = rows[:bad]  # is the failing epoch's own row)
            curves[r["index"]] = [x for x in rows if (num(x.get("step")) or 0) <= step]
        return curves

    def diagnostics_held(self) -> list[dict[str, Any]]:
        """``diagnostics`` with an early-stopped model held at its last own record for the
        steps its group's other models were sampled at after its stop (as the curves hold its
        final value), its ``update_ratio`` there None (a frozen model's 0 is not a measurement:
        averaged in, it halved a group's ratio). The trainer records no step of it after its
        stop; records an older run wrote there (its frozen weights on later batches) are
        replaced. A model stopped for NaN/Inf keeps its records, its ``update_ratio`` None from
        its failing step on."""
        results = self.model_results()
        stops = {
            r["index"]: r["stopped_step"]
            for r in results
            if r["status"] == "early_stopped" and num(r.get("stopped_step")) is not None
        }
        failed = {  # stopped for NaN/Inf: recorded on, frozen; its update ratio from its
            r["index"]: r["stopped_step"]  # failing step on (thrown away) is no measurement
            for r in results  # either (its NaN/Inf statistics stay shown)
            if r["status"] == "nan" and num(r.get("stopped_step")) is not None
        }
        for rec in self.diagnostics:  # (a killed run knows only the failing epoch's end step:
            m = int(rec.get("model", 0) or 0)  # its first non-finite record is earlier)
            grad = rec.get("grad_norm")
            bad_grad = isinstance(grad, float) and not math.isfinite(grad)
            if m in failed and (rec.get("nonfinite") or bad_grad):
                failed[m] = min(failed[m], int(num(rec.get("step")) or 0))
        # a NaN-stopped model's records end with the epoch it failed in, where its run alone
        # ends (the trainer cuts them so since 2026-12-01; an older run's frozen records after
        # it are dropped here: beside other models' they were averaged in as measurements)
        # (a finished run's stopped_step is the failing step: its epoch ends at the next row;
        # a killed run's is already that epoch's row)
        finished = {int(m["index"]) for m in (self.summary or {}).get("models", []) if "index" in m}
        ends: dict[int, int] = {}
        for r in results:
            m, at = r["index"], num(r.get("stopped_step"))
            if r["status"] != "nan" or at is None:
                continue
            ge = m not in finished or r.get("stopped_by") == "evaluation"  # (step `at` untaken)
            after = [
                int(row["step"])
                for row in self.metrics
                if row.get("model") == m and num(row.get("step")) is not None
                and (row["step"] >= at if ge else row["step"] > at)
            ]  # fmt: skip
            if after:
                ends[m] = min(after)

        def model(rec: dict[str, Any]) -> int:
            return int(rec.get("model", 0) or 0)

        def step(rec: dict[str, Any]) -> int:
            return int(num(rec.get("step")) or 0)

        if not stops and not failed:
            return self.diagnostics
        group = {r["index"]: r["group"] for r in results}
        own = [
            {**rec, "update_ratio": None} if step(rec) >= failed.get(model(rec), math.inf) else rec
            for rec in self.diagnostics
            if step(rec) < stops.get(model(rec), math.inf)
            and step(rec) < ends.get(model(rec), math.inf)
        ]
        last: dict[tuple[int, str], dict[str, Any]] = {}  # a stopped model's latest, per layer
        steps: dict[Any, set[int]] = {}  # group -> its models' own sampled steps
        for rec in own:
            key = (model(rec), str(rec.get("layer")))
            if key[0] in stops and (key not in last or step(rec) >= step(last[key])):
                last[key] = rec
            steps.setdefault(group.get(key[0]), set()).add(step(rec))
        held = [
            {**rec, "step": s, "update_ratio": None}
            for (m, _), rec in last.items()
            for s in sorted(steps.get(group.get(m), ()))
            if s > step(rec)
        ]
        return own + held

    def model_results(self) -> list[dict[str, Any]]:
        """Per model: index, seed, overrides, group, status, stopped_step, final (metrics dict).

        From ``summary.json`` when the run finished; otherwise from the last epoch in
        ``metrics.jsonl`` with status ``"incomplete"`` (``"nan"`` if its loss or gradient norm is
        already NaN/Inf, the trainer's rule, with ``stopped_step_bound`` True: its
        ``stopped_step`` is that epoch's last step, by which it stopped; ``"not started"`` if it
        has no metrics yet).
        """
        summ = {int(m["index"]): m for m in (self.summary or {}).get("models", []) if "index" in m}
        curves = self.curves()
        # the evaluated splits the run has: from the sizes population.json recorded, else (runs
        # from before they were) those with a finite loss in some row (an empty one's are null)
        sizes = split_sizes(self.population)
        splits = [
            k
            for j, k in ((1, "val_loss"), (2, "test_loss"))
            if (sizes[j] > 0 if sizes is not None else any(
                num(r.get(k)) is not None for rows in curves.values() for r in rows
            ))
        ]  # fmt: skip
        out = []
        models = self.models or [
            {"index": i, "seed": None, "overrides": {}, "group": ""} for i in sorted(curves)
        ]
        for m in models:
            idx = int(m.get("index", len(out)))
            rec = {
                "index": idx,
                "seed": m.get("seed"),
                "overrides": m.get("overrides") or {},
                "group": group_label(m),
            }
            if idx in summ:
                s = summ[idx]
                rec["status"] = s.get("status", "ok")
                rec["stopped_step"] = s.get("stopped_step")
                if s.get("stopped_by"):  # ("evaluation": step stopped_step never ran)
                    rec["stopped_by"] = s["stopped_by"]
                rec["final"] = dict(s.get("final") or {})
            else:
                rows = curves.get(idx, [])
                bad = next((r for r in rows if _failed(r) or _eval_failed(r, splits)), None)
                by_eval = bad is not None and not _failed(bad)  # (the trainer's evaluation stop:
                cut = (rows.index(bad) + by_eval) if bad is not None else len(rows)  # its row is
                good = rows[:cut]  # its final one, as the trainer keeps it)
                last = good[-1] if good else {}  # like the trainer: the last epoch before NaN
                # early stopping sees only the epochs before the failing one (the trainer
                # leaves a model it stops for NaN/Inf out of that epoch's early stopping)
                stop = self._early_stop(rows[: rows.index(bad)] if bad is not None else rows)
                if stop is not None:  # stopped before any failure: a frozen model's later
                    bad = None  # non-finite row does not relabel it (the trainer keeps it)
                if stop is not None:  # the trainer's rule replayed: its rows after are frozen
                    last = stop
                if not rows:
                    rec["status"] = "not started"
                elif bad is not None:
                    rec["status"] = "nan"
                elif stop is not None:
                    rec["status"] = "early_stopped"
                else:
                    rec["status"] = "incomplete"
                stopped = bad if bad is not None else stop
                rec["stopped_step"] = stopped.get("step") if stopped is not None else None
                if bad is not None and by_eval:
                    rec["stopped_by"] = "evaluation"
                elif bad is not None:  # the failing epoch's last step: the stop came by then
                    rec["stopped_step_bound"] = True  # (summary.json would name the step)
                rec["final"] = {
                    k: last.get(k)
                    for k in (
                        "train_loss",
                        "train_acc",
                        "val_loss",
                        "val_acc",
                        "test_loss",
                        "test_acc",
                    )
                }
                rec["epochs_done"] = len(rows)
            out.append(rec)
        return out

    def _early_stop(self, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        """A killed run's model: the metrics row of the epoch at which early stopping (the
        config's ``train.early_stopping_patience``, :mod:`trainlab.stopping`) stopped it, or
        None (no early stopping, or not stopped yet)."""
        from ..stopping import early_stopping_update

        train = (self.config or {}).get("train") or {}
        patience = train.get("early_stopping_patience") if isinstance(train, dict) else None
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
            return None
        metric = train.get("early_stopping_metric") or "val_loss"
        sign = 1.0 if metric == "val_loss" else -1.0
        best, bad = math.inf, 0
        for row in rows:
            value = num(row.get(metric))
            value = math.nan if value is None else sign * value
            best, bad, stop = early_stopping_update(best, bad, value, patience)
            if stop:
                return row
        return None


def _eval_failed(row: dict[str, Any], splits: list[str]) -> bool:
    """A metrics row whose training was finite but whose evaluation (of a split the run has;
    with neither a val nor a test split, the last epoch's ``train_eval_loss``) was not: the
    trainer stops that model after the epoch (an update that overflowed)."""
    if "train_eval_loss" in row:
        return num(row["train_eval_loss"]) is None
    return any(num(row.get(k)) is None for k in splits)


def _half_written(path: Path) -> bool:
    """Whether ``path`` exists, is not empty and does not end with a newline (the last append
    was cut short)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:  # (missing: nothing written; unreadable: read_jsonl says so)
        return False


def _failed(row: dict[str, Any]) -> bool:
    """A metrics row of a model the trainer stopped: its loss, or its gradient norm (where
    recorded), is NaN/Inf."""
    return num(row.get("train_loss")) is None or (
        "grad_norm" in row and num(row["grad_norm"]) is None
    )


def check_numbers(
    path: Path, rows: list[dict[str, Any]], keys: tuple[str, ...], optional: tuple[str, ...] = ()
) -> None:
    """``keys`` (and ``optional`` ones, where present) of every row are finite numbers."""
    for i, row in enumerate(rows):
        for k in (*keys, *(o for o in optional if o in row)):
            v = row[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or num(v) is None:
                raise UserError(
                    f"{path} record {i + 1} has {k}={v!r}, not a number; "
                    "is this a trainlab run file?"
                )


def read_run(run_dir: str | Path) -> RunData:
    """Read a run directory; raise a UserError if it is not one or a file in it is damaged.

    A directory is reportable when it holds ``population.json`` (a training run, finished or
    not) or ``report_sections.json`` (a study that wrote its own sections).
    """
    if not isinstance(run_dir, str | os.PathLike):
        raise UserError(f"run_dir must be a folder path, got {type(run_dir).__name__}")
    path = Path(run_dir)
    if path.exists() and not path.is_dir():  # (checkpoints/last.pt: the run folder above it)
        from ..runs import enclosing_folder

        marks = ("population.json", "report_sections.json")
        run = enclosing_folder(path, lambda d: any((d / m).is_file() for m in marks))
        fix = f"pass its run's folder ({run})" if run is not None else "pass a run's folder"
        raise UserError(f"not a run directory: {path} is a file; {fix}")
    if not path.is_dir():
        raise UserError(f"not a run directory: {path} (no such directory); pass a run's folder")
    pop_path = path / "population.json"
    sec_path = path / "report_sections.json"
    if not pop_path.exists() and not sec_path.exists():
        if (path / "cells").is_dir():  # a study writes its sections at its end
            raise UserError(
                f"{path} is a study that stopped before its end (its cells/ are there, its "
                "report_sections.json is not); run the study again to get its report"
            )
        raise UserError(
            f"not a run directory: {path} (no population.json or report_sections.json); pass "
            "the folder that `trainlab train`, `study` or `pretrain` wrote (a pretrain run "
            "killed before its report has none: run it again)"
        )
    data = RunData(path=path)

    cfg_path = path / "config.yaml"
    if cfg_path.exists():
        import yaml

        from ..config import load_yaml, read_yaml_text

        try:
            data.config_text = read_yaml_text(cfg_path)
            cfg = load_yaml(data.config_text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise UserError(
                f"{cfg_path} is corrupt ({type(err).__name__}); restore it from your source config"
            ) from None
        if cfg is not None and not isinstance(cfg, dict):  # (an empty file: no config shown)
            raise UserError(
                f"{cfg_path} is not a YAML mapping (it holds a {type(cfg).__name__}); restore it "
                "from your source config"
            )
        data.config = cfg

    if pop_path.exists():
        data.population = read_population(pop_path)

    data.metrics = read_jsonl(path / "metrics.jsonl", required=("model", "epoch"))
    check_numbers(path / "metrics.jsonl", data.metrics, ("model", "epoch"))

    summ_path = path / "summary.json"
    if summ_path.exists():
        summ = read_json(summ_path)
        if not isinstance(summ, dict):
            raise UserError(
                f"{summ_path} is not a JSON object; delete it to report the run as incomplete"
            )
        epochs = summ.get("epochs")
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int)):
            raise UserError(f"{summ_path}: 'epochs' is {epochs!r}, not an integer; delete the file")
        if data.population is not None and "models" in summ:  # a training run
            if not isinstance(summ["models"], list):
                raise UserError(f"{summ_path}: 'models' is not a list; delete the file")
            _check_models(summ_path, summ["models"])
            if not data.metrics and (summ.get("epochs") or 0) > 0:  # (a finished run)
                raise UserError(
                    f"{path / 'metrics.jsonl'} is missing or empty, but {summ_path} says the "
                    "run finished; restore the file (or delete summary.json to report the run "
                    "as incomplete)"
                )
            if data.metrics and (summ.get("epochs") or 0) > 0 and _cut_short(path, data, summ):
                raise UserError(  # (a finished run's last append came before summary.json)
                    f"{path / 'metrics.jsonl'} lacks the last epochs' rows or ends in a "
                    f"half-written line, but {summ_path} says the run finished: the file is "
                    "damaged; restore it (or delete summary.json to report the run as "
                    "incomplete)"
                )
        data.summary = summ

    from .jsonl import decode_record

    diag_path = path / "diagnostics.jsonl"
    if data.summary is not None and _half_written(diag_path):  # (appended before summary.json)
        raise UserError(
            f"{diag_path} ends in a half-written line, but {summ_path} says the run finished: "
            "the file is damaged; restore it (or delete summary.json to report the run as "
            "incomplete)"
        )
    rows = read_jsonl(diag_path, required=("layer", "step"))
    data.diagnostics = [decode_record(r) for r in rows]
    check_numbers(path / "diagnostics.jsonl", data.diagnostics, ("step",), ("model",))

    if sec_path.exists():
        sec = read_json(sec_path)
        if not isinstance(sec, dict) or not isinstance(sec.get("sections"), list):
            raise UserError(
                f"{sec_path} is not a report-sections file (needs {{'sections': [...]}}); "
                + (
                    "delete it (the report is rebuilt from the run's files)"
                    if data.population is not None
                    else "re-run the study or `trainlab pretrain` that made the folder"
                )
            )
        _check_sections(sec_path, sec)
        data.sections = sec
    return data
