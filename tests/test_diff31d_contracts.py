"""Review diff31d: regressions of from_models' new attribute/ordering comparison (864f997)."""

import warnings

import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population


# from_models now hashes plain tensor attributes (_settings' shown()). Hook-based
# torch.nn.utils.spectral_norm keeps the normalised weight as a plain tensor attribute
# `weight`, recomputed by its forward pre-hook from weight_orig/u/v each forward (Population
# itself excludes such hook-owned attributes in _tensor_attrs). Two models of one architecture
# from different seeds therefore differ in that attribute and are now refused ("differs from
# model 0 at '0' (... weight=tensor(float32, (3, 4), <hash>) ...)"), though they stacked and
# ran correctly before (each model's output equal to its plain model's). Expected: stacked,
# each slice reproducing its own model.
def test_from_models_accepts_spectral_norm_models_of_different_seeds():
    def make(seed):
        torch.manual_seed(seed)
        return nn.Sequential(nn.utils.spectral_norm(nn.Linear(4, 3)), nn.ReLU(), nn.Linear(3, 2))

    models = [make(0), make(1)]
    for m in models:
        m.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population.from_models(models)
        pop.eval()
        x = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(0))
        out = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(out[i], m(x[i]), atol=1e-5, rtol=1e-5)


class _Graph(nn.Module):
    def __init__(self, adj, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.adj = adj  # a fixed sparse adjacency kept as a plain attribute (GNN style)
        self.lin = nn.Linear(4, 2)

    def forward(self, x):
        return self.lin(self.adj @ x)


# shown() hashes a tensor attribute with v.detach().cpu().reshape(-1)...view(torch.uint8):
# reshape is not implemented for sparse tensors, so from_models dies with a raw
# "RuntimeError: reshape is not implemented for sparse tensors" for a model holding a sparse
# adjacency as a plain attribute; before 864f997 such models stacked and each slice matched
# its model. Expected: stacked (same adjacency, so same architecture), outputs per model.
def test_from_models_with_sparse_tensor_attribute_does_not_crash():
    adj = (torch.eye(5) * 2).to_sparse()
    models = [_Graph(adj, 0), _Graph(adj, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population.from_models(models)
        x = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(0))
        out = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(out[i], m(x[i]), atol=1e-6, rtol=1e-6)


class _TwoLayers(nn.Module):
    def __init__(self, swap):
        super().__init__()
        if swap:  # the same layers, registered in the other order
            self.b = nn.Linear(3, 2)
            self.a = nn.Linear(4, 3)
        else:
            self.a = nn.Linear(4, 3)
            self.b = nn.Linear(3, 2)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


# Two models whose architecture lists hold the same entries in another order (submodules
# registered in another order) compare unequal (list !=), but _first_difference, which matches
# entries by name, finds no difference and returns (None, None); from_models then evaluates
# `(b or a)[0]` and crashes with "TypeError: 'NoneType' object is not subscriptable".
# Expected: no traceback: the models are one architecture (same names, types, settings, shapes;
# load_member loads by key), so they stack; at worst a UserError naming the difference.
def test_from_models_registration_order_is_no_typeerror():
    models = [_TwoLayers(False), _TwoLayers(True)]
    try:
        pop = Population.from_models(models)
    except UserError:
        return  # a clear refusal is acceptable too
    x = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(0))
    out = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(out[i], m(x[i]), atol=1e-6, rtol=1e-6)
