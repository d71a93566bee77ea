"""Review diagcnn32: diagnostics of convnet/resnet models."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.diagnostics.figures import layer_profile
from trainlab.models.resnet import ResNet


# The per-layer profile figure (figures/diag_profile.png of `trainlab diagnose`) has a fixed
# size of 10x3.2 inches whatever the number of layers, with one rotated x tick label per layer
# at fontsize 6. For a ResNet-20 (62 recorded layers: stem, 9 blocks of conv/bn/act x2, two
# shortcut conv+bn, out) the labels of each ~3-inch panel overlap and the figure cannot be read
# (which point is which layer is the figure's whole point). The labels of one panel must not
# overlap each other: the figure should grow with the layer count (or thin the labels).
def test_layer_profile_tick_labels_do_not_overlap_for_resnet20() -> None:
    torch.manual_seed(0)
    model = ResNet((1, 8, 8), 10, widths=(4, 8, 16), blocks=3)
    x, y = torch.randn(4, 1, 8, 8), torch.randint(0, 10, (4,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with watch(model, every=1) as w:
        for _ in range(1):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    records = w.records()
    assert len({r["layer"] for r in records}) >= 60
    fig = layer_profile(records)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        if len(labels) < 20:
            continue
        boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
        overlaps = sum(1 for a, b in zip(boxes, boxes[1:], strict=False) if b.x0 < a.x1 - 0.5)
        assert overlaps == 0, f"{overlaps} of {len(boxes)} x tick labels overlap their neighbour"
