"""Review: trainlab.diagnostics.watch/verdict on a practitioner's own training loops.

Each test runs a model and loop that trainlab did not build, the way real code writes it, and
compares the records (or the verdict) with what plain torch says: hand-made hooks, the
parameters' ``.grad`` after ``backward()``, or the same network written without the
reparametrization.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm
from torch.nn.utils.rnn import pack_padded_sequence

from trainlab.diagnostics import verdict, watch


# -- 1. a sparse embedding (nn.Embedding(sparse=True)), trained with plain SGD --------------------
def test_a_sparse_embedding_gradient_does_not_crash_the_backward():
    """``watch()`` promises to work on any ``nn.Module`` with the training loop unchanged, and
    to record ``grad_norm`` = ‖θ.grad‖ of each layer's own parameters when the backward ends.
    ``nn.Embedding(..., sparse=True)`` is the standard way to train large vocabularies (with
    ``torch.optim.SGD`` or ``SparseAdam``): its ``.grad`` is a sparse COO tensor. The watch's
    end-of-backward callback passes it to ``torch._foreach_norm``, which has no sparse kernel,
    so the user's ``loss.backward()`` raises ``NotImplementedError`` inside the ``with
    watch(...)`` block: merely watching the model breaks a training loop that runs fine
    without it. The norm of a sparse gradient is that of its dense form."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(50, 8, sparse=True), nn.Flatten(), nn.Linear(6 * 8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randint(0, 50, (16, 6))
    y = torch.randint(0, 3, (16,))
    with watch(model, every=1) as w:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        expected = model[0].weight.grad.to_dense().norm().item()
        opt.step()
    rec = next(r for r in w.records() if r["layer"] == "0" and r["step"] == 0)
    assert rec["grad_norm"] == pytest.approx(expected, rel=1e-5)


# -- 2. weight_norm layers: the gradients verdict -------------------------------------------------
def _tanh_net(reparametrize: bool) -> nn.Sequential:
    """Six tanh layers with a small N(0, (0.4/√64)²) init (backprop signal shrinks with depth);
    optionally every Linear wrapped in ``parametrizations.weight_norm``, which at
    initialization computes exactly the same function (g = ‖v‖)."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(6):
        lin = nn.Linear(64, 64)
        nn.init.normal_(lin.weight, std=0.4 / 8)
        nn.init.zeros_(lin.bias)
        layers += [weight_norm(lin) if reparametrize else lin, nn.Tanh()]
    head = nn.Linear(64, 10)
    layers.append(weight_norm(head) if reparametrize else head)
    return nn.Sequential(*layers)


def test_weight_norm_layers_get_the_same_gradients_verdict_as_the_plain_network():
    """The ``gradients`` check is documented (verdict module docstring, README table) as
    ‖∂L/∂y‖ at the output of the first layer with parameters over that at the last one, in
    forward order: the back-propagated signal through the network's depth. Wrapping the
    Linears in ``torch.nn.utils.parametrizations.weight_norm`` (a standard practitioner
    choice) leaves the forward function and every ∂L/∂y unchanged at initialization, so one
    watched step must give the same verdict. But watch() treats each
    ``parametrizations.weight`` (the ``ParametrizationList`` that owns ``original0/1``) as a
    layer whose "output" is the *weight matrix*, computed inside the Linear's forward; it
    comes first in forward order, so the check divides ‖∂L/∂W₀‖ (a parameter gradient, about
    ‖x‖ times larger) by the last layer's ‖∂L/∂y‖. Here the plain network is correctly
    flagged with vanishing gradients (ratio 4.7e-3), and the identical weight-normed one is
    declared healthy ("'0.parametrizations.weight' / '12' = 0.021")."""
    torch.manual_seed(1)
    x = torch.rand(128, 64)
    y = torch.randint(0, 10, (128,))
    found = {}
    out_grads = {}
    for reparametrize in (False, True):
        model = _tanh_net(reparametrize)
        with watch(model, every=1) as w:
            nn.functional.cross_entropy(model(x), y).backward()
        recs = w.records()
        out_grads[reparametrize] = next(r for r in recs if r["layer"] == "0")["out_grad_norm"]
        found[reparametrize] = next(f for f in verdict(recs) if f.check == "gradients")
    # the same backprop signal at the first layer's output...
    assert out_grads[True] == pytest.approx(out_grads[False], rel=1e-4)
    plain, wn = found[False], found[True]
    assert plain.status == "warn" and "vanishing" in plain.message
    # ...so the same verdict, judged on layer outputs, not on a weight matrix
    assert wn.status == plain.status, wn.message
    assert wn.value == pytest.approx(plain.value, rel=1e-3), wn.message


# -- 3. an Embedding + LSTM text model fed packed sequences --------------------------------------
class _PackedTextModel(nn.Module):
    """The usual variable-length text classifier: embed, pack the padded batch, LSTM, classify
    the last hidden state."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 8, padding_idx=0)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.act = nn.ReLU()
        self.head = nn.Linear(16, 3)
        self.packed_out: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        out, (h, _c) = self.lstm(packed)
        self.packed_out = out.data.detach().clone()  # the LSTM's outputs at the real time steps
        return self.head(self.act(h[-1]))


def test_an_lstm_fed_packed_sequences_is_measured_and_placed_in_forward_order():
    """The module docstring promises, per sampled step and layer, ``act_mean``/``act_std`` of
    the layer's output, ``order`` = the layer's position in forward order and ``calls`` = how
    many times it ran; a recurrent layer's tuple output ``(out, (h, c))`` is looked into. An
    ``nn.LSTM`` given a ``PackedSequence`` (the standard way to batch variable-length text)
    returns ``(PackedSequence, (h, c))``; the hook takes ``output[0]``, a PackedSequence, sees
    no tensor and gives up before counting the call. The LSTM's record then says it never ran
    (``calls`` 0, ``order`` None, so it is listed after the classifier head, which ran after
    it) and has no activation statistics, although its values are right there in
    ``PackedSequence.data``."""
    torch.manual_seed(0)
    model = _PackedTextModel()
    x = torch.randint(1, 50, (8, 7))
    lengths = torch.tensor([7, 3, 5, 2, 7, 4, 6, 1])
    y = torch.randint(0, 3, (8,))
    with watch(model, every=1) as w:
        nn.functional.cross_entropy(model(x, lengths), y).backward()
    recs = {r["layer"]: r for r in w.records()}
    assert [r["layer"] for r in w.records()] == ["emb", "lstm", "act", "head"]
    lstm = recs["lstm"]
    assert lstm["calls"] == 1
    assert recs["emb"]["order"] < lstm["order"] < recs["act"]["order"]
    ref = model.packed_out
    assert lstm["act_mean"] == pytest.approx(ref.mean().item(), rel=1e-4, abs=1e-6)
    assert lstm["act_std"] == pytest.approx(ref.std(correction=0).item(), rel=1e-4)
    assert math.isfinite(lstm["act_std"])
