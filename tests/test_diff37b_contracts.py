"""Review (diff37b) of the session's source changes since 2d53ff7: report.tables.fmt on odd
inputs (numpy/torch scalars and 1-element tensors, complex, numpy strings) and its docstring."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from trainlab.report.tables import fmt


def test_fmt_docstring_range_agrees_with_values_between_1e4_and_1e5():
    """report/tables.py:34-36 (and the comment at :55, "99995 rounds up"): the docstring says
    floats are scientific "outside [1e-3, 1e5) and where rounding reaches 1e5", but every float
    from 9999.5 up is scientific at the default 4 digits (``f"{x:.4g}"`` already switches at
    10**digits, and the new ``"e" in text`` test then forces the long form). Expected (the
    docstring): 20000.0 and 12345.0 in fixed notation, or a docstring that names the real
    threshold (10**digits, 1e4 at 4 digits); got: '2.000e+04' and '1.234e+04' under a
    docstring that promises fixed notation up to 1e5."""
    doc = " ".join((fmt.__doc__ or "").split())
    promises_fixed_below_1e5 = "[1e-3, 1e5)" in doc and not any(
        s in doc for s in ("1e4", "1e+04", "10**digits", "10 ** digits", "10^digits")
    )
    if promises_fixed_below_1e5:
        assert "e" not in fmt(20000.0), fmt(20000.0)
        assert "e" not in fmt(12345.0), fmt(12345.0)
    # the rule as now documented: min(1e5, 10**digits)
    assert fmt(9999.0) == "9999" and fmt(12345.0) == "1.234e+04"
    assert fmt(12345.0, digits=6) == "12345" and fmt(123456.0, digits=6) == "1.23456e+05"


def test_fmt_one_element_torch_bool_tensor_is_a_word():
    """report/tables.py:41-42: the new bool branch only takes 0-d tensors (``ndim == 0``), while
    a 1-element integer or float tensor is printed as its scalar (``fmt(torch.tensor([3]))`` is
    '3'); a 1-element bool tensor falls through to ``float()`` and prints as a number, against
    the docstring's "bools as True/False". Expected: 'True' / 'False' (as for
    ``torch.tensor(True)``); got: '1' / '0'."""
    assert fmt(torch.tensor([True])) == "True"
    assert fmt(torch.tensor([[False]])) == "False"


def test_fmt_numpy_complex_keeps_its_imaginary_part():
    """report/tables.py:45: ``float(np.complex128(1+2j))`` drops the imaginary part (numpy's
    ComplexWarning), so a complex cell is silently printed as its real part, where a Python
    complex (``float()`` raises TypeError) prints whole. Expected: str(1+2j) == '(1+2j)' (the
    value, as for a Python complex); got: '1'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fmt(np.complex128(1 + 2j))
    assert got == fmt(1 + 2j) == "(1+2j)"


def test_fmt_torch_complex_does_not_raise():
    """report/tables.py:45-47: ``float(torch.tensor(1+2j))`` raises RuntimeError ("value cannot
    be converted to type double without overflow"), which the ``except (TypeError,
    ValueError)`` does not catch, so a complex tensor cell is a traceback (``_is_integer``
    checks ``is_complex`` but is never reached). Expected: a text cell naming the value, as a
    Python complex gets ('(1+2j)'); got: RuntimeError."""
    got = fmt(torch.tensor(1 + 2j))
    assert "1" in got and "2" in got and "j" in got


def test_fmt_numpy_string_is_not_reparsed_as_a_number():
    """report/tables.py:43: ``hasattr(x, "item")`` lets a numpy string (``np.str_``, e.g. a label
    taken from a numpy array) into the number branch, where ``float('00123')`` succeeds, so the
    text is rewritten: '00123' prints as '123' and '12345' as '1.234e+04', where the same
    Python str prints as itself. Expected: str(x) ('00123', '12345'); got: '123', '1.234e+04'."""
    assert fmt(np.str_("00123")) == "00123"
    assert fmt(np.str_("12345")) == "12345"
