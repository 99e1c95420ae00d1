"""Neural network models: shared backbones/FPN (``common``), the detector, the 2D and 3D pose networks."""
