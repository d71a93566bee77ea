"""Review of `trainlab pretrain`'s progress display (ptprog30)."""

from __future__ import annotations

from trainlab.pretrain.run import run_pretrain


# In a log file (stdout not a terminal) passes_shown promises "a line per pass" (README,
# progress.py docstring, "as ``train`` writes one per epoch"). Its bar.console.print lacks
# train's soft_wrap=True, so rich wraps the line at the console width (80 in a log): with a
# run name of 70+ characters every pass takes two lines, the name on one and "pass k/N (t s)"
# on the next, and a `grep "<name> pass"` over the log finds nothing. `trainlab train` with
# the same name keeps one whole line per epoch (train.py: "one whole line per epoch, however
# long"). Expected: exactly n_iter lines, each "<name> pass k/N (...)".
def test_log_line_per_pass_is_one_line_with_a_long_name(tmp_path, capsys, monkeypatch):
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):  # a log file, not a tty
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "80")  # a log's console width, whatever the test's terminal
    name = "digits-rbm-sweep-learning-rate-and-momentum-over-ten-seeds-with-pcd-k1-b100"
    sets = [f"name={name}", "train.n_iter=2", "model.n_components=8", "train.batch_size=400"]
    run_pretrain(None, out=tmp_path / "run", sets=sets, progress=True)
    out = capsys.readouterr().out.splitlines()
    lines = [ln for ln in out if ln.startswith(f"{name} pass")]
    assert [ln.split(" (")[0] for ln in lines] == [f"{name} pass {i}/2" for i in (1, 2)]
