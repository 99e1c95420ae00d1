"""``TorchBackend``: an in-memory torch network behind the same ``run(feeds)`` interface as the
exported models, so a runner evaluates ``.safetensors`` weights or a network being trained with
exactly the pre- and post-processing it uses on ONNX Runtime or TensorRT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Backend

__all__ = ["TorchBackend"]


class TorchBackend(Backend):
    """``module(*inputs)`` with the feeds in ``input_names`` order; its outputs (a tuple) named by ``output_names``.

    ``device`` moves the module there (default: where its parameters already are); ``threads``
    sets torch's intra-op threads (process-wide, as torch allows).
    """

    name = "torch"

    def __init__(self, module: Any, input_names: Sequence[str], output_names: Sequence[str],
                 device: str | None = None, threads: int | None = None) -> None:
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
        self.torch = torch
        self.module = (module.to(device) if device is not None else module).eval()
        first = next(self.module.parameters(), None)
        self.device = torch.device(device) if device is not None else (first.device if first is not None else torch.device("cpu"))
        self.input_names = list(input_names)
        self.output_names = list(output_names)
        self.input_dtypes = {n: np.dtype(np.float32) for n in self.input_names}

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        with torch.inference_mode():
            outputs = self.module(*(torch.from_numpy(feeds[n]).to(self.device) for n in self.input_names))
        return {n: o.float().cpu().numpy() for n, o in zip(self.output_names, outputs, strict=True)}
