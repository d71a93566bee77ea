"""docs34 review: README / docs statements checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

from trainlab.train import RESUME_MAY_CHANGE

README = Path(__file__).resolve().parents[1] / "README.md"


def _resume_edit_paragraph() -> str:
    text = " ".join(README.read_text(encoding="utf-8").split())  # (as rendered: reflow-proof)
    start = text.index("is refused, naming the keys")
    end = text.index("`name`)", start) + len("`name`)")
    return text[start:end]


# README "Run directory": "an edited `config.yaml` is refused, naming the keys, except for
# `train.epochs` (...) and settings that do not touch the models (`checkpoint_every`,
# `diagnose_every`, `eval_batch_size` ..., `cuda_graph`, `name`)". The code
# (trainlab.train.RESUME_MAY_CHANGE, used by resume's config check) also accepts an edited
# `train.schedule_epochs` (resume continues with the schedule spanning the new length, or
# notes that the finished epochs followed the old span); it is the key `trainlab diagnose`
# sets and that the README tells users to keep when they raise train.epochs and resume. So a
# user reading the list is told wrongly that editing it is refused. Every key resume accepts
# must be named in that list.
def test_readme_resume_edit_list_names_every_key_resume_accepts() -> None:
    para = _resume_edit_paragraph()
    named = set(re.findall(r"`([a-z_.]+)`", para))
    missing = [k for k in RESUME_MAY_CHANGE if k not in named and k.split(".")[-1] not in named]
    assert missing == [], f"README's resume paragraph does not name {missing}: {para!r}"
