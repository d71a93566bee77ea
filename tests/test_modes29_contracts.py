"""The loop-mode warning names the real reason a model runs one after another."""

import pytest
import torch.nn as nn

from trainlab.population import Population


class _Tagger(nn.Module):
    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


# vmap batches an Embedding with padding_idx; the loop runs it because vmap's backward would
# give the padding rows of models 2..K gradients. "cannot batch" sent users to the wrong cause.
def test_padding_idx_warning_names_the_padding_rows():
    with pytest.warns(UserWarning, match="padding rows") as rec:
        Population(_Tagger(nn.Embedding(10, 4, padding_idx=0)), k=2)
    assert not any("cannot batch" in str(w.message) for w in rec)


def test_recurrent_layer_warning_still_says_vmap_cannot_batch_it():
    with pytest.warns(UserWarning, match="cannot batch the model's GRU"):
        Population(_Tagger(nn.GRU(3, 4)), k=2)
