"""A feed-forward convolutional network stored as data: a converted TensorFlow Lite graph run in torch.

:mod:`.tflite_import` turns a ``.tflite`` file into a list of :class:`GraphNode` (convolutions with
their batch norm already folded in, additions, paddings, max-pools, bilinear up-sampling) plus their
weights; :class:`GraphNet` executes that list in order on NCHW tensors. Keeping the architecture as
data (in the safetensors metadata beside the weights) reproduces the source network exactly, with no
hand transcription of its wiring, and it traces to ONNX like any other module.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GraphNode", "GraphNet", "nodes_to_json", "nodes_from_json"]

_ACTIVATIONS = ("none", "relu", "relu6")
_OPS = ("conv", "add", "pad", "max_pool", "resize")


@dataclass(frozen=True)
class GraphNode:
    """One operation: ``output = op(*inputs)``; tensors are named by integer ids (the source's)."""

    op: str
    inputs: tuple[int, ...]
    output: int
    name: str = ""  # conv: the key of its weights (``<name>.weight``, ``<name>.bias``)
    in_channels: int = 0
    out_channels: int = 0
    kernel: int = 1
    stride: int = 1
    groups: int = 1
    same: bool = False  # TensorFlow "SAME" padding (extra pixel at the bottom/right), else "VALID"
    act: str = "none"  # fused activation (conv, add)
    pads: tuple[int, int, int, int] = field(default=(0, 0, 0, 0))  # pad: (top, bottom, left, right)
    scale: int = 2  # resize: bilinear up-sampling factor (half-pixel centres)

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"graph node {self.output}: unknown op {self.op!r}")
        if self.act not in _ACTIVATIONS:
            raise ValueError(f"graph node {self.output}: unknown activation {self.act!r}")


def nodes_to_json(nodes: list[GraphNode]) -> str:
    return json.dumps([asdict(n) for n in nodes], separators=(",", ":"))


def nodes_from_json(text: str) -> list[GraphNode]:
    return [
        GraphNode(**{**d, "inputs": tuple(d["inputs"]), "pads": tuple(d["pads"])}) for d in json.loads(text)
    ]


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding of one axis: ``(before, after)``, the odd pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _activate(x: Tensor, act: str) -> Tensor:
    if act == "relu":
        return F.relu(x)
    if act == "relu6":
        return F.relu6(x)
    return x


class GraphNet(nn.Module):
    """Runs ``nodes`` from tensor ``input_id`` and returns the tensors ``output_ids`` (in that order).

    Nodes that no requested output depends on are dropped at construction, so a trunk can be cut
    out of a larger graph (e.g. BlazePose's heatmap branch without its regression head).
    """

    def __init__(self, nodes: list[GraphNode], input_id: int, output_ids: list[int]) -> None:
        super().__init__()
        self.input_id, self.output_ids = input_id, list(output_ids)
        self.nodes = _needed(nodes, input_id, output_ids)
        self.convs = nn.ModuleDict(
            {
                n.name: nn.Conv2d(n.in_channels, n.out_channels, n.kernel, n.stride, groups=n.groups)
                for n in self.nodes
                if n.op == "conv"
            }
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        values = {self.input_id: x}
        for node in self.nodes:
            args = [values[i] for i in node.inputs]
            values[node.output] = self._run(node, args)
        return [values[i] for i in self.output_ids]

    def _run(self, node: GraphNode, args: list[Tensor]) -> Tensor:
        x = args[0]
        if node.op == "conv":
            if node.same:
                top, bottom = _same_pads(x.shape[2], node.kernel, node.stride)
                left, right = _same_pads(x.shape[3], node.kernel, node.stride)
                x = F.pad(x, (left, right, top, bottom))
            return _activate(self.convs[node.name](x), node.act)
        if node.op == "add":
            return _activate(x + args[1], node.act)
        if node.op == "pad":
            top, bottom, left, right = node.pads
            return F.pad(x, (left, right, top, bottom))
        if node.op == "max_pool":
            if node.same:
                raise ValueError(f"graph node {node.output}: SAME max-pool is not supported")
            return F.max_pool2d(x, node.kernel, node.stride)
        return F.interpolate(x, scale_factor=float(node.scale), mode="bilinear", align_corners=False)


def _needed(nodes: list[GraphNode], input_id: int, output_ids: list[int]) -> list[GraphNode]:
    """The nodes ``output_ids`` depend on, in their original (topological) order."""
    producer = {n.output: n for n in nodes}
    wanted: set[int] = set()
    stack = list(output_ids)
    while stack:
        tensor = stack.pop()
        if tensor == input_id or tensor in wanted:
            continue
        if tensor not in producer:
            raise ValueError(f"graph: tensor {tensor} has no producer and is not the input {input_id}")
        wanted.add(tensor)
        stack.extend(producer[tensor].inputs)
    return [n for n in nodes if n.output in wanted]
