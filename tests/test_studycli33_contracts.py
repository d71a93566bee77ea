"""Review of `trainlab study` (studycli33): --seeds handling of the studies."""

from __future__ import annotations

import warnings

import trainlab.studies as studies
from trainlab.errors import UserError


class _Claimed(Exception):
    """Raised instead of claiming the folder: the study got past its argument checks."""


# optimizers-2d takes `--seeds N` and silently ignores it: `trainlab study optimizers-2d --quick
# --seeds 5` exits 0 and prints only the folder; results.json/report.html do not mention the
# 5 seeds (the 2-D problems are deterministic, so the run is the same for every N). Every other
# study honours N exactly (N models per cell). A count the user asked for must either be honoured
# or refused clearly (or at least named as ignored) before any work is done. Expected: a
# UserError (or a warning / printed line) that mentions seeds, before the folder is claimed.
def test_optimizers_2d_does_not_silently_ignore_seeds(tmp_path, monkeypatch, capsys):
    def claim(*args, **kwargs):
        raise _Claimed

    monkeypatch.setattr(studies, "claim_study_dir", claim)
    told = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            studies.run_study("optimizers-2d", tmp_path / "o", quick=True, seeds=5)
        except UserError as err:
            told = "seed" in str(err).lower()
        except _Claimed:
            pass
    out = capsys.readouterr()
    told = (
        told
        or any("seed" in str(w.message).lower() for w in caught)
        or "seed" in (out.out + out.err).lower()
    )
    assert told, "--seeds 5 for optimizers-2d was accepted without a word"
