"""Review (stats31): how diverged seeds enter the studies' mean ± std cells."""

import math

from trainlab.studies.cells import diverged_note, pm_final


def _m(status, acc, loss):
    return {"status": status, "final": {"test_acc": acc, "test_loss": loss}}


# The optimizers study's "Best LR per optimizer" and schedules tables (and the preprocessing
# table) wrote test acc as pm(final_values(...)): final_values turns a diverged seed's accuracy
# into 0.0, which the mean then averaged in without a word, while the loss cell of the same
# row dropped that seed silently (its inf is not finite). A reader could not tell that a "0.567"
# was two good seeds and one 0. Right: the cell says how many seeds diverged and how they count.
def test_cell_says_how_diverged_seeds_count():
    mods = [_m("ok", 0.9, 0.3), _m("ok", 0.8, 0.5), _m("nan", None, math.nan)]
    acc = pm_final(mods, "test_acc")
    assert acc.startswith("0.567 ± ")
    assert acc.endswith("; 1 of 3 seeds diverged, counted as 0")
    loss = pm_final(mods, "test_loss")
    assert loss.startswith("0.400 ± ")
    assert loss.endswith("; 1 of 3 seeds diverged, left out")
    assert diverged_note(mods[:2], "test_acc") == ""
    assert pm_final(mods[:2], "test_acc") == "0.850 ± 0.071 (n=2, CI ± 0.635)"
