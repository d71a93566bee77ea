"""audit6 review of issue 6 (unsupervised pre-training): defects found by running the code."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_digits

from trainlab.pretrain import StackedDenoisingAutoencoder


def test_sdae_fit_that_diverges_raises_instead_of_returning_nan_weights():
    # Wrong: an accepted learning_rate (1e36 < MAX_LEARNING_RATE) sends layer 2's weights to NaN
    # and fit returns normally, so transform/to_module give all-NaN; right: raise a clear
    # ValueError (UserError) as BernoulliRBM/GaussianBernoulliRBM/DBN do when training diverges.
    X = load_digits().data[:300] / 16.0
    sdae = StackedDenoisingAutoencoder([16, 8], n_iter=3, learning_rate=1e36, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        sdae.fit(X)
