"""Review (resume21): `trainlab resume` on a study's folder says what it is."""

from __future__ import annotations

from trainlab.errors import UserError
from trainlab.runs import RunDir


def test_resume_of_a_study_folder_says_studies_do_not_resume(tmp_path):
    # `trainlab resume STUDY_DIR` said "not a run directory: s1 (no config.yaml)" of a folder
    # that `trainlab report` accepts; it should say that a study does not resume, and what to do
    (tmp_path / "results.json").write_text("{}\n")
    try:
        RunDir(tmp_path).require()
    except UserError as err:
        assert "study" in str(err) and "again" in str(err), err
    else:
        raise AssertionError("a study folder passed as a run directory")
