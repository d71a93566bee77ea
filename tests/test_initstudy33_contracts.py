"""Review of the `init` study (initstudy33): findings confirmed by running code."""

from __future__ import annotations

import html as html_mod
import json
import re

from trainlab.data import load as load_data
from trainlab.studies import init_study


def _tiny_cells(quick: bool):
    # one small cell (digits, as every quick-mode cell is): the study's own code path, fast
    return [{"data": "digits", "depth": 1, "act": "relu", "schemes": ["zeros", "He"], "epochs": 1}]


# The symmetry table's caption in report.html says the output spread is measured "on 512 test
# inputs", but run() measures on ds.x_test[:512], and digits (the only dataset of quick mode,
# half of the full study) has 359 test samples, so the output Δ column is computed on 359
# inputs. The report must state the number of inputs actually used (359 for a digits cell).
def test_symmetry_caption_states_the_number_of_test_inputs_used(tmp_path, monkeypatch):
    monkeypatch.setattr(init_study, "_cells", _tiny_cells)
    out = init_study.run(tmp_path / "study", quick=True, seeds=1, device="cpu")
    n_test = len(load_data("digits", preprocess="standardize").x_test)
    assert n_test == 359
    html = html_mod.unescape((out / "report.html").read_text())
    m = re.search(r"output Δ: the same for the units' outputs on ([^;.]*?) test inputs", html)
    assert m is not None, "caption of the symmetry table not found"
    stated = [int(s) for s in re.findall(r"\d+", m.group(1))]
    assert n_test in stated, f"caption says {m.group(1)!r} test inputs, the study used {n_test}"
    # results.json agrees with what was measured (sanity: the cell is a digits cell)
    res = json.loads((out / "results.json").read_text())
    assert res["cells"][0]["data"] == "digits"
