"""The studies' noise test: Student's t with Welch's degrees of freedom."""

import math

import pytest

from trainlab.studies import evidence


def test_t_quantiles_are_students():
    assert evidence.t_critical(1) == pytest.approx(12.706, abs=1e-3)
    assert evidence.t_critical(2) == pytest.approx(4.303, abs=1e-3)
    assert evidence.t_critical(1e9) == pytest.approx(1.960, abs=1e-3)


def test_welch_se_and_dof():
    se, dof = evidence.welch([(1.0, 4), (2.0, 4)])
    assert se == pytest.approx(math.sqrt(1 / 4 + 4 / 4))
    # Welch-Satterthwaite: (0.25 + 1)^2 / (0.25^2/3 + 1^2/3)
    assert dof == pytest.approx(1.25**2 / ((0.0625 + 1.0) / 3))
    assert evidence.welch([(1.0, 1), (2.0, 4)]) == (0.0, 0.0)  # one seed: no noise estimate


def test_judge_needs_more_than_two_standard_errors_with_few_seeds():
    se, dof = evidence.welch([(0.1, 2), (0.1, 2)])  # two seeds per cell: dof 2, t = 4.30
    assert evidence.judge(3 * se, se, dof) == evidence.INCONCLUSIVE  # 2-SE rule would say yes
    assert evidence.judge(5 * se, se, dof) == evidence.CONFIRMED
    assert evidence.judge(-5 * se, se, dof) == evidence.CONTRADICTED
    assert evidence.judge(0.5, *evidence.welch([(0.1, 1), (0.1, 3)])) == evidence.UNTESTABLE
