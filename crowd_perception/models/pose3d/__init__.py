"""PandaNet (Benzine et al., CVPR 2020): single-shot, anchor-based multi-person 3D pose estimation.

One forward pass scores every anchor and regresses its box, its 2D pose (in anchor coordinates)
and its root-relative 3D pose (scale-normalised), so the cost does not grow with the crowd.
``placement`` then puts each pose in the camera frame from the intrinsics.

Modules: ``anchors`` (k-means anchor shapes, anchor grid), ``normalise`` (3D pose normalisation),
``targets`` (anchor matching, PONO, A+, Pose-Aware Anchor Selection), ``model`` (the network),
``loss`` (seed losses + homoscedastic weighting), ``postprocess`` (numpy readout),
``placement`` (camera-frame placement), ``data`` (training samples), ``runner``
(:class:`Pose3DEstimator`), ``cli`` (``train pose3d``, ``evaluate pose3d``).
"""
