"""Task weighting by learned homoscedastic uncertainty (Kendall, Gal and Cipolla, CVPR 2018).

One sign convention for every model: the learned parameter is ``s = log σ²`` (the log variance
of the task), so a task's loss ``L`` enters as ``exp(-s) · L + s``: a large ``s`` (an uncertain,
noisy task) lowers its weight ``exp(-s)``, and the ``+ s`` term keeps ``s`` from growing without
bound. :class:`UncertaintyWeighting` is the JDE form (``½`` of that sum over a few scalar tasks);
the 3D pose loss applies :func:`uncertainty_weighted` per group of anchors and joints.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["uncertainty_weighted", "UncertaintyWeighting"]


def uncertainty_weighted(loss: Tensor, log_var: Tensor) -> Tensor:
    """``exp(-log_var) · loss + log_var`` element-wise (``log_var = log σ²``, learned)."""
    return torch.exp(-log_var) * loss + log_var


class UncertaintyWeighting(nn.Module):
    """``L = Σ_j ½(exp(−s_j) L_j + s_j)`` over the tasks present in the batch (JDE; learned ``s_j = log σ_j²``)."""

    def __init__(self, init_log_vars: tuple[float, ...]) -> None:
        super().__init__()
        self.log_vars = nn.Parameter(torch.tensor(init_log_vars, dtype=torch.float32))

    def forward(self, losses: list[Tensor | None]) -> Tensor:
        """Weighted sum of the task ``losses`` (one per ``log_vars`` entry; ``None`` for a task absent from the batch)."""
        if len(losses) != len(self.log_vars):
            raise ValueError(f"{len(losses)} task losses for {len(self.log_vars)} weights")
        terms = [
            0.5 * uncertainty_weighted(loss, s) for s, loss in zip(self.log_vars, losses, strict=True) if loss is not None
        ]
        return torch.stack(terms).sum()
