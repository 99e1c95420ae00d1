"""pip / setuptools entry for the ROS-free core and CLI (``pip install .`` needs no ROS).

The ROS 2 build (colcon, messages, nodes, launch files) is driven by ``package.xml`` and
``CMakeLists.txt``; see the README section "Package layout" for why both exist.
"""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="crowd_perception",
    version="0.1.0",
    description="Pedestrian detection, occluded 2D pose, 3D pose and tracking for crowds (ROS 2)",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["crowd_perception", "crowd_perception.*"]),
    include_package_data=True,
    # the shipped models and the converted pretrained weights: without them `pip install .` has no network to run
    package_data={"crowd_perception": ["weights/*.onnx", "weights/*.json", "weights/*.safetensors", "weights/*.md",
                                       "weights/pretrained/*.safetensors", "weights/pretrained/*.md"]},
    # the .msg files and node parameters, where crowd_perception.ros finds them outside a checkout
    data_files=[
        ("share/crowd_perception/msg", sorted(str(p) for p in Path("msg").glob("*.msg"))),
        ("share/crowd_perception/config", ["config/crowd_perception.yaml"]),
    ],
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "opencv-contrib-python-headless>=4.8",
        "onnxruntime>=1.17",
        "lap>=0.5.12",
        "rosbags>=0.10",
        "safetensors>=0.4",
        "PyYAML>=6.0",
        "tqdm>=4.66",
    ],
    extras_require={
        "train": ["torch==2.13.0", "onnx>=1.16", "onnxscript>=0.2"],
        "eval": ["trackeval>=1.3", "pycocotools>=2.0.8", "matplotlib>=3.8"],
        "tensorrt": ["tensorrt>=10.0", "cuda-python>=12.0"],
        "dev": ["pytest>=8", "ruff>=0.6", "mypy>=1.10", "catkin_pkg>=1.0"],
        # `weights import blazepose`: the TensorFlow Lite schema reader (no TensorFlow, no code from the file runs)
        "pretrained": ["tflite==2.18.0"],
        # peer trackers for `crowd-perception bench tracking-peers` only (not installed by scripts/setup.sh):
        # the dependencies of norfair, trackers and boxmot; those three go in with `pip install --no-deps`
        # (crowd_perception.tracking.peers.INSTALL), since their own pins would downgrade numpy below 2
        # (norfair), replace opencv-python-headless's cv2 (trackers) or pull torchvision (boxmot)
        "peers": ["supervision==0.31.2", "filterpy>=1.4.5", "rich>=13", "torch==2.13.0"],
    },
    entry_points={"console_scripts": ["crowd-perception=crowd_perception.cli:main"]},
)
