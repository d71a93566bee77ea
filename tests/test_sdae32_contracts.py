"""Review sdae32: StackedDenoisingAutoencoder (src/trainlab/pretrain/autoencoder.py)."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.pretrain import StackedDenoisingAutoencoder, progress


# A refit that fails with something other than a ValueError -- a CUDA out-of-memory error
# (torch.OutOfMemoryError is a RuntimeError) or Ctrl-C (KeyboardInterrupt) while the layers
# train -- leaves the estimator inconsistent: `_check_input(reset=True)` records the NEW
# n_features_in_ before training, `features_kept_on_error` only rolls it back on ValueError,
# and `layers_` keeps the OLD weights (they are set only at the end). Afterwards
# transform() refuses the data the model was fitted on ("X has 6 features, but ... is
# expecting 4") and transform() of the new data dies in a raw numpy matmul error. The
# estimator must stay as the last successful fit left it (as DBN does, which sets
# n_features_in_ only after every layer trained): n_features_in_ == 6 and transform of the
# old data still gives the old codes. The failure is injected through the progress hook
# that every pass calls (what a bar's Ctrl-C or an OOM in the pass would do).
@pytest.mark.parametrize("exc", [RuntimeError("CUDA out of memory"), KeyboardInterrupt()])
def test_interrupted_refit_keeps_the_fitted_model_usable(exc):
    rng = np.random.RandomState(0)
    x6, x4 = rng.rand(30, 6), rng.rand(30, 4)
    est = StackedDenoisingAutoencoder([3], n_iter=2, random_state=0).fit(x6)
    codes = est.transform(x6)

    def fail() -> None:
        raise exc

    token = progress._ON_PASS.set(fail)
    try:
        with pytest.raises(type(exc)):
            est.fit(x4)
    finally:
        progress._ON_PASS.reset(token)
    assert est.n_features_in_ == 6
    np.testing.assert_allclose(est.transform(x6), codes)
