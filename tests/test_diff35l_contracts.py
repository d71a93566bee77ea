"""Review diff35l: dead_fraction's unit axis after 917a74a (watch._units_before's count tier
skips a 'last'-layout entry whose output rank differs from the activation's)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


class _TokensWithTimeEmbedding(nn.Module):
    """A Conv1d tokenizer (B, C, L) -> (B, D, L), transposed to tokens (B, L, D), plus a
    time-embedding Linear's (B, D) output broadcast over the L tokens, then ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.temb = nn.Linear(3, 6)
        self.conv = nn.Conv1d(2, 6, 3, padding=1)
        self.act = nn.ReLU()
        with torch.no_grad():
            self.conv.bias[:2] = -100.0  # features 0 and 1 are <= 0 on every token
            self.temb.bias[:2] = -100.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x).transpose(1, 2)  # (B, L, D) = (4, 5, 6)
        return self.act(h + self.temb(torch.ones(x.shape[0], 3))[:, None, :])


# 917a74a regression. The ReLU's (B, L, D) = (4, 5, 6) output matches no layer's output shape,
# so _units_before's count tier decides. Before 917a74a the time-embedding Linear (6 "last"
# units == the tokens' last axis, 6) decided: units = the D features, 2 of 6 dead = 1/3, which
# is the hand value (features on the last axis; the Linear's (B, D) was broadcast with
# [:, None, :], so D stays the last axis). Now that entry is skipped because its rank (2) is
# not the ReLU's (3); the conv's channel count (6) is not y.shape[1] (L = 5), so the static
# guess decides, "channel" (the nearest module defined before the ReLU is the Conv1d), and
# dead_fraction is taken per token position (axis 1): 0.0. Fix: skip a rank-mismatched 'last'
# entry only when its count also equals y's channel axis (the U-Net (B, D)[:, :, None, None]
# case), or rank such entries after every same-rank/channel match instead of dropping them.
def test_dead_fraction_of_tokens_plus_broadcast_time_embedding_counts_features() -> None:
    torch.manual_seed(0)
    m = _TokensWithTimeEmbedding()
    seen: dict[str, torch.Tensor] = {}
    h = m.act.register_forward_hook(lambda mod, a, o: seen.__setitem__("y", o.detach()))
    x = torch.randn(4, 2, 5)
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    h.remove()
    y = seen["y"]
    hand = (y.amax(dim=(0, 1)) <= 0).float().mean().item()  # per feature (last axis)
    assert hand == pytest.approx(1 / 3)
    (rec,) = [r for r in recs if r["layer"] == "act"]
    assert rec["dead_fraction"] == pytest.approx(hand)


class _ActFirst(nn.Module):
    """FiLM-style shift of a (B, T, D) sequence by a Linear of a (B, c) condition, then ReLU; the
    ReLU is defined before the Linear (so the static guess is 'channel')."""

    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.cond = nn.Linear(3, 6)
        with torch.no_grad():
            self.cond.bias[:2] = -100.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.cond(torch.ones(x.shape[0], 3))[:, None, :])


# 917a74a regression, same cause: the only layer before the ReLU is the (B, D) Linear whose
# output is broadcast over T; at 79714e5 its count (6 == D) made the units the last axis: 2 of
# 6 features dead on every token = 1/3 (hand). Now it is skipped for its rank and the guess
# ('channel': no layout-known module is defined before the ReLU) takes axis 1 (the T = 5
# positions): 0.0.
def test_dead_fraction_after_broadcast_condition_linear_counts_features() -> None:
    torch.manual_seed(0)
    m = _ActFirst()
    x = torch.randn(4, 5, 6)
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    with torch.no_grad():
        y = m(x)
    hand = (y.amax(dim=(0, 1)) <= 0).float().mean().item()
    assert hand == pytest.approx(1 / 3)
    (rec,) = [r for r in recs if r["layer"] == "act"]
    assert rec["dead_fraction"] == pytest.approx(hand)


# watch() on a model with lazy parameters (nn.LazyLinear before its first forward) crashed at
# that first forward with torch's raw "uninitialized parameter" ValueError from the watch's
# own planning (p.numel()); the trainer and init.apply refuse such models with a one-line
# UserError naming the fix (run one forward first): watch must too, when it is created.
def test_watch_refuses_a_lazy_model_with_a_user_error() -> None:
    import pytest
    from torch import nn

    from trainlab.diagnostics import watch
    from trainlab.errors import UserError

    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU())
    with pytest.raises(UserError, match="forward pass"), watch(model, every=1):
        pass
