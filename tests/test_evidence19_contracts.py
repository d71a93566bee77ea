"""Review evidence19: statistics behind the studies' claims (stats.aggregate, evidence, studies)."""

from trainlab.studies.preprocessing import less_sensitive


def test_less_sensitive_docstring_matches_the_absolute_log_ratio_test():
    # less_sensitive's docstring promises "Adam's ratio smaller than SGD's", tested on the signed
    # log r_SGD − log r_Adam, but the code tests |log r_SGD| − |log r_Adam| (ratio closer to 1):
    # here Adam's ratio 0.1 < SGD's 2.0 and the verdict is "contradicted". The docstring must say
    # what is tested (absolute log ratios / closer to 1).
    verdict, r_sgd, r_adam, _ = less_sensitive(
        ([2.0, 2.1, 1.9], [1.0, 1.05, 0.95]), ([0.1, 0.105, 0.095], [1.0, 1.05, 0.95])
    )
    assert r_adam < r_sgd and verdict == "contradicted"  # the code's (right) reading
    doc = less_sensitive.__doc__
    assert "log r_SGD − log r_Adam``" not in doc  # the signed test it does not run
    assert "|log" in doc or "closer to 1" in doc


def test_aggregate_leaves_out_an_int_beyond_float_range_as_it_leaves_out_inf():
    # aggregate([10**400, 1.0, 3.0]) raised OverflowError from float(); such a value is inf as a
    # float, which aggregate documents as left out
    from trainlab.report import aggregate

    got = aggregate([10**400, 1.0, 3.0])
    assert got["n"] == 2 and got["mean"] == 2.0
