"""Single-shot pedestrian detector: FPN, anchor-point head with IoU branch and JDE embeddings,
trained with Loss-aware Label Assignment (LLA).

- :mod:`.model` / :mod:`.head`: the network (raw head tensors out).
- :mod:`.assignment`: LLA, FCOS and RetinaNet* assigners, ambiguous-assignment ratio.
- :mod:`.loss`: focal, GIoU, IoU BCE, identity CE, uncertainty weighting.
- :mod:`.postprocess`: numpy decoding + NMS shared by torch evaluation and runtime backends.
- :mod:`.data`, :mod:`.train`, :mod:`.cli`: datasets, training, command line.
- :mod:`.runner`: :class:`PedestrianDetector`, the node-facing inference class.

Torch is only imported by the training/model modules; ``runner`` and ``postprocess`` run without it.
"""
