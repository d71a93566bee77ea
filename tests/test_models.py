"""trainlab.models: shapes, options, child names, population-safe forward code, errors."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.models import MLP, BasicBlock, ConvNet, ResNet, create, list_models

SHAPES = {"digits-flat": (64,), "digits": (1, 8, 8), "mnist1d": (1, 40), "cifar": (3, 32, 32)}


def test_list_models_names_the_three() -> None:
    names = dict(list_models())
    assert {"mlp", "convnet", "resnet"} <= set(names)
    assert all(names[n] for n in ("mlp", "convnet", "resnet"))


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_mlp_output_shape_for_every_dataset_shape(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    m = create("mlp", input_shape=shape, num_classes=7, hidden=(16, 8))
    assert m(torch.randn(3, *shape)).shape == (3, 7)


@pytest.mark.parametrize("name", ["convnet", "resnet"])
@pytest.mark.parametrize("shape", [SHAPES["digits"], SHAPES["mnist1d"], SHAPES["cifar"]])
def test_conv_models_output_shape(name: str, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    m = create(name, input_shape=shape, num_classes=10)
    m.eval()
    assert m(torch.randn(2, *shape)).shape == (2, 10)
    convs = [mod for mod in m.modules() if isinstance(mod, nn.Conv1d | nn.Conv2d)]
    assert convs and all(isinstance(c, nn.Conv1d if len(shape) == 2 else nn.Conv2d) for c in convs)


def test_mlp_child_names_depth_widths_and_options() -> None:
    m = create(
        "mlp", input_shape=(64,), num_classes=10, hidden=(32, 16, 8), batch_norm=True, dropout=0.25
    )
    assert isinstance(m, MLP) and m.population_safe
    expected = ["flatten"]
    for i in (1, 2, 3):
        expected += [f"fc{i}", f"bn{i}", f"act{i}", f"drop{i}"]
    assert [n for n, _ in m.named_children()] == expected + ["out"]
    assert [m.fc1.out_features, m.fc2.out_features, m.fc3.out_features] == [32, 16, 8]
    assert m.fc1.in_features == 64 and m.out.in_features == 8 and m.out.out_features == 10
    assert isinstance(m.bn2, nn.BatchNorm1d) and m.drop3.p == 0.25

    plain = create("mlp", input_shape=(64,), num_classes=10)
    assert [n for n, _ in plain.named_children()] == [
        "flatten",
        "fc1",
        "act1",
        "fc2",
        "act2",
        "out",
    ]
    assert plain.fc1.out_features == plain.fc2.out_features == 256
    assert not any(isinstance(x, nn.BatchNorm1d | nn.Dropout) for x in plain.modules())

    deep = create("mlp", input_shape=(64,), num_classes=10, depth=5, width=12)
    assert [deep.get_submodule(f"fc{i}").out_features for i in range(1, 6)] == [12] * 5
    assert not hasattr(deep, "fc6")
    logistic = create("mlp", input_shape=(1, 8, 8), num_classes=10, hidden=())
    assert [n for n, _ in logistic.named_children()] == ["flatten", "out"]
    no_bias = create("mlp", input_shape=(4,), num_classes=2, hidden=(3,), bias=False)
    assert no_bias.fc1.bias is None and no_bias.out.bias is None


@pytest.mark.parametrize(
    ("activation", "cls"),
    [
        ("relu", nn.ReLU),
        ("leaky_relu", nn.LeakyReLU),
        ("elu", nn.ELU),
        ("gelu", nn.GELU),
        ("tanh", nn.Tanh),
        ("sigmoid", nn.Sigmoid),
        ("linear", nn.Identity),
    ],
)
def test_activations(activation: str, cls: type[nn.Module]) -> None:
    m = create("mlp", input_shape=(6,), num_classes=3, hidden=(5, 5), activation=activation)
    assert isinstance(m.act1, cls) and isinstance(m.act2, cls)
    c = create("convnet", input_shape=(1, 8, 8), num_classes=3, activation=activation)
    assert isinstance(c.act1, cls)
    r = create("resnet", input_shape=(1, 8, 8), num_classes=3, activation=activation)
    assert isinstance(r.stage1.block1.act1, cls)


def test_tanh_mlp_outputs_match_hand_computation() -> None:
    torch.manual_seed(1)
    m = create("mlp", input_shape=(2, 3), num_classes=4, hidden=(5,), activation="tanh")
    x = torch.randn(7, 2, 3)
    h = torch.tanh(x.reshape(7, 6) @ m.fc1.weight.T + m.fc1.bias)
    torch.testing.assert_close(m(x), h @ m.out.weight.T + m.out.bias)


def test_convnet_options() -> None:
    c = create(
        "convnet",
        input_shape=(1, 40),
        num_classes=10,
        channels=(8, 8),
        kernel_size=5,
        batch_norm=True,
        dropout=0.5,
        pool="avg",
    )
    assert isinstance(c, ConvNet) and c.population_safe
    names = [n for n, _ in c.named_children()]
    assert names == [
        "conv1", "bn1", "act1", "pool1", "conv2", "bn2", "act2", "pool2", "flatten", "drop", "out",
    ]  # fmt: skip
    assert c.conv1.kernel_size == (5,) and isinstance(c.pool1, nn.AvgPool1d)
    assert isinstance(c.bn1, nn.BatchNorm1d) and c.drop.p == 0.5
    assert c.out.in_features == 8 * 10  # 40 -> 20 -> 10
    # defaults: 3 blocks for mnist1d, 2 for 8x8 digits
    assert (
        sum(
            isinstance(x, nn.Conv1d)
            for x in create("convnet", input_shape=(1, 40), num_classes=10).modules()
        )
        == 3
    )
    d = create("convnet", input_shape=(1, 8, 8), num_classes=10)
    assert sum(isinstance(x, nn.Conv2d) for x in d.modules()) == 2
    assert d.out.in_features == 64 * 2 * 2
    nopool = create("convnet", input_shape=(1, 8, 8), num_classes=10, channels=(4,), pool="none")
    assert nopool.out.in_features == 4 * 8 * 8


def test_resnet_structure() -> None:
    r = create("resnet", input_shape=(1, 8, 8), num_classes=10, widths=(8, 16), blocks=(2, 1))
    assert isinstance(r, ResNet) and r.population_safe
    assert [n for n, _ in r.named_children()] == [
        "stem",
        "stage1",
        "stage2",
        "pool",
        "flatten",
        "out",
    ]
    b11, b12, b21 = r.stage1.block1, r.stage1.block2, r.stage2.block1
    assert isinstance(b11, BasicBlock) and b11.population_safe
    assert isinstance(b11.shortcut, nn.Identity) and isinstance(b12.shortcut, nn.Identity)
    assert isinstance(b21.shortcut.conv, nn.Conv2d) and b21.shortcut.conv.kernel_size == (1, 1)
    assert isinstance(b21.shortcut.bn, nn.BatchNorm2d) and b21.conv1.stride == (2, 2)
    assert isinstance(r.pool, nn.AdaptiveAvgPool2d) and r.out.in_features == 16
    nobn = create("resnet", input_shape=(1, 40), num_classes=10, batch_norm=False, dropout=0.1)
    assert not any(isinstance(x, nn.BatchNorm1d) for x in nobn.modules())
    assert nobn.stage1.block1.conv1.bias is not None and nobn.drop.p == 0.1
    assert isinstance(nobn.pool, nn.AdaptiveAvgPool1d)


def test_resnet_block_is_residual() -> None:
    """With conv2 zeroed, a block with identity shortcut returns act(x) (He et al. 2016)."""
    blk = BasicBlock(4, 4, dims=1, batch_norm=False)
    with torch.no_grad():
        blk.conv2.weight.zero_()
        blk.conv2.bias.zero_()
    x = torch.randn(3, 4, 10)
    torch.testing.assert_close(blk(x), torch.relu(x))


def _forward_sources() -> list[tuple[str, str]]:
    out = []
    for cls in (MLP, ConvNet, ResNet, BasicBlock):
        fwd = cls.forward
        if fwd in (nn.Sequential.forward,):
            continue
        out.append((cls.__name__, textwrap.dedent(inspect.getsource(fwd))))
    return out


def test_forward_code_is_population_agnostic() -> None:
    """Own forward code only calls submodules (self.x(...)) and uses +; no reshapes/sizes."""
    sources = _forward_sources()
    assert [n for n, _ in sources] == ["BasicBlock"]  # the others use nn.Sequential.forward
    for cls in (MLP, ConvNet, ResNet):
        assert cls.forward is nn.Sequential.forward
    for name, src in sources:
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                ok = (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and (f.value.id == "self")
                )
                assert ok, f"{name}.forward calls {ast.unparse(f)}"
            if isinstance(node, ast.Attribute) and node.attr in {
                "view", "reshape", "flatten", "size", "shape", "permute", "transpose",
            }:  # fmt: skip
                raise AssertionError(f"{name}.forward uses .{node.attr}")
            if isinstance(node, ast.BinOp):
                assert isinstance(node.op, ast.Add), f"{name}.forward uses {ast.unparse(node)}"


def test_default_init_is_pytorchs() -> None:
    torch.manual_seed(3)
    m = create("mlp", input_shape=(64,), num_classes=10, hidden=(512,))
    bound = 1 / 64**0.5  # kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in))
    assert m.fc1.weight.abs().max() <= bound
    assert m.fc1.weight.abs().max() > 0.99 * bound


def test_unknown_names_and_options_are_user_errors() -> None:
    with pytest.raises(UserError, match=r"unknown model 'mpl' \(did you mean 'mlp'\?\)"):
        create("mpl", input_shape=(4,), num_classes=2)
    with pytest.raises(UserError, match=r"no option 'hiden' \(did you mean 'hidden'\?\)"):
        create("mlp", input_shape=(4,), num_classes=2, hiden=(3,))
    with pytest.raises(UserError, match=r"no option 'chanels' \(did you mean 'channels'\?\)"):
        create("convnet", input_shape=(1, 8, 8), num_classes=2, chanels=(3,))
    with pytest.raises(UserError, match=r"unknown activation 'rlu' \(did you mean 'relu'\?\)"):
        create("mlp", input_shape=(4,), num_classes=2, activation="rlu")
    with pytest.raises(UserError, match=r"dropout must be in \[0, 1\)"):
        create("mlp", input_shape=(4,), num_classes=2, dropout=1.0)
    with pytest.raises(UserError, match="needs input_shape"):
        create("convnet", input_shape=(64,), num_classes=2)
    with pytest.raises(UserError, match="needs input_shape"):
        create("resnet", input_shape=(1, 2, 3, 4), num_classes=2)
    with pytest.raises(UserError, match="positive"):
        create("mlp", input_shape=(0, 4), num_classes=2)
    with pytest.raises(UserError, match="num_classes"):
        create("mlp", input_shape=(4,), num_classes=0)
    with pytest.raises(UserError, match="either hidden"):
        create("mlp", input_shape=(4,), num_classes=2, hidden=(3,), depth=2)
    with pytest.raises(UserError, match="hidden must hold positive"):
        create("mlp", input_shape=(4,), num_classes=2, hidden=(3, 0))
    with pytest.raises(UserError, match="kernel_size must be odd"):
        create("convnet", input_shape=(1, 8, 8), num_classes=2, kernel_size=4)
    with pytest.raises(UserError, match=r"unknown pool 'mx'"):
        create("convnet", input_shape=(1, 8, 8), num_classes=2, pool="mx")
    with pytest.raises(UserError, match="one per stage"):
        create("resnet", input_shape=(1, 8, 8), num_classes=2, widths=(4, 8), blocks=(1, 1, 1))


@pytest.mark.parametrize(
    ("name", "shape", "kwargs"),
    [
        ("mlp", (1, 8, 8), {"batch_norm": True, "hidden": (16, 16)}),
        ("convnet", (1, 40), {"batch_norm": True, "channels": (4, 4)}),
        ("convnet", (1, 8, 8), {"channels": (4, 4), "pool": "avg"}),
        ("resnet", (1, 8, 8), {"widths": (4, 8)}),
        ("resnet", (1, 40), {"widths": (4, 8), "batch_norm": False}),
    ],
)
def test_models_run_on_the_population_stacked_path(name, shape, kwargs) -> None:
    """Population-safe forward code: K stacked copies give each plain model's output."""
    from trainlab import init
    from trainlab.population import Population, is_stackable

    plain = []
    for i in range(3):
        m = create(name, input_shape=shape, num_classes=5, **kwargs)
        plain.append(init.apply(m, "he_normal", generator=torch.Generator().manual_seed(i)))
    assert is_stackable(plain[0])
    pop = Population(plain[0], 3, [0, 1, 2])
    for i, m in enumerate(plain):
        pop.load_member(i, m.state_dict())
    x = torch.randn(3, 6, *shape)  # (K, B, ...)
    for train in (False, True):  # BN: running stats / batch stats per model
        pop.train(train)
        with torch.no_grad():
            y = pop(x)  # (K, B, C)
            for i, m in enumerate(plain):
                torch.testing.assert_close(y[i], m.train(train)(x[i]), atol=1e-5, rtol=1e-4)


def test_registered_factories_with_kwargs_and_positional_parameters() -> None:
    """``fn(input_shape, num_classes, **kw)`` (as register_model documents) gets its options."""
    from trainlab.models import _MODELS, model_options, register_model

    @register_model("_test_tiny", "factory with **kw")
    def tiny(input_shape, num_classes, **kw):
        return nn.Sequential(nn.Flatten(), nn.Linear(input_shape[0], kw.get("width", 8)),
                             nn.ReLU(), nn.Linear(kw.get("width", 8), num_classes))  # fmt: skip

    @register_model("_test_plain", "factory with a positional-or-keyword option")
    def plain(input_shape, num_classes, width=8):
        return nn.Linear(input_shape[0], num_classes if width else 1)

    try:
        assert create("_test_tiny", input_shape=(4,), num_classes=2, width=16)[1].out_features == 16
        assert model_options("_test_tiny") == {}
        assert model_options("_test_plain") == {"width": 8}
        create("_test_plain", input_shape=(4,), num_classes=2, width=3)
        with pytest.raises(UserError, match=r"no option 'depth'.*its options are: width"):
            create("_test_plain", input_shape=(4,), num_classes=2, depth=3)
    finally:
        _MODELS._entries.pop("_test_tiny", None)
        _MODELS._entries.pop("_test_plain", None)


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [("mlp", "hidden", "256"), ("mlp", "hidden", True), ("mlp", "hidden", [64, 2.5]),
     ("convnet", "channels", "32"), ("resnet", "widths", "16"), ("resnet", "blocks", False)],
)  # fmt: skip
def test_width_lists_must_be_ints(name: str, key: str, value: object) -> None:
    with pytest.raises(UserError, match=rf"{key} must be a positive int or a list of positive"):
        create(name, input_shape=(1, 8, 8), num_classes=10, **{key: value})


def test_mlp_width_must_be_an_int() -> None:
    with pytest.raises(UserError, match="width .* must be an int >= 1, got True"):
        create("mlp", input_shape=(64,), num_classes=10, depth=2, width=True)
    assert create("mlp", input_shape=(64,), num_classes=10, depth=2, width=5).hidden == (5, 5)


def test_no_bias_before_batch_norm() -> None:
    """BN cancels the bias of the layer before it, whose gradient is then round-off only."""
    m = create("mlp", input_shape=(64,), num_classes=10, hidden=(8, 8), batch_norm=True)
    assert m.fc1.bias is None and m.fc2.bias is None and m.out.bias is not None
    c = create("convnet", input_shape=(1, 8, 8), num_classes=10, channels=(4,), batch_norm=True)
    assert c.conv1.bias is None and c.out.bias is not None
    assert create("mlp", input_shape=(64,), num_classes=10, hidden=(8,)).fc1.bias is not None


def test_shapes_and_counts_accept_numpy_ints_and_reject_strings_and_fractions() -> None:
    """numpy integers (from array shapes) work; a string or 4.5 is never silently reinterpreted."""
    import numpy as np

    m = create("convnet", input_shape=np.array([1, 8, 8]), num_classes=np.int64(3), channels=(4,))
    assert m(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    assert create("mlp", input_shape=(4,), num_classes=2, depth=np.int64(3)).hidden == (256,) * 3
    with pytest.raises(UserError, match="input_shape must be .* got '64'"):
        create("mlp", input_shape="64", num_classes=2)  # would be (6, 4)
    with pytest.raises(UserError, match=r"input_shape must hold ints, got \(4.5,\)"):
        create("mlp", input_shape=(4.5,), num_classes=2)
    with pytest.raises(UserError, match="num_classes must be a positive int"):
        create("mlp", input_shape=(4,), num_classes=2.0)


@pytest.mark.parametrize(
    ("name", "key"),
    [("mlp", "batch_norm"), ("mlp", "bias"), ("convnet", "batch_norm"), ("convnet", "bias"),
     ("resnet", "batch_norm")],
)  # fmt: skip
def test_switches_must_be_bools(name: str, key: str) -> None:
    """``batch_norm="false"`` is truthy: it must not silently add batch norm."""
    with pytest.raises(UserError, match=rf"{key} must be true or false, got 'false'"):
        create(name, input_shape=(1, 8, 8), num_classes=10, **{key: "false"})


def test_conv_models_on_flat_inputs_name_the_fix() -> None:
    with pytest.raises(UserError, match=r"got \(30,\).*after PCA.*need model 'mlp'"):
        create("resnet", input_shape=(30,), num_classes=2)
