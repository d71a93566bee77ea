"""Review of the public Population API (popapi35): defects found by running code."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population


class _InplaceOnInput(nn.Module):
    """A custom (vmap-mode) model whose forward starts with an in-place op on its input, as
    a plain module may (nn.ReLU(inplace=True), x.clamp_(...), x /= 255)."""

    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU(inplace=True)
        self.lin = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(self.act(x))


def _models(k: int) -> list[nn.Module]:
    out = []
    for i in range(k):
        torch.manual_seed(i)
        out.append(_InplaceOnInput())
    return out


# Population's docstring ("share one batch with pop(x.expand(K, *x.shape))") and the forward's
# own error message both tell the user to pass an expanded view. The stacked path copes (it
# makes in-place elementwise modules out-of-place), the trainer's evaluation clones for
# non-stacked modes (train.py), but Population._vmap_forward hands the expanded view straight
# to torch.vmap: after a first (ordinary) forward, pop(x.expand(K, ...)) raises torch's raw
# RuntimeError "more than one element of the written-to tensor refers to a single memory
# location". Each model alone runs fine on its batch, so the population must return the K
# per-model outputs (the same as on a contiguous copy of the input).
def test_vmap_population_accepts_the_expanded_input_its_docs_recommend() -> None:
    models = _models(3)
    pop = Population.from_models(models)
    assert pop.mode == "vmap"
    pop(torch.randn(3, 5, 4))  # an ordinary first forward: vmap works for this model
    torch.manual_seed(1)
    x = torch.randn(5, 4)
    want = torch.stack([m(x.clone()) for m in models])
    got = pop(x.expand(3, *x.shape))
    torch.testing.assert_close(got, want)


# The same cause, on a first forward: vmap's refusal of the caller's expanded view is taken
# for "an op torch.vmap refused" and the population switches to the loop mode for good (K
# times slower, with a warning that blames the model), although the model batches under vmap
# (an ordinary input runs in vmap mode). The mode must not depend on whether the first input
# happened to be an expanded view: it stays "vmap" and nothing is warned.
def test_expanded_first_input_does_not_send_population_to_loop_mode() -> None:
    pop = Population.from_models(_models(3))
    pop.eval()
    x = torch.randn(5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pop(x.expand(3, *x.shape))
    assert pop.mode == "vmap"


# seeds=5 (one integer where a sequence is expected) escapes as a raw TypeError
# "'int' object is not iterable" from list(seeds) in Population.__init__; ARCHITECTURE.md:
# user mistakes raise trainlab.errors.UserError with a message naming the problem (the code
# already does for seeds of the wrong type or count).
def test_population_seeds_given_as_one_int_is_a_user_error() -> None:
    with pytest.raises(UserError, match="seed"):
        Population(nn.Linear(4, 3), 2, seeds=5)


# load_member with a state whose values are not tensors (lists, numpy arrays: a state saved
# with .tolist() or read from an .npz) escapes as AttributeError "'list' object has no
# attribute 'shape'" / TypeError from copy_; torch's own load_state_dict names the key and
# the type. Either load the values (as tensors) or refuse with a UserError.
@pytest.mark.parametrize("convert", ["list", "numpy"])
def test_load_member_with_non_tensor_values_loads_or_is_a_user_error(convert: str) -> None:
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(4, 3))
    pop = Population(nn.Sequential(nn.Linear(4, 3)), 2)
    state = {
        n: (t.tolist() if convert == "list" else t.numpy()) for n, t in plain.state_dict().items()
    }
    try:
        pop.load_member(1, state)
    except UserError:
        return
    for n, t in plain.state_dict().items():
        assert torch.equal(pop.member_state(1)[n], t)
