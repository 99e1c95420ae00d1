"""BlazePose GHUM (full) trunk: pose features learned on real photographs, converted from the mediapipe wheel.

No weights download at run time here, but ``mediapipe`` 0.10.21 (Apache-2.0) carries BlazePose's
landmark network inside its wheel (``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``,
Bazarevsky et al. 2020). :func:`convert_blazepose` reads that file once (:mod:`.tflite_import`; no
code from it runs), keeps the part of the graph under the 64x64 heatmap output (the stride-4
features and the 39 heatmap logits; the regression, segmentation and world-landmark heads are
dropped) and writes the weights with the graph (:mod:`.graph_net`) and provenance in the
safetensors metadata. :class:`BlazePoseTrunk` rebuilds the network from that file.

The trunk saw real people (BlazePose's training set), which our synthetic renderer cannot give;
the 2D pose model keeps it fixed and trains only its RSGNet heads on top (``backbone: blazepose``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from .graph_net import GraphNet, nodes_from_json, nodes_to_json
from .pretrained import PRETRAINED_DIR, Provenance, read_source

__all__ = ["BLAZEPOSE_SOURCE", "BLAZEPOSE_FILE", "BLAZEPOSE_TO_COCO17", "convert_blazepose", "BlazePoseTrunk"]

BLAZEPOSE_SOURCE = Provenance(
    package="mediapipe",
    version="0.10.21",
    member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
    licence="Apache-2.0 (mediapipe package; BlazePose GHUM 3D model card)",
    trained_on="BlazePose GHUM landmark model (full): real photographs of people, 33 landmarks (Google)",
)
BLAZEPOSE_FILE = "blazepose_full.safetensors"
HEATMAP_OUTPUT = "Identity_3"  # (1, 64, 64, 39): the heatmap logits of the 33 landmarks + 6 auxiliary points
# BlazePose landmark index of each COCO-17 joint (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles)
BLAZEPOSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def convert_blazepose(source: Path | str, out: Path | str) -> dict[str, str]:
    """Convert the BlazePose landmark model in ``source`` (mediapipe wheel or ``.tflite``) to safetensors at ``out``."""
    from .tflite_import import read_tflite

    source, out = Path(source), Path(out)
    raw = read_source(source, BLAZEPOSE_SOURCE.member)
    graph = read_tflite(raw, source)
    heatmap = graph.tensor(HEATMAP_OUTPUT)
    features = graph.producer(heatmap).inputs[0]
    net = GraphNet(graph.nodes, graph.input_id, [features, heatmap])
    weights = {k: v for k, v in graph.weights.items() if k.split(".")[0] in net.convs}
    metadata = {
        **asdict(BLAZEPOSE_SOURCE),
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "graph": nodes_to_json(net.nodes),
        "input": str(graph.input_id),
        "outputs": json.dumps([features, heatmap]),
        "input_format": "RGB in [0, 1], 256x256 person-centred crop",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(out), metadata=metadata)
    return {k: v for k, v in metadata.items() if k != "graph"}


class BlazePoseTrunk(nn.Module):
    """``(N, 3, H, W)`` BGR in [0, 1] -> ``(N, 48 + 39, H / 4, W / 4)``: BlazePose's stride-4 features
    and its 39 heatmap logits. ``H`` and ``W`` multiples of 32; built from the converted file and kept
    fixed (no gradients: the real-photo features are the point)."""

    feature_channels = 48  # the heatmap logits follow the features
    out_channels = feature_channels + 39

    @staticmethod
    def heatmap_channels(landmarks: Sequence[int]) -> list[int]:
        """Output channels of the heatmaps of BlazePose ``landmarks`` (e.g. :data:`BLAZEPOSE_TO_COCO17`)."""
        return [BlazePoseTrunk.feature_channels + i for i in landmarks]

    def __init__(self, path: Path | str = PRETRAINED_DIR / BLAZEPOSE_FILE) -> None:
        super().__init__()
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            if "graph" not in metadata:
                raise ValueError(f"{path}: no BlazePose graph in the metadata (made by `weights import blazepose`?)")
            state = {k: f.get_tensor(k) for k in f.keys()}
        self.graph = GraphNet(nodes_from_json(metadata["graph"]), int(metadata["input"]), json.loads(metadata["outputs"]))
        self.graph.convs.load_state_dict(state)
        first = next(n for n in self.graph.nodes if n.op == "conv")
        conv = self.graph.convs[first.name]
        assert isinstance(conv, nn.Conv2d)
        with torch.no_grad():
            conv.weight.copy_(conv.weight.flip(1))  # the source takes RGB; we feed BGR
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(self.graph(x), dim=1)
