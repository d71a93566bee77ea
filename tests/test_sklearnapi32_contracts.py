"""Review sklearnapi32: scikit-learn compatibility of the pretrain estimators (tags)."""

import numpy as np
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_positive_only_tag_during_fit,
    check_transformer_preserve_dtypes,
)

from trainlab.pretrain import DBN, BernoulliRBM


# BernoulliRBM refuses negative input (it needs X in [0, 1]) but its __sklearn_tags__ leave
# input_tags.positive_only=False. scikit-learn's tag contract (sklearn/utils/_tags.py: "If the
# estimator requires positive values, the positive_only tag must reflect it") and its check
# check_positive_only_tag_during_fit then fail; tests/test_rbm.py lists that check among the
# "generic data outside [0, 1]" expected failures, but it fails because of the missing tag.
# Expected: the tag is True and a negative X is refused with scikit-learn's wording
# ("Negative values in data passed to ..."), so the check passes.
def test_bernoulli_rbm_declares_positive_only_and_passes_the_tag_check():
    est = BernoulliRBM(n_components=3, n_iter=2, random_state=0)
    assert get_tags(est).input_tags.positive_only is True
    check_positive_only_tag_during_fit("BernoulliRBM", est)


# The same for a DBN whose first layer is Bernoulli (visible="bernoulli", the default): it
# refuses negative input through its first BernoulliRBM, so its tag must say positive_only
# (a Gaussian first layer takes any real input: there the tag stays False).
def test_bernoulli_dbn_declares_positive_only_and_passes_the_tag_check():
    est = DBN([4, 3], n_iter=2, random_state=0)
    assert get_tags(est).input_tags.positive_only is True
    check_positive_only_tag_during_fit("DBN", est)
    assert get_tags(DBN([4], visible="gaussian")).input_tags.positive_only is False


# DBN.transform preserves float32 (each layer's transform does, and the RBMs declare
# preserves_dtype=["float64", "float32"]), but DBN's tags keep the default ["float64"], so
# scikit-learn (and check_transformer_preserve_dtypes) are told float32 input comes back
# float64. Expected: the DBN declares float32 too, and the check confirms it.
def test_dbn_preserves_dtype_tag_lists_float32():
    est = DBN([4, 3], n_iter=2, visible="gaussian", random_state=0)
    assert "float32" in get_tags(est).transformer_tags.preserves_dtype
    X = np.random.RandomState(0).rand(30, 5).astype(np.float32)
    assert DBN([4, 3], n_iter=1, random_state=0).fit(X).transform(X).dtype == np.float32
    check_transformer_preserve_dtypes("DBN", est)


# The SDAE refuses negative input as well (cross-entropy needs [0, 1]): the same tag contract.
def test_sdae_declares_positive_only_and_passes_the_tag_check():
    from trainlab.pretrain import StackedDenoisingAutoencoder

    est = StackedDenoisingAutoencoder([3], n_iter=1, random_state=0)
    assert get_tags(est).input_tags.positive_only is True
    check_positive_only_tag_during_fit("StackedDenoisingAutoencoder", est)
