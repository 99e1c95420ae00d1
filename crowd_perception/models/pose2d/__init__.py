"""Occluded top-down 2D pose estimation: RSGNet relation parser + skeleton graph machine, Das et al.'s
instance-mask and occlusion heads, mask-and-predict curriculum and instance-level domain adaptation.

Modules: :mod:`.crops` (box -> affine crop and back), :mod:`.targets` (training targets),
:mod:`.model` (torch network), :mod:`.loss`, :mod:`.grl`, :mod:`.curriculum`, :mod:`.data`,
:mod:`.decode` / :mod:`.postprocess` (numpy decoding), :mod:`.runner` (:class:`OccludedPoseEstimator`).
Torch is imported only by the training-side modules, never by the runner.
"""
