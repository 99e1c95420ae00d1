"""GraphNet: a graph stored as data runs as the source framework defines each operation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.common.graph_net import (  # noqa: E402
    GraphNet,
    GraphNode,
    _same_pads,
    nodes_from_json,
    nodes_to_json,
)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pads"),
    [(8, 3, 1, (1, 1)), (8, 3, 2, (0, 1)), (7, 3, 2, (1, 1)), (8, 1, 1, (0, 0)), (4, 2, 2, (0, 0)), (5, 5, 1, (2, 2))],
)
def test_same_padding_puts_the_odd_pixel_after(size: int, kernel: int, stride: int, pads: tuple[int, int]) -> None:
    assert _same_pads(size, kernel, stride) == pads
    # TensorFlow's rule: the output of SAME is ceil(size / stride)
    assert (size + sum(pads) - kernel) // stride + 1 == -(-size // stride)


def _identity_conv(net: GraphNet, name: str) -> None:
    conv = net.convs[name]
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        centre = conv.kernel_size[0] // 2
        for c in range(conv.out_channels):
            conv.weight[c, 0 if conv.groups > 1 else c, centre, centre] = 1.0


def test_graph_runs_every_op_and_prunes_what_outputs_do_not_need() -> None:
    nodes = [
        GraphNode("conv", (0,), 1, name="a", in_channels=2, out_channels=2, kernel=3, same=True, act="relu6"),
        GraphNode("conv", (1,), 2, name="dw", in_channels=2, out_channels=2, kernel=3, stride=2, groups=2, same=True),
        GraphNode("resize", (2,), 3, scale=2),
        GraphNode("add", (3, 1), 4, act="relu"),
        GraphNode("pad", (4,), 5, pads=(1, 0, 0, 2)),
        GraphNode("max_pool", (4,), 6, kernel=2, stride=2),
        GraphNode("conv", (1,), 7, name="unused", in_channels=2, out_channels=5, kernel=1),
    ]
    net = GraphNet(nodes, 0, [4, 5, 6])
    assert "unused" not in net.convs and [n.output for n in net.nodes] == [1, 2, 3, 4, 5, 6]
    _identity_conv(net, "a")
    _identity_conv(net, "dw")
    x = torch.linspace(-2.0, 10.0, 2 * 8 * 8).reshape(1, 2, 8, 8)
    added, padded, pooled = net(x)
    a = x.clamp(0.0, 6.0)  # identity conv + ReLU6
    down = a[:, :, 1::2, 1::2]  # identity depthwise conv, stride 2, SAME: pads 0 before, 1 after, so centres on odd pixels
    up = torch.nn.functional.interpolate(down, scale_factor=2.0, mode="bilinear", align_corners=False)
    torch.testing.assert_close(added, (up + a).relu())
    assert padded.shape == (1, 2, 9, 10) and torch.equal(padded[:, :, 1:, :8], added)
    assert padded[:, :, 0].abs().sum() == 0 and padded[:, :, :, 8:].abs().sum() == 0
    torch.testing.assert_close(pooled, torch.nn.functional.max_pool2d(added, 2))


def test_nodes_survive_json() -> None:
    nodes = [GraphNode("pad", (0,), 1, pads=(1, 2, 3, 4)), GraphNode("add", (1, 0), 2, act="relu")]
    assert nodes_from_json(nodes_to_json(nodes)) == nodes


def test_bad_graphs_are_named() -> None:
    with pytest.raises(ValueError, match="unknown op 'softmax'"):
        GraphNode("softmax", (0,), 1)
    with pytest.raises(ValueError, match="unknown activation 'tanh'"):
        GraphNode("add", (0, 0), 1, act="tanh")
    with pytest.raises(ValueError, match="tensor 9 has no producer"):
        GraphNet([GraphNode("add", (0, 9), 1)], 0, [1])
