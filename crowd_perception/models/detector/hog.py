"""OpenCV's HOG + linear-SVM people detector (Dalal & Triggs 2005) as an untrained reference.

It needs no training and no weights of ours, so it is the floor a learned detector must clear on
real images: ``evaluate detection --compare hog`` scores it on the same frames. OpenCV's default
settings (``winStride`` 8, padding 8, pyramid scale 1.05, its own box grouping) are kept; the
SVM margin is squashed by a logistic to give scores in (0, 1) (a monotone map: AP is unchanged).
"""

from __future__ import annotations

import cv2
import numpy as np

from ...core.types import Detections

__all__ = ["HogPeopleDetector"]


class HogPeopleDetector:
    """``detect(image_bgr) -> Detections`` with OpenCV's default people detector (64x128 window)."""

    name = "opencv-hog"

    def __init__(self, win_stride: int = 8, padding: int = 8, scale: float = 1.05) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
        self.win_stride = (win_stride, win_stride)
        self.padding = (padding, padding)
        self.scale = scale

    def detect(self, image: np.ndarray) -> Detections:
        rects, weights = self.hog.detectMultiScale(
            image, winStride=self.win_stride, padding=self.padding, scale=self.scale
        )
        if len(rects) == 0:
            return Detections.empty()
        xywh = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        margins = np.asarray(weights, dtype=np.float32).reshape(-1)
        return Detections(boxes, 1.0 / (1.0 + np.exp(-margins)))
