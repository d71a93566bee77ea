"""A small residual network (He et al. 2016, "Deep Residual Learning", basic blocks) for
8x8 digits, 1-D MNIST-1D signals and 32x32 images.

Layout (CIFAR-style, Sec. 4.2 of the paper): a 3x3 stem conv, then stages of basic blocks
``conv-BN-act-conv-BN (+ shortcut) -> act``; every stage after the first halves the spatial size
(stride 2) while the smallest axis still has at least 4 positions (8x8 -> 8, 4, 2; 40 -> 40,
20, 10), and its first block's shortcut is a 1x1 conv +
BN (option B of the paper) whenever the shape changes, ``nn.Identity`` otherwise. Head:
``AdaptiveAvgPool -> Flatten -> Linear``. 1-D or 2-D follows ``input_shape`` as for ``convnet``.

The forward code uses only submodules and ``+``, so the population engine can replace each leaf
layer by its stacked twin.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import UserError
from .convnet import conv_dims
from .mlp import _positive_ints, check_dropout, check_shape, check_switch, make_activation

__all__ = ["ResNet", "BasicBlock"]


class BasicBlock(nn.Module):
    """``act(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x))`` with 3x3 (or 3) kernels.

    ``shortcut`` is ``nn.Identity`` when input and output shapes agree, otherwise a 1x1 conv
    with the block's stride followed by BN. With ``batch_norm=False`` the BN modules are
    ``nn.Identity``.
    """

    population_safe = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        stride: int = 1,
        dims: int = 2,
        activation: str = "relu",
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        if dims not in (1, 2):
            raise UserError(f"BasicBlock dims must be 1 or 2 (Conv1d or Conv2d), got {dims!r}")
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        bn = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d

        def norm(c: int) -> nn.Module:
            return bn(c) if batch_norm else nn.Identity()

        # no conv bias before BN: BN's shift makes it redundant
        self.conv1 = conv(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=not batch_norm
        )
        self.bn1 = norm(out_channels)
        self.act1 = make_activation(activation)
        self.conv2 = conv(out_channels, out_channels, 3, padding=1, bias=not batch_norm)
        self.bn2 = norm(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = nn.Sequential(
                OrderedDict(
                    conv=conv(in_channels, out_channels, 1, stride=stride, bias=not batch_norm),
                    bn=norm(out_channels),
                )
            )
        else:
            self.shortcut = nn.Identity()
        self.act2 = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C_in, *S) -> (B, C_out, *S / stride)
        h = self.act1(self.bn1(self.conv1(x)))
        return self.act2(self.bn2(self.conv2(h)) + self.shortcut(x))


class ResNet(nn.Sequential):
    """``stem -> stage1 .. stageN -> pool -> flatten -> [drop] -> out``.

    Args:
        input_shape: ``(C, L)`` (1-D) or ``(C, H, W)`` (2-D), without the batch axis.
        num_classes: number of outputs.
        widths: channels of each stage (the stem has ``widths[0]``); default ``(16, 32, 64)``
            as in the paper's CIFAR ResNets.
        blocks: basic blocks per stage, an int (same for all) or one per stage; ``1`` gives
            ResNet-8, ``3`` gives ResNet-20 (He et al. 2016, Table 6).
        activation: see :data:`trainlab.models.ACTIVATIONS`.
        batch_norm: BN after every conv (default True); False replaces them by ``nn.Identity``.
        dropout: drop probability before the final Linear (0: no dropout module).
    """

    population_safe = True

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        *,
        widths: Sequence[int] = (16, 32, 64),
        blocks: Sequence[int] | int = 1,
        activation: str = "relu",
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        input_shape, num_classes = check_shape(input_shape, num_classes)  # (built directly too)
        dims = conv_dims(input_shape, "resnet")
        ws = _positive_ints("widths", widths)
        if not ws:
            raise UserError("resnet needs at least one stage: widths=(16, 32, 64)")
        nb = _positive_ints("blocks", blocks)
        if len(nb) == 1:
            nb = nb * len(ws)
        if len(nb) != len(ws):
            raise UserError(
                f"blocks must be one int or one per stage ({len(ws)} widths), got {list(nb)}"
            )
        batch_norm = check_switch("batch_norm", batch_norm)
        p = check_dropout(dropout)
        make_activation(activation)
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        bn = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        pool = nn.AdaptiveAvgPool1d if dims == 1 else nn.AdaptiveAvgPool2d

        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = nn.Sequential(
            OrderedDict(
                conv=conv(input_shape[0], ws[0], 3, padding=1, bias=not batch_norm),
                bn=bn(ws[0]) if batch_norm else nn.Identity(),
                act=make_activation(activation),
            )
        )
        c, smallest = ws[0], min(input_shape[1:])
        for s, (w, n) in enumerate(zip(ws, nb, strict=True), start=1):
            stage: OrderedDict[str, nn.Module] = OrderedDict()
            for b in range(n):
                stride = 2 if (b == 0 and s > 1 and smallest >= 4) else 1
                if stride == 2:
                    smallest = (smallest + 1) // 2
                stage[f"block{b + 1}"] = BasicBlock(
                    c, w, stride=stride, dims=dims, activation=activation, batch_norm=batch_norm
                )
                c = w
            layers[f"stage{s}"] = nn.Sequential(stage)
        layers["pool"] = pool(1)  # (B, C, *S) -> (B, C, 1...)
        layers["flatten"] = nn.Flatten()  # -> (B, C)
        if p > 0:
            layers["drop"] = nn.Dropout(p)
        layers["out"] = nn.Linear(c, num_classes)
        super().__init__(layers)
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.widths = ws
