"""The crowd_perception nodes as a real ROS 2 graph of separate processes, without ``launch_ros``.

:class:`NodeGraph` starts each node the way ``launch/crowd_perception.launch.py`` does (same
executables, node names, namespace, params file, per-node overrides and input remappings; see
:func:`node_command`) and stops them the way ``ros2 launch`` does on Ctrl-C: SIGINT to every
node, then SIGTERM / SIGKILL only for a node that has not exited in time (reported as unclean).

The graph runs on its own DDS domain and talks over shared memory only (Fast DDS
``FASTDDS_BUILTIN_TRANSPORTS=SHM``, see :func:`dds_environment`): no network traffic, and no
cross-talk with other ROS 2 graphs on the machine. This needs rclpy and the generated
``crowd_perception.msg`` (a ROS 2 installation, or ``scripts/setup.sh`` for the pip wheels).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import CrowdPerceptionError
from ..pipeline import STAGES, default_config_path

__all__ = [
    "EXECUTABLES",
    "LAUNCH_NODES",
    "OUTPUTS",
    "GraphError",
    "NodeExit",
    "NodeGraph",
    "dds_environment",
    "free_domain_id",
    "node_command",
    "node_overrides",
    "overrides_params",
    "processes_of",
]

# executable -> module whose main() it runs: CMakeLists.txt installs these launchers to
# lib/crowd_perception/ (``from <module> import main; sys.exit(main())``), ``python -m <module>``
# runs the same code
EXECUTABLES = {
    "detector_node": "crowd_perception.ros.nodes.detector_node",
    "occluded_pose_node": "crowd_perception.ros.nodes.occluded_pose_node",
    "pose3d_node": "crowd_perception.ros.nodes.pose3d_node",
    "tracker_node": "crowd_perception.ros.nodes.tracker_node",
    "visualizer_node": "crowd_perception.ros.nodes.visualizer_node",
}
# launch name -> (executable, uses a model, remapped inputs): the NODES table of the launch file
LAUNCH_NODES = {
    "detector": ("detector_node", True, ("image",)),
    "pose2d": ("occluded_pose_node", True, ("image",)),
    "pose3d": ("pose3d_node", True, ("image", "camera_info")),
    "tracker": ("tracker_node", False, ()),
    "visualizer": ("visualizer_node", False, ("image",)),
}
# replay stage (= launch name) -> its output topic, relative to the namespace
OUTPUTS = {"detector": "detections", "pose2d": "poses_2d", "pose3d": "poses_3d", "tracker": "tracks"}
GRAPH_ID_VARIABLE = "CROWD_PERCEPTION_GRAPH_ID"  # marks every process of one graph (orphan check)


class GraphError(CrowdPerceptionError, RuntimeError):
    """A graph that cannot start (a node exited, or never appeared) or did not stop cleanly."""


def free_domain_id(rng: random.Random | None = None) -> int:
    """A DDS domain id (1..200) whose Fast DDS shared-memory discovery port is not in use here."""
    rng = rng or random.SystemRandom()
    candidates = list(range(1, 201))
    rng.shuffle(candidates)
    shm = Path("/dev/shm")
    for domain in candidates:
        port = 7400 + 250 * domain  # RTPS discovery multicast port of the domain (PB + DG * domain)
        if not any(shm.glob(f"fastdds_port{port}*")):
            return domain
    return candidates[0]


def dds_environment(domain_id: int) -> dict[str, str]:
    """Environment of a graph confined to this machine: its own domain, shared memory only.

    ``ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT`` leaves the transports to Fast DDS, and
    ``FASTDDS_BUILTIN_TRANSPORTS=SHM`` makes discovery and data both use shared memory (the
    LOCALHOST range would still open UDP sockets on every interface).
    """
    return {
        "ROS_DOMAIN_ID": str(domain_id),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "SYSTEM_DEFAULT",
        "FASTDDS_BUILTIN_TRANSPORTS": "SHM",
        "RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
    }


def node_overrides(name: str, *, backend: str | None = "onnxruntime", use_sim_time: bool = False,
                   parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters the launch file sets on top of the params file for node ``name``:
    ``use_sim_time``, ``backend`` for the model nodes, then ``parameters``."""
    if name not in LAUNCH_NODES:
        raise ValueError(f"unknown node {name!r}; choose from {', '.join(LAUNCH_NODES)}")
    overrides: dict[str, Any] = {"use_sim_time": use_sim_time}
    if LAUNCH_NODES[name][1] and backend:
        overrides["backend"] = backend
    overrides.update(parameters or {})
    return overrides


def overrides_params(name: str, namespace: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` as a params file keyed by the node's fully qualified name (what launch_ros writes
    for a dict of parameters), to be passed after the node's own params file."""
    node = f"/{namespace.strip('/')}/{LAUNCH_NODES[name][0]}".replace("//", "/")
    return {node: {"ros__parameters": dict(overrides)}}


def node_command(name: str, *, config: str | Path, overrides_file: str | Path, namespace: str = "crowd_perception",
                 image_topic: str = "/camera/image_raw", camera_info_topic: str = "/camera/camera_info",
                 python: str | None = None) -> list[str]:
    """The command line ``ros2 launch crowd_perception crowd_perception.launch.py`` runs for node ``name``.

    As in the launch file: executable and node name from :data:`LAUNCH_NODES`, the namespace, the
    params file, then the overrides (:func:`node_overrides`, written to ``overrides_file`` as
    :func:`overrides_params` gives them), then the input remappings. The overrides go in a params
    file keyed by the node's own name, as launch_ros passes them, not as ``-p name:=value``: rcl
    applies ``/**`` entries before node-specific ones, and ``-p`` joins the params file's ``/**``
    section, so the file's ``/**/<node>`` section would win over it.
    """
    if name not in LAUNCH_NODES:
        raise ValueError(f"unknown node {name!r}; choose from {', '.join(LAUNCH_NODES)}")
    executable, _, inputs = LAUNCH_NODES[name]
    topics = {"image": image_topic, "image/compressed": image_topic + "/compressed", "camera_info": camera_info_topic}
    remappings = [(k, v) for k, v in topics.items() if k.split("/")[0] in inputs]
    command = [python or sys.executable, "-m", EXECUTABLES[executable], "--ros-args",
               "-r", f"__node:={executable}", "-r", f"__ns:=/{namespace.strip('/')}",
               "--params-file", str(config), "--params-file", str(overrides_file)]
    for source, target in remappings:
        command += ["-r", f"{source}:={target}"]
    return command


@dataclass
class NodeExit:
    """How one node process ended."""

    name: str
    returncode: int | None
    seconds: float  # from the stop signal to the exit
    signals: list[str] = field(default_factory=list)  # what it took: ["SIGINT"], or more when it hung

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and self.signals == ["SIGINT"]


def processes_of(graph_id: str) -> list[int]:
    """Ids of the live processes whose environment carries ``graph_id`` (children of the nodes too)."""
    needle = f"{GRAPH_ID_VARIABLE}={graph_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _restore_sigint() -> None:
    # A shell that starts a job in the background (CI, `cmd &`) ignores SIGINT for it, and ignored
    # signals stay ignored across exec: the nodes must get Ctrl-C semantics like in a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class NodeGraph:
    """Node processes of one graph: ``start()``, use, ``stop()`` (also as a context manager).

    ``nodes`` are launch names (``detector``, ``pose2d``, ``pose3d``, ``tracker``,
    ``visualizer``); ``parameters`` maps a launch name to extra overrides. When the pose2d
    or 3D stage is not in the graph, the tracker is told not to wait for its poses. Each node's
    stdout and stderr go to ``<log_dir>/<executable>.log``.
    """

    def __init__(self, nodes: Iterable[str] = STAGES, *, config: str | Path | None = None,
                 namespace: str = "crowd_perception", image_topic: str = "/camera/image_raw",
                 camera_info_topic: str = "/camera/camera_info", backend: str | None = "onnxruntime",
                 parameters: Mapping[str, Mapping[str, Any]] | None = None, domain_id: int | None = None,
                 log_dir: str | Path | None = None) -> None:
        self.nodes = list(dict.fromkeys(nodes))
        unknown = sorted(set(self.nodes) - set(LAUNCH_NODES))
        if unknown:
            raise ValueError(f"unknown nodes {unknown}; choose from {', '.join(LAUNCH_NODES)}")
        self.config = Path(config) if config else default_config_path()
        self.namespace = "/" + namespace.strip("/")
        self.image_topic, self.camera_info_topic = image_topic, camera_info_topic
        self.backend = backend
        self.domain_id = domain_id if domain_id is not None else free_domain_id()
        self.graph_id = uuid.uuid4().hex
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="crowd_perception_graph_"))
        self.parameters = {name: dict((parameters or {}).get(name, {})) for name in self.nodes}
        if "tracker" in self.parameters:
            for stage, flag in (("pose2d", "attach_poses_2d"), ("pose3d", "attach_poses_3d")):
                if stage not in self.nodes:
                    self.parameters["tracker"].setdefault(flag, False)
        self.processes: dict[str, subprocess.Popen] = {}
        self.exits: dict[str, NodeExit] = {}
        self.started_at: float | None = None

    # ------------------------------------------------------------------ names
    def topic(self, relative: str) -> str:
        return f"{self.namespace.rstrip('/')}/{relative}"

    def executable(self, name: str) -> str:
        return LAUNCH_NODES[name][0]

    def node_name(self, name: str) -> str:
        """Fully qualified node name, e.g. ``/crowd_perception/detector_node``."""
        return self.topic(self.executable(name))

    @property
    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(dds_environment(self.domain_id))
        env[GRAPH_ID_VARIABLE] = self.graph_id
        env.setdefault("OMP_NUM_THREADS", "1")
        env["PYTHONUNBUFFERED"] = "1"
        env["RCUTILS_COLORIZED_OUTPUT"] = "0"
        return env

    def overrides_file(self, name: str) -> Path:
        return self.log_dir / f"{self.executable(name)}.overrides.yaml"

    def command(self, name: str) -> list[str]:
        return node_command(name, config=self.config, overrides_file=self.overrides_file(name),
                            namespace=self.namespace, image_topic=self.image_topic,
                            camera_info_topic=self.camera_info_topic)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{self.executable(name)}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # ------------------------------------------------------------------ lifetime
    def start(self) -> NodeGraph:
        if self.processes:
            raise GraphError("graph already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started_at = time.monotonic()
        for name in self.nodes:
            self._spawn(name, "wb")
        return self

    def _spawn(self, name: str, log_mode: str) -> None:
        overrides = node_overrides(name, backend=self.backend, parameters=self.parameters.get(name))
        self.overrides_file(name).write_text(yaml.safe_dump(overrides_params(name, self.namespace, overrides)))
        with open(self.log_dir / f"{self.executable(name)}.log", log_mode) as log:
            self.processes[name] = subprocess.Popen(self.command(name), env=self.environment, stdin=subprocess.DEVNULL,
                                                    stdout=log, stderr=subprocess.STDOUT, preexec_fn=_restore_sigint)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL, timeout_s: float = 10.0) -> NodeExit:
        """Fault injection: send ``sig`` (default SIGKILL: no shutdown, no goodbye to its DDS peers) to
        one node and wait for it to end; the graph carries on without it until :meth:`restart`."""
        process = self.processes[name]
        sent = time.monotonic()
        process.send_signal(sig)
        process.wait(timeout=timeout_s)
        self.exits[name] = NodeExit(name, process.returncode, time.monotonic() - sent, [sig.name])
        return self.exits[name]

    def restart(self, name: str) -> None:
        """Start a node that has ended again, with the same command line (its log is appended to)."""
        if self.processes[name].poll() is None:
            raise GraphError(f"{self.executable(name)} is still running; kill or stop it first")
        self.exits.pop(name, None)
        self._spawn(name, "ab")

    def check_alive(self) -> None:
        """:class:`GraphError` with the node's log when a node process has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None and name not in self.exits:
                tail = "\n".join(self.log(name).strip().splitlines()[-15:])
                raise GraphError(f"{self.executable(name)} exited with code {process.returncode}:\n{tail}")

    def stop(self, timeout_s: float = 10.0) -> dict[str, NodeExit]:
        """SIGINT every node, wait up to ``timeout_s``; a node still running gets SIGTERM, then SIGKILL."""
        pending = {name: p for name, p in self.processes.items() if name not in self.exits}
        sent = time.monotonic()
        for name, process in pending.items():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                self.exits[name] = NodeExit(name, None, 0.0, ["SIGINT"])
            else:
                self.exits[name] = NodeExit(name, process.returncode, 0.0, [])
        for escalation in (None, signal.SIGTERM, signal.SIGKILL):
            deadline = time.monotonic() + (timeout_s if escalation is None else 5.0)
            for name, process in pending.items():
                if escalation is not None and process.poll() is None:
                    if escalation == signal.SIGTERM:  # where it hangs, into its log (run_node's faulthandler)
                        process.send_signal(signal.SIGUSR1)
                        time.sleep(0.2)
                    process.send_signal(escalation)
                    self.exits[name].signals.append(escalation.name)
            for name, process in pending.items():
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    continue
                if self.exits[name].returncode is None:
                    self.exits[name].returncode = process.returncode
                    self.exits[name].seconds = time.monotonic() - sent
            if all(p.poll() is not None for p in pending.values()):
                break
        for name, process in pending.items():
            if self.exits[name].returncode is None:
                self.exits[name].returncode = process.poll()
                self.exits[name].seconds = time.monotonic() - sent
        return dict(self.exits)

    def cleanup(self) -> None:
        """Remove the log folder when this graph made it."""
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> NodeGraph:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()
