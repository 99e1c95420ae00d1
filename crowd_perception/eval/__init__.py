"""Evaluation metrics of every area (detection, 2D pose, 3D pose, tracking), numpy-only at import."""
