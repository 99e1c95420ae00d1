"""Read a TensorFlow Lite model's graph and constants into :class:`.graph_net.GraphNode` s and torch tensors.

Used once, by ``crowd-perception weights import``, never at run time. The flatbuffer is parsed with
the ``tflite`` package (the schema's generated reader; installed by ``scripts/import_pretrained.sh``):
no code from the file runs. Supported: ``CONV_2D``, ``DEPTHWISE_CONV_2D`` (multiplier 1), ``ADD``,
``PAD``, ``MAX_POOL_2D``, ``RESIZE_BILINEAR`` (half-pixel centres) and ``DEQUANTIZE`` of float16
constants; any other operator may be in the file but not on the path to the tensors taken.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...core.errors import InputError
from .graph_net import GraphNode

__all__ = ["TFLiteGraph", "read_tflite"]

_ACTIVATIONS = {0: "none", 1: "relu", 3: "relu6"}
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32}
_SAME = 0  # tflite Padding enum (VALID = 1)


@dataclass
class TFLiteGraph:
    """The convertible part of a ``.tflite`` graph: nodes, their weights, and every tensor's name/shape."""

    nodes: list[GraphNode]
    weights: dict[str, torch.Tensor]
    input_id: int
    names: dict[int, str]
    shapes: dict[int, tuple[int, ...]]
    unsupported: dict[int, str]  # output tensor -> operator that produced it (not converted)

    def tensor(self, name: str) -> int:
        """The id of the tensor called ``name``."""
        for tensor_id, tensor_name in self.names.items():
            if tensor_name == name:
                return tensor_id
        raise ValueError(f"no tensor named {name!r} in the graph")

    def producer(self, tensor_id: int) -> GraphNode:
        """The converted node that writes ``tensor_id``."""
        for node in self.nodes:
            if node.output == tensor_id:
                return node
        op = self.unsupported.get(tensor_id)
        raise ValueError(f"tensor {self.names.get(tensor_id, tensor_id)!r} comes from unsupported operator {op}")


def read_tflite(data: bytes, source: Path | str = "<bytes>") -> TFLiteGraph:
    """Parse the first subgraph of the ``.tflite`` flatbuffer ``data`` (``source`` names it in errors)."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise InputError(f"{source}: not a TensorFlow Lite model (no TFL3 identifier)")
    try:
        return _parse(data, source)
    except (IndexError, struct.error, UnicodeDecodeError) as exc:  # offsets that point outside the file
        raise InputError(f"{source}: damaged TensorFlow Lite file ({type(exc).__name__}: {exc})") from None


def _parse(data: bytes, source: Path | str) -> TFLiteGraph:
    import tflite

    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() < 1:
        raise InputError(f"{source}: the model has no subgraph")
    graph = model.Subgraphs(0)
    op_names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    names = {i: graph.Tensors(i).Name().decode() for i in range(graph.TensorsLength())}
    shapes = {i: tuple(int(s) for s in graph.Tensors(i).ShapeAsNumpy()) for i in range(graph.TensorsLength())}

    def constant(tensor_id: int) -> np.ndarray | None:
        tensor = graph.Tensors(tensor_id)
        raw = model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw.size == 0:
            return None
        dtype = _DTYPES.get(tensor.Type())
        if dtype is None:
            raise InputError(f"{source}: constant {names[tensor_id]!r} has unsupported type {tensor.Type()}")
        values = raw.view(dtype)
        if values.size != int(np.prod(shapes[tensor_id])):
            raise InputError(
                f"{source}: constant {names[tensor_id]!r} holds {values.size} values for shape {shapes[tensor_id]} "
                "(quantised or sparse weights are not supported)"
            )
        return values.reshape(shapes[tensor_id])

    constants: dict[int, np.ndarray] = {}
    nodes: list[GraphNode] = []
    weights: dict[str, torch.Tensor] = {}
    unsupported: dict[int, str] = {}
    for index in range(graph.OperatorsLength()):
        op = graph.Operators(index)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = op_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        inputs = [int(i) for i in op.InputsAsNumpy()]
        output = int(op.OutputsAsNumpy()[0])
        for i in inputs:
            if i >= 0 and i not in constants and (value := constant(i)) is not None:
                constants[i] = value
        try:
            node = _convert(name, op, inputs, output, constants, shapes, weights, tflite)
        except ValueError as exc:
            raise InputError(f"{source}: operator {index} ({name}): {exc}") from None
        if isinstance(node, GraphNode):
            nodes.append(node)
        elif node is None:
            unsupported[output] = name
    return TFLiteGraph(nodes, weights, int(graph.InputsAsNumpy()[0]), names, shapes, unsupported)


def _activation(code: int) -> str:
    if code not in _ACTIVATIONS:
        raise ValueError(f"fused activation {code} is not supported")
    return _ACTIVATIONS[code]


def _options(op: Any, cls: Any) -> Any:
    table = op.BuiltinOptions()
    options = cls()
    options.Init(table.Bytes, table.Pos)
    return options


def _convert(
    name: str,
    op: Any,
    inputs: list[int],
    output: int,
    constants: dict[int, np.ndarray],
    shapes: dict[int, tuple[int, ...]],
    weights: dict[str, torch.Tensor],
    tflite: Any,
) -> GraphNode | str | None:
    """One operator as a node (its weights added to ``weights``), "constant" when folded, None if unsupported."""
    if name == "DEQUANTIZE":
        if inputs[0] not in constants:
            return None
        constants[output] = constants[inputs[0]].astype(np.float32)
        return "constant"
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return _conv(name, op, inputs, output, constants, weights, tflite)
    if name == "ADD":
        act = _activation(_options(op, tflite.AddOptions).FusedActivationFunction())
        if any(i in constants for i in inputs):
            raise ValueError("addition of a constant is not supported")
        return GraphNode("add", tuple(inputs), output, act=act)
    if name == "PAD":
        pads = constants[inputs[1]]
        if pads[0].any() or pads[3].any():
            raise ValueError("padding of the batch or channel axis is not supported")
        return GraphNode("pad", (inputs[0],), output, pads=(int(pads[1, 0]), int(pads[1, 1]), int(pads[2, 0]), int(pads[2, 1])))
    if name == "MAX_POOL_2D":
        pool = _options(op, tflite.Pool2DOptions)
        if pool.FilterHeight() != pool.FilterWidth() or pool.StrideH() != pool.StrideW():
            raise ValueError("non-square pooling is not supported")
        return GraphNode("max_pool", (inputs[0],), output, kernel=pool.FilterHeight(), stride=pool.StrideH(),
                         same=pool.Padding() == _SAME)
    if name == "RESIZE_BILINEAR":
        resize = _options(op, tflite.ResizeBilinearOptions)
        if resize.AlignCorners() or not resize.HalfPixelCenters():
            raise ValueError("only half-pixel-centre bilinear resizing is supported")
        scale = shapes[output][1] / shapes[inputs[0]][1]
        if scale != int(scale) or shapes[output][2] / shapes[inputs[0]][2] != scale:
            raise ValueError(f"resize {shapes[inputs[0]]} -> {shapes[output]} is not an integer up-sampling")
        return GraphNode("resize", (inputs[0],), output, scale=int(scale))
    return None


def _conv(
    name: str,
    op: Any,
    inputs: list[int],
    output: int,
    constants: dict[int, np.ndarray],
    weights: dict[str, torch.Tensor],
    tflite: Any,
) -> GraphNode:
    depthwise = name == "DEPTHWISE_CONV_2D"
    options = _options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
    if options.StrideH() != options.StrideW() or options.DilationHFactor() != 1 or options.DilationWFactor() != 1:
        raise ValueError("only square strides without dilation are supported")
    if depthwise and options.DepthMultiplier() not in (0, 1):
        raise ValueError("depth multiplier != 1 is not supported")
    if inputs[1] not in constants:
        raise ValueError("the filter is not a constant")
    kernel = constants[inputs[1]]  # conv: (O, kh, kw, I); depthwise: (1, kh, kw, C)
    if kernel.shape[1] != kernel.shape[2]:
        raise ValueError(f"non-square kernel {kernel.shape[1]}x{kernel.shape[2]}")
    if depthwise:
        channels = kernel.shape[3]
        weight = kernel.transpose(3, 0, 1, 2)
        c_in, c_out, groups = channels, channels, channels
    else:
        weight = kernel.transpose(0, 3, 1, 2)
        c_in, c_out, groups = kernel.shape[3], kernel.shape[0], 1
    bias = constants[inputs[2]] if len(inputs) > 2 and inputs[2] >= 0 else np.zeros(c_out, np.float32)
    key = f"n{output}"
    weights[f"{key}.weight"] = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
    weights[f"{key}.bias"] = torch.from_numpy(np.ascontiguousarray(bias, dtype=np.float32))
    return GraphNode(
        "conv", (inputs[0],), output, name=key, in_channels=int(c_in), out_channels=int(c_out),
        kernel=int(kernel.shape[1]), stride=int(options.StrideH()), groups=int(groups),
        same=options.Padding() == _SAME, act=_activation(options.FusedActivationFunction()),
    )
