"""docs29: docs/ARCHITECTURE.md and the public API docstrings, their examples run."""

import importlib

import trainlab.diagnostics as diagnostics


# diagnostics.write_jsonl's docstring says a NaN/Inf written as null is restored by
# ``read_records`` of :mod:`trainlab.report.jsonl`, but that module has no read_records (it has
# ``decode_record``; ``read_records`` lives in the non-public trainlab.diagnostics.run). The
# helper the docstring tells the reader to use must exist where it says (or be named by its
# full path, or the docstring should name ``decode_record``).
def test_write_jsonl_doc_names_an_existing_reader():
    doc = diagnostics.write_jsonl.__doc__
    jsonl = importlib.import_module("trainlab.report.jsonl")
    named_ok = (
        "``read_records``" not in doc
        or hasattr(jsonl, "read_records")
        or "trainlab.diagnostics.run.read_records" in doc
    )
    assert named_ok, doc
