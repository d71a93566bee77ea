"""The self-contained HTML report and the :class:`Report` builder that studies extend.

``report.html`` has no external assets: CSS is inline, every figure is a PNG embedded as a
``data:image/png;base64`` URI, and nothing needs JavaScript (the config and long tables fold
with ``<details>``). The same PNGs are also written to ``figures/``.

Study sections (figures, tables, text) are persisted in ``report_sections.json`` — figures by
file name in ``figures/`` — so that :func:`build_report` (and ``trainlab report DIR``) rebuilds
the same report later, with the standard sections refreshed from the run's files.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import UserError, reporting, run_resume_command, shell_path
from . import plots, tables
from .rundata import RunData, read_run

__all__ = ["Report", "build_report", "render_text", "SECTIONS_FILE", "REPORT_FILE"]

SECTIONS_FILE = "report_sections.json"
REPORT_FILE = "report.html"
FIGURES_DIR = "figures"
#: a table with more rows than this is folded in a <details> block.
FOLD_ROWS = 30
_SECTIONS_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_RESERVED = {"curves_loss", "curves_accuracy", "curves_dynamics"} | {
    f"diagnostics_{s}" for s in plots.DIAGNOSTIC_STATS
}

_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
max-width:1250px;margin:2em auto;padding:0 1.2em;color:#1d232a;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.8em}
.meta{color:#57606a;font-size:.9em}
.kv td,.kv th{padding:.15em 1.2em .15em 0}.kv th{color:#57606a;font-weight:normal;text-align:left}
table.data{border-collapse:collapse;font-size:.86em;margin:.6em 0}
table.data th,table.data td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left}
table.data th{background:#f6f8fa}table.data td.num{text-align:right;
font-variant-numeric:tabular-nums}
table.data tr:nth-child(even) td{background:#fbfcfd}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption,.caption{color:#57606a;font-size:.88em;margin-top:.3em}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.82em}
code{background:#f6f8fa;padding:0 .25em;border-radius:3px}
details>summary{cursor:pointer;color:#0969da;margin:.4em 0}
.banner{padding:.6em 1em;border-radius:6px;margin:1em 0}
.warn{background:#fff8c5;border:1px solid #d4a72c}.bad{background:#ffebe9;border:1px solid #cf222e}
.ok{background:#dafbe1;border:1px solid #2da44e}
"""


# -- text ------------------------------------------------------------------------------------------
def _em(m: re.Match[str]) -> str:
    """``*italic*``, unless it would cross a bold span's tag (``*a **b* c**``): left as text,
    so that the tags nest."""
    depth = 0  # the bold tags inside, left to right: balanced, never closing one opened outside
    for tag in re.findall(r"</?strong>", m.group(1)):
        depth += 1 if tag == "<strong>" else -1
        if depth < 0:
            return m[0]
    return f"<em>{m.group(1)}</em>" if depth == 0 else m[0]


def _inline(text: str) -> str:
    """Escape HTML, then `code` (or ``code``, as docstrings write it), **bold** and *italic*
    (code spans are left alone; an asterisk touching a word character on its outer side, as
    in ``2*3*4`` or ``x*y``, is a product, not emphasis)."""
    parts = re.split(r"(``.+?``|`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) > 2 and part.startswith("`") and part.endswith("`"):
            ticks = 2 if len(part) > 4 and part.startswith("``") and part.endswith("``") else 1
            out.append(f"<code>{html.escape(part[ticks:-ticks])}</code>")
            continue
        s = html.escape(part)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])", _em, s)
        out.append(s)
    return "".join(out)


def _index_as_columns(frame: Any) -> Any:
    """A DataFrame with its index levels as its first columns, but a level that is a column
    already, with the same values (``set_index("name", drop=False)``); a level whose name a
    column has with other values (``groupby("cls")["cls"].count()``) is renamed, not lost."""
    import pandas as pd  # (frame is a DataFrame: pandas is there)

    names = list(frame.index.names)
    taken = {str(c) for c in frame.columns}  # (headers are text: an index named 0, a column 0)
    new, keep = [], []
    for i, name in enumerate(names):
        values = frame.index.get_level_values(i)
        if name is not None and name in frame.columns:
            col = frame[name]
            if getattr(col, "ndim", 2) == 1 and values.equals(pd.Index(col)):  # (NaN equals NaN)
                new.append(name)
                continue
        label = str(name) if name is not None else ("index" if len(names) == 1 else f"level_{i}")
        while label in taken or label in new:
            label += " (index)"
        new.append(label)
        keep.append(i)
    if not keep:
        return frame
    frame = frame.copy()
    frame.index = frame.index.set_names(new)
    return frame.reset_index(level=keep)


def render_text(text: str) -> str:
    """Render simple markdown (or plain text) to HTML, escaping everything else.

    Supported: ``#``/``##``/``###`` headings (shown one level below the report's own headings),
    paragraphs separated by blank lines, ``-``/``*`` bullets and ``1.`` numbered lists (indented
    lines continue an item), ``**bold**``, ``*italic*`` and ```code```.
    """
    out: list[str] = []
    para: list[str] = []
    lst: str | None = None
    items: list[str] = []
    start = 1  # a numbered list's first number, as written (CommonMark: <ol start="N">)

    def flush_para() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    def close_list() -> None:
        nonlocal lst
        if lst:
            tag = f'ol start="{start}"' if lst == "ol" and start != 1 else lst
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{lst}>")
            items.clear()
            lst = None

    for line in str(text).splitlines():
        s = line.strip()
        if not s:
            flush_para()
            close_list()
            continue
        if m := re.match(r"^(#{1,4})\s+(.*)$", s):
            flush_para()
            close_list()
            level = min(len(m.group(1)) + 1, 6)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            continue
        bullet = re.match(r"^[-*+]\s+(.*)$", s)
        numbered = re.match(r"^(\d+)[.)]\s+(.*)$", s)
        if bullet or numbered:
            kind = "ul" if bullet else "ol"
            flush_para()
            if lst != kind:
                close_list()
                lst = kind
                start = int(numbered.group(1)) if numbered else 1
            items.append(bullet.group(1) if bullet else numbered.group(2))
            continue
        if lst and line[:1].isspace():  # continuation of a list item
            items[-1] += " " + s
            continue
        close_list()
        para.append(s)
    flush_para()
    close_list()
    return "\n".join(out)


# -- cells and tables ------------------------------------------------------------------------------
def _cell(x: Any) -> Any:
    """A JSON-safe table cell: numbers stay numbers (NaN/Inf as strings), the rest as text."""
    if hasattr(x, "item") and not isinstance(x, str | bytes):
        try:
            x = x.item()  # numpy / torch scalars
        except (ValueError, RuntimeError):
            return str(x)
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else tables.fmt(x)
    return str(x)


def _no_split_text(run: RunData) -> str:
    """The summary caption's note on a run without a test split (or without either held-out
    split), whose tables show validation (or training) numbers instead."""
    split = tables.shown_split(run)
    if split == "test":
        return ""
    custom = (run.population or {}).get("custom_dataset")
    if split == "val":
        why = (
            "the dataset given to train() has no test samples" if custom else "data.test_fraction 0"
        )
        return f" The run has no test split ({why}): validation numbers shown."
    why = (
        "the dataset given to train() has neither"
        if custom
        else "data.val_fraction and test_fraction 0"
    )
    return f" The run has no validation or test split ({why}): training numbers shown."


def _table_html(
    columns: Sequence[str] | None, rows: Sequence[Sequence[Any]], *, fold: bool = True
) -> str:
    head = ""
    if columns:
        head = (
            "<thead><tr>"
            + "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
            + "</tr></thead>"
        )
    body = []
    for row in rows:
        cells = []
        for x in row:
            is_num = isinstance(x, int | float) and not isinstance(x, bool)
            text = tables.fmt(x) if is_num or x is None else str(x)
            cls = ' class="num"' if is_num or _looks_numeric(text) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = f'<table class="data">{head}<tbody>{"".join(body)}</tbody></table>'
    if fold and len(rows) > FOLD_ROWS:
        return f"<details><summary>show all {len(rows)} rows</summary>{table}</details>"
    return table


def _looks_numeric(text: str) -> bool:
    return bool(re.match(r"^[-+]?(\d|\.\d)[\d.eE+\-]*( ± [\d.eE+\-]+)?$", text))


def _figure_html(
    path: Path, caption: str = "", made_by: str = "the study that made it", alt: str = ""
) -> str:
    """The figure as an embedded PNG; its alt text is ``alt``, else the caption, else the file
    name."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(
            f"the report needs {path}, which is missing; re-run {made_by}, or remove its "
            f"entry from {SECTIONS_FILE}"
        ) from None
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    alt = html.escape(alt or caption or path.stem, quote=True)
    cap = f"<figcaption>{_inline(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{uri}" alt="{alt}">{cap}</figure>'


# -- the Report builder ----------------------------------------------------------------------------
class Report:
    """A run's report with sections added by a study, rendered to ``report.html``.

    ``Report(run_dir)`` starts with no study sections (use :meth:`load` to continue the sections
    a previous ``write()`` persisted). Each ``add_*`` appends a section in order;
    :meth:`write` persists them to ``report_sections.json`` and renders the report: header,
    these sections, then (``include_standard=True``) the standard sections built from the run's
    files — curves, tables, NaN flags, diagnostics — wherever those files exist.

    Example::

        rep = Report(out, title="Initialization study")
        rep.add_text("## Expected\\nHe init trains a 30-layer ReLU net; Xavier stalls.")
        rep.add_figure("final_acc", fig, caption="final test accuracy per scheme")
        rep.add_table("Final accuracy", rows=[{"scheme": "he", "acc": 0.91}])
        rep.write()
    """

    def __init__(self, run_dir: str | Path, *, title: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise UserError(f"{self.run_dir} is a file, not a run directory; pass a folder")
        self.title = title
        self.sections: list[dict[str, Any]] = []

    @classmethod
    def load(cls, run_dir: str | Path) -> Report:
        """A Report holding the sections persisted in ``run_dir/report_sections.json`` (if any)."""
        rep = cls(run_dir)
        path = rep.run_dir / SECTIONS_FILE
        if path.exists():
            data = read_run(rep.run_dir).sections or {}
            rep.title = data.get("title")
            rep.sections = list(data.get("sections", []))
        return rep

    @property
    def figures_dir(self) -> Path:
        return self.run_dir / FIGURES_DIR

    # -- sections -------------------------------------------------------------------------------
    def add_figure(self, name: str, fig: Any, caption: str = "") -> Path:
        """Save ``fig`` (a matplotlib Figure, pyplot-made or not) as ``figures/<name>.png``,
        close it, and add it to the report; returns the PNG path."""
        name = str(name).removesuffix(".png")
        if not _NAME_RE.match(name):
            raise ValueError(
                f"figure name {name!r} must be letters, digits, '_', '-', '.' (e.g. 'final_acc')"
            )
        if name in _RESERVED:
            raise ValueError(f"figure name {name!r} is used by the standard report; choose another")
        if any(s.get("kind") == "figure" and s.get("file") == f"{name}.png" for s in self.sections):
            raise ValueError(f"figure name {name!r} was already added to this report")
        if not hasattr(fig, "savefig"):
            raise TypeError(f"add_figure needs a matplotlib Figure, got {type(fig).__name__}")
        path = plots.save_figure(fig, self.figures_dir / f"{name}.png")
        self.sections.append({"kind": "figure", "file": path.name, "caption": str(caption)})
        return path

    def add_table(
        self,
        title: str,
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]] | Any,  # (a DataFrame, array)
        columns: Sequence[str] | None = None,
        caption: str = "",
    ) -> None:
        """Add a table. ``rows`` are dicts (``columns`` default to their keys in first-seen order;
        a missing key is an empty cell) or lists (then ``columns``, if given, must match their
        length). A pandas DataFrame (its index as the first columns, unless it is the default
        0..N-1) or a 2-D numpy array also works. Floats are shown to 4 significant digits."""
        if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a pandas DataFrame
            index = getattr(rows, "index", None)  # labels in it (a groupby): its first columns
            if index is not None and (
                any(n is not None for n in index.names) or type(index).__name__ != "RangeIndex"
            ):
                rows = _index_as_columns(rows)
            if rows.columns.is_unique:
                rows = rows.to_dict("records")
            else:  # (to_dict keeps one column of each name; .values makes ints floats)
                if columns is not None:
                    raise UserError(
                        "add_table: a DataFrame with repeated column names "
                        f"({[str(c) for c in rows.columns]}) cannot be picked from by name; "
                        "select its columns first (frame.iloc[:, [...]])"
                    )
                columns = [str(c) for c in rows.columns]
                rows = [list(t) for t in rows.itertuples(index=False, name=None)]
        elif hasattr(rows, "tolist"):  # a numpy array
            rows = rows.tolist()
        rows = list(rows)
        if rows and all(isinstance(r, Mapping) for r in rows):
            cols = (
                list(columns)
                if columns is not None
                else list(dict.fromkeys(k for r in rows for k in r))
            )
            body = [[_cell(r.get(c)) for c in cols] for r in rows]
        elif all(isinstance(r, Sequence) and not isinstance(r, str | bytes) for r in rows):
            cols = list(columns) if columns is not None else None
            body = [[_cell(x) for x in r] for r in rows]
            if cols is not None:
                for i, r in enumerate(body):
                    if len(r) != len(cols):
                        raise ValueError(
                            f"table {title!r}: row {i} has {len(r)} cells but there are "
                            f"{len(cols)} columns"
                        )
        else:
            raise TypeError(f"table {title!r}: rows must be all dicts or all lists")
        self.sections.append(
            {
                "kind": "table",
                "title": str(title),
                "columns": [str(c) for c in cols] if cols is not None else None,
                "rows": body,
                "caption": str(caption),
            }
        )

    def add_text(self, text: str) -> None:
        """Add text: plain, or simple markdown (headings, paragraphs, bullets, **bold**);
        HTML in it is escaped, never interpreted."""
        self.sections.append({"kind": "text", "text": str(text)})

    def add_metrics(
        self, metrics: Mapping[str, Any], title: str = "Metrics", caption: str = ""
    ) -> None:
        """Add a two-column table ``name | value``; an :func:`~trainlab.report.aggregate` dict as
        value is shown as ``mean ± std`` with its 95% CI and n."""
        rows = []
        for k, v in metrics.items():
            if isinstance(v, Mapping) and {"mean", "n"} <= set(v):
                ci = v.get("ci95")
                text = tables.fmt_mean_std(dict(v))
                if ci is not None:
                    text += f" (95% CI ± {tables.fmt_fixed(ci)})"
                rows.append([str(k), f"{text}, n={v['n']}"])
            else:
                rows.append([str(k), _cell(v)])
        self.add_table(title, rows, columns=["metric", "value"], caption=caption)

    # -- output ---------------------------------------------------------------------------------
    def save_sections(self, include_standard: bool = True) -> Path:
        """Write ``report_sections.json`` atomically (what ``build_report`` rebuilds from)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / SECTIONS_FILE
        data = {
            "version": _SECTIONS_VERSION,
            "title": self.title,
            "include_standard": bool(include_standard),
            "sections": self.sections,
        }
        atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
        return path

    def write(self, include_standard: bool = True) -> Path:
        """Persist the sections and write ``report.html`` (+ figures); returns the HTML path.

        With ``include_standard=False`` only the header and these sections are rendered (for
        studies with no population training); the choice is persisted, so a rebuild keeps it.
        Once the sections are saved, ``trainlab report DIR`` renders them again: a Ctrl-C or a
        full disk while ``report.html`` renders is noted so (:func:`~trainlab.errors.reporting`).
        """
        self.save_sections(include_standard)
        with reporting(self.run_dir):
            return render_report(self.run_dir)


# -- rendering -------------------------------------------------------------------------------------
def _header(run: RunData, title: str | None) -> list[str]:
    out = [f"<h1>{html.escape(title or run.name)}</h1>"]
    out.append(f'<p class="meta">trainlab report · {html.escape(str(run.path.resolve()))}</p>')
    kv: list[tuple[str, str]] = []
    if title and title != run.name:
        kv.append(("run", run.name))
    if run.has_population:
        k = run.population.get("k", len(run.models))
        kv.append(("models (K)", str(k)))
        kv.append(("groups", str(len(run.groups()))))
    if run.device:
        kv.append(("device", run.device))
    cfg = run.config or {}
    pop = run.population or {}
    varied = {k for m in run.models for k in (m.get("overrides") or {})}  # "optim.lr", ...
    given = pop.get("custom_dataset")
    for sect in ("data", "model", "init", "optim"):
        d = cfg.get(sect)
        if sect == "data" and isinstance(given, dict):  # train(dataset=...): not config.data
            sizes = "/".join(str(n) for n in given.get("sizes", []))
            kv.append((sect, f"{given.get('name')} (given to train(); train/val/test {sizes})"))
        elif sect == "model" and pop.get("custom_model"):
            kv.append((sect, "a module given to train() (not config.model)"))
        elif (
            sect == "init"
            and isinstance(d, dict)
            and d.get("scheme") == "keep"
            and "init.scheme" not in varied
        ):
            kept = (  # keep sets nothing: no bias, whatever config.yaml records
                "the given module's weights and biases"
                if pop.get("custom_model")
                else "the model's default init, the same in every model"
            )
            kv.append((sect, f"keep ({kept})"))
        elif isinstance(d, dict) and d:
            kv.append((sect, _section_summary(d, {k[len(sect) + 1 :] for k in varied
                                                  if k.startswith(sect + ".")})))  # fmt: skip
    if run.has_population:
        curves = run.curves()
        done = max((len(v) for v in curves.values()), default=0)
        planned = run.planned_epochs
        kv.append(
            (
                "epochs",
                f"{done} of {planned}" if planned and not run.complete else str(planned or done),
            )
        )
    if kv:
        out.append(
            '<table class="kv">'
            + "".join(
                f'<tr><th scope="row">{html.escape(a)}</th><td>{html.escape(b)}</td></tr>'
                for a, b in kv
            )
            + "</table>"
        )
    if run.config_text is not None:
        out.append(
            "<details><summary>config.yaml (resolved)</summary>"
            f"<pre>{html.escape(run.config_text)}</pre></details>"
        )
    return out


def _verdict_columns(run: RunData) -> tuple[list[str], list[list[Any]]]:
    """The health verdict of a run's diagnostics as (columns, rows) for :func:`_table_html`."""
    from ..diagnostics.run import run_findings
    from ..diagnostics.verdict import verdict_rows

    # the models' results, not summary.json alone: a killed run's NaN stops count too
    rows = verdict_rows(
        run_findings(run.diagnostics, {"models": run.model_results()}, run.split_sizes, run.metrics)
    )
    cols = ["check", "status", "models", "layer", "detail"]
    return cols, [[r[c] for c in cols] for r in rows]


def _section_summary(section: dict[str, Any], varied: set[str] = frozenset()) -> str:
    """``"mlp, hidden=[256, 256], activation=relu, …"``: a config section's name and its first
    six options, lists included (an MLP's layer sizes); unset (``None``) options and nested
    sections (``data.options``) are left out. A key some model overrides (``varied``) reads
    ``per group``; an overridden name or scheme drops the base options (another scheme takes
    other ones)."""
    key = "name" if "name" in section else "scheme"
    if key in varied:
        return f"{key} per group (see the groups)"
    name = str(section.get("name") or section.get("scheme") or "")
    items = [
        f"{k}={'per group' if k in varied else v}"
        for k, v in section.items()
        if k not in ("name", "scheme") and v is not None and not isinstance(v, dict)
    ]
    return ", ".join(i for i in [name, *items[:6]] if i)


def _status_banner(run: RunData) -> str:
    if not run.has_population:
        return ""
    if run.complete:
        n_nan = sum(r["status"] == "nan" for r in run.model_results())
        if n_nan:
            return (
                f'<div class="banner warn">Run complete; {n_nan} model(s) stopped because the '
                "loss or gradient became NaN/Inf (see below).</div>"
            )
        return '<div class="banner ok">Run complete.</div>'
    done = max((len(v) for v in run.curves().values()), default=0)
    planned = run.planned_epochs
    of = f" of {planned}" if planned else ""
    return (
        '<div class="banner bad"><strong>Incomplete run:</strong> summary.json is missing, so the '
        f"run was stopped (or is still running) after {done}{of} epochs. Curves and tables show "
        "what metrics.jsonl holds; \u201cfinal\u201d values are the last epoch reached (for a "
        "model that early stopping stopped, the epoch it stopped at). "
        f"<code>{html.escape(run_resume_command(run.path, run.population))}</code> continues it"
        ".</div>"
    )


#: ``summary.json``'s ``kind`` of a ``trainlab pretrain`` run
PRETRAIN_KINDS = frozenset({"rbm", "dbn", "sdae"})


def _study_sections(run: RunData) -> list[str]:
    out = []
    fig_dir = run.path / FIGURES_DIR
    made_by = "the study that made it"
    if (run.summary or {}).get("kind") in PRETRAIN_KINDS:  # (its figures come from the fit)
        made_by = f"`trainlab pretrain {shell_path(run.path / 'config.yaml')}` into a new folder"
    for i, sec in enumerate((run.sections or {}).get("sections", [])):
        kind = sec.get("kind") if isinstance(sec, dict) else None
        if kind == "text":
            out.append(render_text(str(sec.get("text", ""))))
        elif kind == "figure":
            file = str(sec.get("file", ""))
            if not file.endswith(".png") or not _NAME_RE.match(file.removesuffix(".png")):
                raise UserError(
                    f"{run.path / SECTIONS_FILE}: section {i} names a bad figure file {file!r}; "
                    "fix or delete that entry"
                )
            out.append(_figure_html(fig_dir / file, str(sec.get("caption", "")), made_by))
        elif kind == "table":
            title = sec.get("title")
            if title:
                out.append(f"<h3>{html.escape(str(title))}</h3>")
            out.append(_table_html(sec.get("columns"), sec.get("rows") or []))
            if sec.get("caption"):
                out.append(f'<p class="caption">{_inline(str(sec["caption"]))}</p>')
        else:
            raise UserError(
                f"{run.path / SECTIONS_FILE}: section {i} has unknown kind {kind!r} "
                "(expected text, figure or table); fix or delete that entry"
            )
    return out


def _standard_sections(run: RunData) -> list[str]:
    out: list[str] = []
    if not run.has_population:
        return out
    fig_dir = run.path / FIGURES_DIR
    flags = tables.nan_flags(run)
    if flags:
        items = "<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in flags) + "</ul>"
        if len(flags) > FOLD_ROWS:  # a sweep into divergence: folded, as long tables are
            items = f"<details><summary>show all {len(flags)} models</summary>{items}</details>"
        out.append(f"<h2>Models stopped for NaN/Inf ({len(flags)})</h2>{items}")
    out.append("<h2>Training curves</h2>")
    if not run.metrics:
        out.append(
            "<p>No metrics yet: metrics.jsonl is empty or missing (the run stopped "
            "before its first epoch ended).</p>"
        )
    else:
        caption = (
            "One color per override group: thick line = mean over seeds, band = mean ± std "
            "(ddof=1, within the seeds' min..max), thin lines = individual seeds"
            f" (at most {plots.MAX_SEED_LINES} per group)"
            "; × = model stopped for NaN/Inf."
        )
        if not any(run.plot_curves().values()):
            out.append(
                "<p>No curves to plot: every model stopped for NaN/Inf before the end of its "
                "first epoch.</p>"
            )
        for metric, name in (("loss", "curves_loss"), ("acc", "curves_accuracy")):
            fig = plots.curve_figure(run, metric)
            if fig is not None:
                path = plots.save_figure(fig, fig_dir / f"{name}.png")
                what = "loss" if metric == "loss" else "accuracy"
                alt = f"Training, validation and test {what} vs epoch, by group"
                out.append(_figure_html(path, caption if metric == "loss" else "", alt=alt))
        fig = plots.dynamics_figure(run)
        if fig is not None:
            path = plots.save_figure(fig, fig_dir / "curves_dynamics.png")
            out.append(
                _figure_html(
                    path,
                    "Learning rate at the end of each epoch and the epoch's mean gradient norm "
                    "(before clipping), mean over seeds (band: ± std, within the seeds' range).",
                )
            )
    out.append("<h2>Summary by group</h2>")
    cols, rows = tables.group_table(run)
    out.append(_table_html(cols, rows))
    out.append(
        '<p class="caption">Final metrics over the seeds of each group: mean ± sample std '
        "(ddof=1); 95% CI ± is the half-width t<sub>0.975, n−1</sub>·std/√n (— for n = 1); "
        "n counts models with a finite final value (NaN/Inf-stopped models are left out)."
        + _no_split_text(run)
        + (
            ""
            if run.complete
            else " The run is incomplete: values are from the last epoch reached."
        )
        + "</p>"
    )
    out.append("<h2>Models</h2>")
    cols, rows = tables.model_table(run)
    out.append(_table_html(cols, rows))
    if run.diagnostics:
        out.append("<h2>Diagnostics</h2>")
        out.append(
            '<p class="caption">Per-layer statistics from diagnostics.jsonl vs training step, '
            "one panel per group, each line a layer (dark = first, light = last), mean over the "
            "group's seeds. Healthy nets keep activation std roughly constant across layers, few "
            "dead units, gradient norms of the first and last layer within a factor 100 of each "
            "other, and update / weight ratios near 1e-3.</p>"
        )
        out.append("<h3>Health verdict</h3>")
        out.append(_table_html(*_verdict_columns(run)))
        out.append(
            '<p class="caption">The checks of <code>trainlab diagnose</code> '
            "(<code>trainlab.diagnostics.verdict</code>, thresholds in its documentation) on the "
            "latest sampled step of each model; models: for how many the check fired; detail: "
            "the first such model (or model 0).</p>"
        )
        for stat in plots.DIAGNOSTIC_STATS:
            fig = plots.diagnostics_figure(run, stat)
            if fig is not None:
                path = plots.save_figure(fig, fig_dir / f"diagnostics_{stat}.png")
                alt = f"{plots.STAT_TITLES.get(stat, stat)} per layer vs training step, by group"
                out.append(_figure_html(path, alt=alt))
        cols, rows = tables.diagnostics_table(run)
        out.append("<h3>Per-layer statistics at the last recorded step</h3>")
        out.append(_table_html(cols, rows))
        out.append(
            '<p class="caption">Mean over the group\'s seeds; — where a statistic is not '
            "defined for the layer (e.g. dead fraction of a tanh layer).</p>"
        )
    return out


def build_report(run_dir: str | Path) -> Path:
    """Build ``run_dir/report.html`` (and ``figures/*.png``) from the run's files; returns its
    path (:func:`render_report`). A finished ``trainlab diagnose`` run's verdict and figures are
    made again from its ``diagnostics.jsonl`` first (one killed before its report, or whose
    figure was lost, is whole again)."""
    run = read_run(run_dir)  # (a damaged file: one line naming it)
    diagnose = (run.population or {}).get("command") == "diagnose"  # (is_diagnose_run)
    if diagnose and run.summary is not None:  # (torch is imported for these runs only)
        from ..diagnostics.run import finish_diagnose

        report = finish_diagnose(run.path, run.summary).report
        assert report is not None  # (report=True)
        return report
    return _render(run)


def render_report(run_dir: str | Path) -> Path:
    """Render ``run_dir/report.html`` (and ``figures/*.png``) from the run's files; returns its
    path.

    Reads ``config.yaml`` (if present), ``population.json``, ``metrics.jsonl``, ``summary.json``,
    ``diagnostics.jsonl`` (optional) and ``report_sections.json`` (optional, the sections a study
    added with :class:`Report`). A run killed midway (no ``summary.json``, partial metrics) is
    reported with what is there and marked incomplete. Raises
    :class:`~trainlab.errors.UserError` naming the file and the fix when the folder is not a
    run directory or a file in it is corrupt (a truncated *last* line of a JSONL file, which a
    kill leaves, is skipped silently; a corrupt line elsewhere is an error).
    """
    return _render(read_run(run_dir))


def _render(run: RunData) -> Path:
    """:func:`render_report` of a run already read (:func:`build_report` reads it once)."""
    from ..atomic import refuse_symlinks

    refuse_symlinks(run.path)  # figures/ through a link would be written outside the folder
    sections = run.sections or {}
    include_standard = bool(sections.get("include_standard", True))
    body = _header(run, sections.get("title"))
    if include_standard:
        body.append(_status_banner(run))
    body += _study_sections(run)
    if include_standard:
        body += _standard_sections(run)
    title = html.escape(sections.get("title") or run.name)
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>trainlab · {title}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body></html>\n"
    )
    path = run.path / REPORT_FILE
    # a folder name that is not UTF-8 (read with surrogate escapes) is shown escaped
    atomic_write_text(path, doc.encode("utf-8", "backslashreplace").decode("utf-8"))
    return path
