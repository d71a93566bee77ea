"""Mutation review (mut36v): trainlab.models (mlp, convnet, resnet) against hand-built torch.nn
references and the documented architecture."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab import models


def _n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# Kills mlp.py:31 LeakyReLU(0.01) -> LeakyReLU(0.1). The MLP docstring and README promise
# ``leaky_relu`` with slope 0.01 (torch's default): f(x) = x for x >= 0, 0.01 x below.
def test_mlp_leaky_relu_has_slope_0_01():
    m = models.create("mlp", input_shape=(3,), num_classes=2, hidden=(3,), activation="leaky_relu")
    x = torch.tensor([[-2.0, -0.5, 3.0]])
    assert torch.allclose(m.act1(x), torch.tensor([[-0.02, -0.005, 3.0]]))


# Kills mlp.py:171 `depth < 0` -> `depth <= 0`. The docstring: ``hidden = (width,) * depth``,
# ``depth`` hidden layers, and ``()`` gives logistic regression; the error says "int >= 0".
# depth=0 is therefore flatten -> Linear(D, C): D*C + C parameters (64*10 + 10 = 650).
def test_mlp_depth_zero_is_logistic_regression():
    m = models.create("mlp", input_shape=(1, 8, 8), num_classes=10, depth=0)
    linears = [mod for mod in m.modules() if isinstance(mod, nn.Linear)]
    assert len(linears) == 1 and tuple(linears[0].weight.shape) == (10, 64)
    assert _n_params(m) == 64 * 10 + 10


# Kills mlp.py:198 BatchNorm1d(w) -> BatchNorm1d(w, affine=False). Batch norm as in Ioffe &
# Szegedy (2015) has a learned scale gamma and shift beta per unit; the docstring relies on
# "BN's own shift" replacing the dropped Linear bias. Hand-built reference for
# input 64 -> hidden (32, 16) -> 10 with batch norm: Linear(64,32,no bias) BN(32)
# Linear(32,16,no bias) BN(16) Linear(16,10).
def test_mlp_batch_norm_matches_hand_built_reference():
    m = models.create("mlp", input_shape=(64,), num_classes=10, hidden=(32, 16), batch_norm=True)
    ref = nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 32, bias=False),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Linear(32, 16, bias=False),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Linear(16, 10),
    )
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in ref.parameters()]
    assert _n_params(m) == 64 * 32 + 2 * 32 + 32 * 16 + 2 * 16 + 16 * 10 + 10
    assert m.bn1.weight.requires_grad and m.bn1.bias.requires_grad
    # same weights -> same outputs (train mode: batch statistics; BN then activation)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    m.load_state_dict(dict(zip(m.state_dict().keys(), ref.state_dict().values(), strict=True)))
    x = torch.randn(8, 64, generator=g)
    m.train(), ref.train()
    assert torch.allclose(m(x), ref(x), atol=1e-5)


# Kills convnet.py:51 `c >= 8` -> `c >= 9`. 8x8 digits are one of trainlab's documented
# datasets ("small, for 8x8 digits"); saved as (N, 8, 8) without a channel axis, a square
# (C, L) = (8, 8) is exactly the image-without-channel case conv_dims warns about.
def test_convnet_square_8x8_input_warns_it_may_be_an_image():
    with pytest.warns(UserWarning, match=r"\(N, 1, 8, 8\)"):
        models.create("convnet", input_shape=(8, 8), num_classes=10)


# Kills convnet.py:60 `length <= 4` -> `length < 4`. conv_dims' docstring: "(C, L) with
# L <= 4 and L < C" (signals of 1-4 channels saved channels-last) warns: (50, 4) is a
# length-50 signal of 4 channels saved (N, L, C).
def test_convnet_channels_last_signal_with_4_channels_warns():
    with pytest.warns(UserWarning, match="only 4 positions"):
        models.create("convnet", input_shape=(50, 4), num_classes=3, channels=(8,))


# Kills convnet.py:172 `min(spatial) >= 2` -> `> 2`. Docstring: pooling with window and stride
# 2 after each block, "skipped when fewer than 2 positions remain": with exactly 2 positions
# it still pools. (1, 8) through 3 blocks: 8 -> 4 -> 2 -> 1, so the head is Linear(4 * 1, C);
# a 4th block at 1 position is not pooled.
def test_convnet_pools_a_length_2_axis_down_to_1():
    m = models.create("convnet", input_shape=(1, 8), num_classes=3, channels=(4, 4, 4, 4))
    assert m.out.in_features == 4 * 1
    assert [n for n, _ in m.named_children() if n.startswith("pool")] == ["pool1", "pool2", "pool3"]
    assert m(torch.randn(2, 1, 8)).shape == (2, 3)


# Kills convnet.py:177 `if p > 0` -> `if p >= 0`. Docstring: "dropout: drop probability before
# the final Linear (0: no dropout module)".
def test_convnet_default_has_no_dropout_module_and_given_p_is_used():
    m = models.create("convnet", input_shape=(1, 8, 8), num_classes=10)
    assert not any(isinstance(mod, nn.Dropout) for mod in m.modules())
    m = models.create("convnet", input_shape=(1, 8, 8), num_classes=10, dropout=0.3)
    drops = [mod for mod in m.modules() if isinstance(mod, nn.Dropout)]
    assert len(drops) == 1 and drops[0].p == 0.3
    names = [n for n, _ in m.named_children()]
    assert names[-3:] == ["flatten", "drop", "out"]


# Kills convnet.py:179 Linear(..., bias=bias) -> bias=True. Docstring: "bias: give conv and
# Linear layers a bias": bias=False leaves no bias anywhere. Count by hand for digits (1, 8, 8),
# channels (4, 6), kernel 3: conv 1*4*9 + conv 4*6*9, 8 -> 4 -> 2, head Linear(6*2*2, 10).
def test_convnet_bias_false_gives_the_linear_head_no_bias():
    m = models.create("convnet", input_shape=(1, 8, 8), num_classes=10, channels=(4, 6), bias=False)
    assert m.out.bias is None
    assert not any(n.endswith("bias") for n, _ in m.named_parameters())
    assert _n_params(m) == 1 * 4 * 9 + 4 * 6 * 9 + 6 * 2 * 2 * 10


# Independent reference for the documented default convnet on digits (1, 8, 8): 2 blocks
# (8 -> 4 -> 2) of conv3x3 'same' (32, 64 channels) -> ReLU -> MaxPool(2), flatten, Linear.
# Built by hand with torch.nn; the same weights must give the same logits. Also checks
# pool="avg" (AvgPool) and 1-D mnist1d (1, 40): 3 blocks 40 -> 20 -> 10 -> 5.
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_convnet_default_matches_hand_built_reference(pool):
    P2, P1 = (nn.MaxPool2d, nn.MaxPool1d) if pool == "max" else (nn.AvgPool2d, nn.AvgPool1d)
    cases = [
        (
            (1, 8, 8),
            nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1),
                nn.ReLU(),
                P2(2),
                nn.Conv2d(32, 64, 3, padding=1),
                nn.ReLU(),
                P2(2),
                nn.Flatten(),
                nn.Linear(64 * 2 * 2, 10),
            ),
        ),
        (
            (1, 40),
            nn.Sequential(
                nn.Conv1d(1, 32, 3, padding=1),
                nn.ReLU(),
                P1(2),
                nn.Conv1d(32, 64, 3, padding=1),
                nn.ReLU(),
                P1(2),
                nn.Conv1d(64, 128, 3, padding=1),
                nn.ReLU(),
                P1(2),
                nn.Flatten(),
                nn.Linear(128 * 5, 10),
            ),
        ),
    ]
    for shape, ref in cases:
        m = models.create("convnet", input_shape=shape, num_classes=10, pool=pool)
        assert [tuple(p.shape) for p in m.parameters()] == [
            tuple(p.shape) for p in ref.parameters()
        ]
        m.load_state_dict(dict(zip(m.state_dict().keys(), ref.state_dict().values(), strict=True)))
        x = torch.randn(3, *shape, generator=torch.Generator().manual_seed(1))
        assert torch.allclose(m(x), ref(x), atol=1e-5)


class _RefBlock(nn.Module):
    """He et al. (2016) basic block, option B shortcut, written independently of trainlab."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        h = torch.relu(self.b1(self.c1(x)))
        short = x if self.proj is None else self.proj(x)
        return torch.relu(self.b2(self.c2(h)) + short)


def _ref_resnet(cin, widths, strides, num_classes):
    layers = [
        nn.Conv2d(cin, widths[0], 3, padding=1, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(),
    ]
    c = widths[0]
    for w, s in zip(widths, strides, strict=True):
        layers.append(_RefBlock(c, w, s))
        c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


# Independent reference for the documented default resnet (ResNet-8: widths 16, 32, 64, one
# basic block per stage, BN, no conv bias before BN, 1x1 conv + BN projection where the shape
# changes, ReLU after the sum, global average pool, Linear with bias). Strides: the docstring's
# "8x8 -> 8, 4, 2" (stride 2 while the smallest axis has >= 4 positions); a 7x7 input gives
# 7 -> 4 -> 2 (conv k3 p1 s2: floor((7 + 2 - 3) / 2) + 1 = 4, then 2). Same weights, same
# logits, in train mode (batch statistics) and eval mode (running statistics).
@pytest.mark.parametrize("side", [8, 7])
def test_resnet_default_matches_hand_built_reference(side):
    m = models.create("resnet", input_shape=(1, side, side), num_classes=10)
    ref = _ref_resnet(1, (16, 32, 64), (1, 2, 2), 10)
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in ref.parameters()]
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    m.load_state_dict(dict(zip(m.state_dict().keys(), ref.state_dict().values(), strict=True)))
    seen = {}
    m.pool.register_forward_hook(lambda mod, inp, out: seen.__setitem__("s", inp[0].shape[-2:]))
    x = torch.randn(4, 1, side, side, generator=g)
    m.train(), ref.train()
    assert torch.allclose(m(x), ref(x), atol=1e-4)
    assert tuple(seen["s"]) == (2, 2)
    m.eval(), ref.eval()
    assert torch.allclose(m(x), ref(x), atol=1e-4)


# ResNet-20 (blocks=3, He et al. 2016 Table 6) parameter count, computed by hand for 3x32x32
# inputs, 10 classes, option-B projections: stem 3*16*9 + BN 32; stage1 6 convs 16*16*9 + 6 BN
# of 16; stage2 conv 16*32*9 + 5 convs 32*32*9 + 6 BN of 32 + proj 16*32 + BN 64; stage3 likewise
# with 32 -> 64; head 64*10 + 10.
def test_resnet20_parameter_count():
    m = models.create("resnet", input_shape=(3, 32, 32), num_classes=10, blocks=3)
    stem = 3 * 16 * 9 + 2 * 16
    s1 = 6 * 16 * 16 * 9 + 6 * 2 * 16
    s2 = 16 * 32 * 9 + 5 * 32 * 32 * 9 + 6 * 2 * 32 + 16 * 32 + 2 * 32
    s3 = 32 * 64 * 9 + 5 * 64 * 64 * 9 + 6 * 2 * 64 + 32 * 64 + 2 * 64
    head = 64 * 10 + 10
    assert _n_params(m) == stem + s1 + s2 + s3 + head  # 272,474: the paper's "0.27M"


# Kills resnet.py:67 `stride != 1 or in != out` -> `in != out`. The block's docstring: the
# shortcut is Identity only "when input and output shapes agree"; a stage that halves the
# spatial size with unchanged channels (widths 16, 16 on 8x8: 8 -> 4) needs the 1x1 stride-2
# projection, otherwise x (8x8) cannot be added to the block's 4x4 output.
def test_resnet_stride_2_with_equal_widths_gets_a_projection():
    m = models.create("resnet", input_shape=(1, 8, 8), num_classes=3, widths=(16, 16))
    sc = m.stage2.block1.shortcut
    assert isinstance(sc, nn.Sequential) and sc.conv.stride == (2, 2)
    assert sc.conv.kernel_size == (1, 1) and isinstance(sc.bn, nn.BatchNorm2d)
    assert isinstance(m.stage1.block1.shortcut, nn.Identity)
    assert m(torch.randn(2, 1, 8, 8)).shape == (2, 3)


# Kills resnet.py:70 shortcut conv `bias=not batch_norm` -> `bias=False` (and the same for the
# other convs). The model drops a conv's bias only because BN follows ("no conv bias before BN:
# BN's shift makes it redundant"); with batch_norm=False the BN modules are Identity, so every
# conv, the 1x1 projection included, keeps its bias, and no BatchNorm module remains.
def test_resnet_without_batch_norm_gives_every_conv_a_bias():
    m = models.create("resnet", input_shape=(1, 8, 8), num_classes=3, batch_norm=False)
    convs = [mod for mod in m.modules() if isinstance(mod, nn.Conv2d)]
    assert len(convs) == 1 + 3 * 2 + 2  # stem, 2 per block, 2 projections
    assert all(c.bias is not None for c in convs)
    assert not any(isinstance(mod, nn.BatchNorm2d) for mod in m.modules())
