"""rosbag2 input/output without ROS (rosbags): frames of images + camera info + our messages.

Reading groups every message by the ``header.stamp`` of the image it belongs to (our outputs and
ground truth carry the image header), so a frame is "one image and everything about it",
whatever the recording order. Writing produces rosbag2 format 8 bags (mcap or sqlite3) with the
full message definitions and QoS metadata that ``ros2 bag play`` (Iron/Jazzy; on Humble run
``ros2 bag reindex`` first) and Foxglove need.

Ground truth of a :class:`~crowd_perception.core.annotations.FrameAnnotation` is stored in our
own messages (conventions of this module, documented in the README):

* ``/ground_truth/detections`` (``DetectionArray``): full and visible boxes; ``score`` = the
  person's visible fraction (NaN when unknown).
* ``/ground_truth/tracks`` (``TrackArray``): ``id`` = person id + 1 (0 = unknown id), state
  CONFIRMED, the 2D pose (keypoints + joint states, score 1 where labelled) and the 3D pose
  (camera-frame joints; root-relative joints) attached to every track.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.camera import PinholeCamera
from ..core.errors import CrowdPerceptionError
from ..core.skeletons import get_skeleton
from ..core.types import Detections, Header, Poses2D, Poses3D, Tracks, TrackState
from . import convert
from .kit import RosbagsKit
from .messages import PACKAGE

__all__ = [
    "IMAGE_TOPIC",
    "CAMERA_INFO_TOPIC",
    "GT_DETECTIONS_TOPIC",
    "GT_TRACKS_TOPIC",
    "OUTPUT_TOPICS",
    "REPLAY_KEY",
    "HOMOGRAPHY_TYPE",
    "BagError",
    "BagFrame",
    "BagReader",
    "BagWriter",
    "annotation_to_messages",
    "annotation_from_messages",
    "write_synthetic_bag",
]

_LOG = logging.getLogger(__name__)
IMAGE_TOPIC = "/camera/image_raw"
CAMERA_INFO_TOPIC = "/camera/camera_info"
GT_DETECTIONS_TOPIC = "/ground_truth/detections"
GT_TRACKS_TOPIC = "/ground_truth/tracks"
# the stack's outputs (default topic names of the nodes, in the root namespace)
OUTPUT_TOPICS = {
    "detections": "/crowd_perception/detections",
    "poses_2d": "/crowd_perception/poses_2d",
    "poses_3d": "/crowd_perception/poses_3d",
    "tracks": "/crowd_perception/tracks",
}
IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
HOMOGRAPHY_TYPE = "crowd_perception/msg/Homography"
SEQUENCES_KEY = "crowd_perception.frames"  # bag custom data: stamp -> [sequence, frame index, domain]
REPLAY_KEY = "crowd_perception.replay"  # bag custom data of a replay's output: its report (JSON)


class BagError(CrowdPerceptionError, RuntimeError):
    """A bag that cannot be read or written (missing, corrupt, truncated, wrong topics)."""


def _qos(reliable: bool, depth: int):
    from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

    zero = QosTime(0, 0)
    return Qos(
        QosHistory.KEEP_LAST,
        depth,
        QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
        QosDurability.VOLATILE,
        zero,
        zero,
        QosLiveliness.AUTOMATIC,
        zero,
        False,
    )


# ------------------------------------------------------------------------------------ writing


class BagWriter:
    """Writes messages (rosbags classes) to a new rosbag2 folder; topics are added on first use.

    Sensor topics (Image, CompressedImage, CameraInfo) are recorded with the sensor-data QoS
    (best effort, depth 5), everything else reliable with depth 10, which is what ``ros2 bag
    play`` will offer again.
    """

    def __init__(self, path: str | Path, storage: str = "mcap", distro: str = "jazzy") -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        plugins = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
        if storage not in plugins:
            raise ValueError(f"unknown bag storage {storage!r}; expected 'mcap' or 'sqlite3'")
        self.path = Path(path)
        if self.path.exists():
            raise BagError(f"{self.path} exists already; rosbag2 writers never overwrite")
        self.kit = RosbagsKit(distro)
        self._writer = Writer(self.path, version=8, storage_plugin=plugins[storage])
        self._connections: dict[str, Any] = {}
        self._custom: dict[str, str] = {}

    def __enter__(self) -> BagWriter:
        self._writer.open()
        _write_chunk_crcs(self._writer.storage)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        for key, value in self._custom.items():
            self._writer.set_custom_data(key, value)
        self._writer.close()

    def set_custom_data(self, key: str, value: str) -> None:
        """A key/value string stored in ``metadata.yaml`` (written on close)."""
        self._custom[key] = value

    def copy_connection(self, connection: Any) -> None:
        """Add an input bag's topic unchanged: its type, definition, hash, serialization and QoS."""
        if connection.topic in self._connections:
            raise BagError(f"topic {connection.topic} is already in {self.path}")
        self._connections[connection.topic] = self._writer.add_connection(
            connection.topic,
            connection.msgtype,
            msgdef=connection.msgdef.data,
            rihs01=connection.digest or self.kit.store.hash_rihs01(connection.msgtype),
            serialization_format=connection.ext.serialization_format,
            offered_qos_profiles=connection.ext.offered_qos_profiles,
        )

    def write_raw(self, topic: str, data: bytes, stamp_ns: int) -> None:
        """Write already serialised bytes to a topic added by :meth:`copy_connection`."""
        self._writer.write(self._connections[topic], int(stamp_ns), data)

    def write(self, topic: str, msg: Any, stamp_ns: int) -> None:
        """Serialise ``msg`` (CDR) onto ``topic`` with receive time ``stamp_ns``."""
        typename = type(msg).__msgtype__
        connection = self._connections.get(topic)
        if connection is None:
            sensor = typename in (*IMAGE_TYPES, CAMERA_INFO_TYPE)
            connection = self._writer.add_connection(
                topic,
                typename,
                typestore=self.kit.store,
                offered_qos_profiles=[_qos(reliable=not sensor, depth=5 if sensor else 10)],
            )
            self._connections[topic] = connection
        elif connection.msgtype != typename:
            raise BagError(f"topic {topic} has type {connection.msgtype}, cannot write a {typename}")
        self._writer.write(connection, int(stamp_ns), self.kit.store.serialize_cdr(msg, typename))


def _write_chunk_crcs(storage: Any) -> None:
    """Make rosbags' mcap writer fill in each chunk's CRC-32 (it writes 0, "not computed"), so that a
    reader detects payload corruption instead of replaying damaged bytes.

    The chunk record is opcode (1 byte), record length (8), message start and end time and
    uncompressed size (3 x 8), then the uncompressed CRC (4): the CRC is patched in place after the
    chunk is written. Writers without that structure (sqlite3, other rosbags versions) are left alone.
    """
    chunk = getattr(storage, "chunk", None)
    close_chunk, bio = getattr(storage, "close_chunk", None), getattr(storage, "bio", None)
    if chunk is None or close_chunk is None or bio is None or not hasattr(chunk, "bio") or not bio.seekable():
        return

    def close_chunk_with_crc() -> None:
        crc = zlib.crc32(storage.chunk.bio.getvalue())
        start = bio.tell()
        close_chunk()
        end = bio.tell()
        bio.seek(start + 1 + 8 + 24)
        bio.write(struct.pack("<I", crc))
        bio.seek(end)

    storage.close_chunk = close_chunk_with_crc


# ------------------------------------------------------------------------------------ reading


@dataclass
class BagFrame:
    """One image of a bag and every other message stamped with its header.

    ``messages`` maps topic -> deserialised message (rosbags classes); ``camera`` is the latest
    valid CameraInfo at or before this stamp (None when there is none, or it is invalid, then
    ``camera_error`` says why).
    """

    index: int
    header: Header
    image: np.ndarray | None
    image_topic: str
    image_msg: Any
    camera: PinholeCamera | None = None
    camera_info_msg: Any = None
    camera_error: str | None = None
    messages: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None  # why ``image`` is None: a short reason key ("malformed image", "truncated JPEG", ...)
    fault_detail: str | None = None  # the full message

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the image, or the size its message states when it could not be decoded."""
        if self.image is not None:
            return self.image.shape[1], self.image.shape[0]
        return int(getattr(self.image_msg, "width", 0) or 0), int(getattr(self.image_msg, "height", 0) or 0)


class BagReader:
    """Reads a rosbag2 folder (mcap or sqlite3, with ``metadata.yaml``) or a bare ``.mcap``/``.db3`` file."""

    def __init__(self, path: str | Path, distro: str = "jazzy") -> None:
        from rosbags.rosbag2 import Reader

        self.path = Path(path)
        self.kit = RosbagsKit(distro)
        self.corrupt: list[tuple[int, int, str]] = []  # (from, to, why): receive-time windows skipped as unreadable
        self.undecodable: dict[str, int] = {}
        self._indexed_times: list[int] | None = None  # image receive times from the mcap summary (read on demand)
        try:
            self._reader = Reader(self.path)
            self._reader.open()
        except FileNotFoundError as exc:
            if self.path.exists():  # a folder without metadata.yaml, or a file of another kind
                raise BagError(f"{self.path} is not a rosbag2 ({exc})") from exc
            raise BagError(f"bag {self.path} does not exist") from exc
        except Exception as exc:  # rosbags raises several types for broken storage
            raise BagError(f"cannot open bag {self.path}: {type(exc).__name__}: {exc}") from exc

    def __enter__(self) -> BagReader:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def close(self) -> None:
        if self._reader.is_open:
            self._reader.close()

    @property
    def topics(self) -> dict[str, str]:
        """``{topic: message type}``."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    def custom_data(self) -> dict[str, str]:
        """The bag's custom data (``metadata.yaml``), empty when it has none."""
        metadata = getattr(self._reader.storage, "metadata", None)
        custom = getattr(metadata, "custom", None) if metadata is not None else None
        if not custom:
            custom = getattr(self._reader, "custom_data", None)
        return {str(k): str(v) for k, v in (custom or {}).items()}

    def replay_info(self) -> dict[str, Any] | None:
        """What :func:`~crowd_perception.ros.replay.replay_bag` recorded about the replay that wrote this bag."""
        raw = self.custom_data().get(REPLAY_KEY)
        return json.loads(raw) if raw else None

    def frame_labels(self) -> dict[int, tuple[str, int, str]]:
        """``{stamp: (sequence, frame index, domain)}`` stored by :func:`write_synthetic_bag` (else empty)."""
        raw = self.custom_data().get(SEQUENCES_KEY)
        if not raw:
            return {}
        return {int(stamp): (str(seq), int(index), str(domain)) for stamp, (seq, index, domain) in json.loads(raw).items()}

    @property
    def message_count(self) -> int:
        return self._reader.message_count

    def _raw(self, connections: list[Any] | None, strict: bool) -> Iterator[tuple[Any, int, bytes]]:
        """Undecoded ``(connection, receive time, bytes)``; storage corruption (a chunk whose CRC or
        compression fails) is a BagError, or with ``strict=False`` skipped: reading resumes at the
        earliest later time that reads again, and the skipped window is recorded in :attr:`corrupt`.
        """
        selected = connections or []  # rosbags reads every connection when given none
        start: int | None = None
        while True:
            last = None
            try:
                for connection, timestamp, raw in self._reader.messages(selected, start=start):
                    last = timestamp
                    yield connection, timestamp, raw
                return
            except Exception as exc:
                error = BagError(f"bag {self.path} is corrupt or truncated: {type(exc).__name__}: {exc}")
                if strict:
                    raise error from exc
                failed_at = last + 1 if last is not None else (start if start is not None else self._reader.start_time)
                resume = self._resume_after(failed_at, selected)
                if resume is None:  # nothing readable after the damage: the end of what can be read
                    self.corrupt.append((failed_at, self._reader.end_time, str(exc)))
                    _LOG.warning("%s; nothing readable after %d ns", error, failed_at)
                    return
                self.corrupt.append((failed_at, resume, str(exc)))
                _LOG.warning("%s; skipped %.3f s of the recording", error, (resume - failed_at) * 1e-9)
                start = resume

    def _resume_after(self, failed_at: int, connections: list[Any]) -> int | None:
        """The earliest time (to ~1 ms) after ``failed_at`` from which the bag reads again, or None."""

        def reads(start: int) -> bool:
            try:
                for _ in self._reader.messages(connections, start=start):
                    return True
                return True  # nothing left, but nothing broken
            except Exception:
                return False

        end = self._reader.end_time
        step, bad = 1_000_000, failed_at
        good = None
        while bad + step <= end:
            if reads(bad + step):
                good = bad + step
                break
            bad, step = bad + step, step * 4
        if good is None:
            return None
        while good - bad > 1_000_000:
            middle = (good + bad) // 2
            bad, good = (bad, middle) if reads(middle) else (middle, good)
        return good

    def _messages(self, connections, strict: bool = True) -> Iterator[tuple[str, str, int, Any]]:
        """Deserialised messages; with ``strict=False`` a message that does not deserialise is
        yielded as an :class:`_Undecodable`, and corrupt storage is skipped (see :meth:`_raw`)."""
        if not connections:  # rosbags reads every topic when given none
            return
        for connection, timestamp, raw in self._raw(connections, strict):
            try:
                msg = self._deserialize(raw, connection.msgtype)
            except BagError:
                raise
            except Exception as exc:
                if strict:
                    raise BagError(f"bag {self.path}, {connection.topic} at {timestamp} ns: cannot deserialise "
                                   f"the message: {type(exc).__name__}: {exc}") from exc
                msg = _Undecodable(f"{type(exc).__name__}: {exc}", len(raw))
            yield connection.topic, connection.msgtype, timestamp, msg

    def _deserialize(self, raw: bytes, msgtype: str) -> Any:
        if msgtype not in self.kit.store.types:
            raise BagError(f"bag {self.path}: message type {msgtype} is unknown to our typestore")
        return self.kit.store.deserialize_cdr(raw, msgtype)

    def image_topic(self, preferred: str | None = None) -> str:
        """The image topic to read: ``preferred``, else the only image topic, else ``/camera/image_raw``."""
        images = sorted(t for t, typ in self.topics.items() if typ in IMAGE_TYPES)
        if preferred is not None:
            if preferred not in images:
                raise BagError(f"bag {self.path} has no image topic {preferred!r}; image topics: {images}")
            return preferred
        if len(images) == 1:
            return images[0]
        if IMAGE_TOPIC in images:
            return IMAGE_TOPIC
        raise BagError(f"bag {self.path}: choose an image topic among {images}" if images else
                       f"bag {self.path} has no sensor_msgs/Image or CompressedImage topic")

    @property
    def connections(self) -> list[Any]:
        return list(self._reader.connections)

    def raw_messages(self, strict: bool = True) -> Iterator[tuple[Any, int, bytes]]:
        """Every message undecoded, in bag order: ``(connection, receive time ns, bytes)``."""
        yield from self._raw(None, strict)

    def read(self, topic: str) -> Iterator[tuple[int, Any]]:
        """``(receive time ns, message)`` of one topic, in bag order."""
        connections = [c for c in self._reader.connections if c.topic == topic]
        for _, _, timestamp, msg in self._messages(connections):
            yield timestamp, msg

    def frames(self, image_topic: str | None = None, camera_info_topic: str | None = None,
               strict: bool = False) -> Iterator[BagFrame]:
        """Every image of ``image_topic`` in bag order, with the messages that carry its stamp.

        CameraInfo and our own topics are read first (they are small) and indexed by header
        stamp; then the images are streamed. Other topics (lidar, vendor types) are not read;
        messages whose stamp matches no image are not attached. An image that cannot be decoded
        (malformed, truncated, unsupported) is still a frame: ``image`` is None and ``fault`` says
        why (its stamp is the message's, or the receive time when the message itself is
        unreadable); with ``strict`` it is a :class:`BagError` instead. Other messages that do not
        deserialise are counted in :attr:`undecodable`.
        """
        image_topic = self.image_topic(image_topic)
        info_topics = sorted(t for t, typ in self.topics.items() if typ == CAMERA_INFO_TYPE)
        if camera_info_topic is None:
            camera_info_topic = info_topics[0] if len(info_topics) == 1 else CAMERA_INFO_TOPIC
        # only what a frame needs: CameraInfo and our messages (other sensors may be large or of unknown types)
        others = [c for c in self._reader.connections
                  if c.msgtype == CAMERA_INFO_TYPE or c.msgtype.startswith(f"{PACKAGE}/")]
        stamped: dict[int, dict[str, Any]] = defaultdict(dict)
        camera_infos: list[tuple[int, Any]] = []
        for topic, msgtype, _, msg in self._messages(others, strict):
            if isinstance(msg, _Undecodable):
                self.undecodable[topic] = self.undecodable.get(topic, 0) + 1
                continue
            if not hasattr(msg, "header"):
                continue
            stamp = convert.header_from_msg(msg.header).stamp_ns
            if topic == camera_info_topic and msgtype == CAMERA_INFO_TYPE:
                camera_infos.append((stamp, msg))
            else:
                stamped[stamp][topic] = msg
        camera_infos.sort(key=lambda item: item[0])
        info_stamps = [s for s, _ in camera_infos]
        image_connections = [c for c in self._reader.connections if c.topic == image_topic]
        for index, (msgtype, timestamp, msg) in enumerate(self._images(image_connections, strict)):
            if isinstance(msg, _Lost):
                frame = BagFrame(index, Header(int(timestamp), ""), None, image_topic, None,
                                 fault="corrupt storage", fault_detail=msg.reason)
            elif isinstance(msg, _Undecodable):
                frame = BagFrame(index, Header(int(timestamp), ""), None, image_topic, None,
                                 fault="undeserialisable message", fault_detail=msg.reason)
            else:
                header = convert.header_from_msg(msg.header)
                frame = BagFrame(index, header, None, image_topic, msg, messages=stamped.get(header.stamp_ns, {}))
                try:
                    decode = convert.image_from_msg if msgtype == IMAGE_TYPES[0] else convert.compressed_image_from_msg
                    frame.image = decode(msg)
                except ValueError as exc:
                    if strict:
                        raise BagError(f"bag {self.path}, {image_topic} message {index}: {exc}") from exc
                    frame.fault = getattr(exc, "reason", "undecodable image")
                    frame.fault_detail = str(exc)
            if frame.fault is not None and strict:
                raise BagError(f"bag {self.path}, {image_topic} message {index}: {frame.fault_detail}")
            position = int(np.searchsorted(info_stamps, frame.header.stamp_ns, side="right")) - 1
            if position >= 0:
                frame.camera_info_msg = camera_infos[position][1]
                try:
                    frame.camera = convert.camera_from_msg(frame.camera_info_msg)
                except ValueError as exc:
                    frame.camera_error = str(exc)
            yield frame


    def _images(self, connections: list, strict: bool) -> Iterator[tuple[str, int, Any]]:
        """``(type, receive time, message)`` of the image topic in bag order, with a :class:`_Lost`
        stand-in, at its logged receive time, for every image inside a stretch skipped as corrupt
        storage that the mcap summary indexes (so a corrupt chunk still gives one frame per image)."""
        seen = len(self.corrupt)
        for _, msgtype, timestamp, msg in self._messages(connections, strict):
            if len(self.corrupt) > seen:
                yield from self._lost_images(connections, self.corrupt[seen:])
                seen = len(self.corrupt)
            yield msgtype, timestamp, msg
        if len(self.corrupt) > seen:
            yield from self._lost_images(connections, self.corrupt[seen:], to_end=True)

    def _lost_images(self, connections: list, windows: list[tuple[int, int, str]],
                     to_end: bool = False) -> Iterator[tuple[str, int, Any]]:
        from .mcap_index import message_times

        if self._indexed_times is None:
            self._indexed_times = message_times(self.path, {c.topic for c in connections}) or []
        msgtype = connections[0].msgtype
        for number, (start, end, why) in enumerate(windows):
            last = to_end and number == len(windows) - 1  # the tail window includes the bag's end time
            for stamp in self._indexed_times:
                if start <= stamp < end or (last and stamp == end):
                    yield msgtype, stamp, _Lost(f"image at receive time {stamp} ns is in corrupt storage ({why}); "
                                                "its header is unknown, the receive time stands in for its stamp")


@dataclass(frozen=True)
class _Lost:
    """Stands in for an image the bag's index states but whose storage is corrupt."""

    reason: str


@dataclass(frozen=True)
class _Undecodable:
    """Stands in for a message whose bytes do not deserialise (tolerant reading)."""

    reason: str
    size: int


# ------------------------------------------------------------------------------ ground truth


def annotation_to_messages(annotation: FrameAnnotation, header: Header, kit: RosbagsKit) -> dict[str, Any]:
    """Ground-truth messages of one image (see the module docstring for the conventions)."""
    persons = annotation.persons
    detections = Detections(persons.boxes, persons.visible_fractions, visible_boxes=persons.visible_boxes)
    labelled = np.isfinite(persons.keypoints).all(axis=-1)
    poses_2d = Poses2D(persons.skeleton, persons.keypoints, scores=labelled.astype(np.float32),
                       states=persons.keypoint_states, boxes=persons.boxes, person_scores=np.ones(len(persons)))
    root = get_skeleton(persons.skeleton).root
    relative = persons.joints_3d - persons.joints_3d[:, root : root + 1] if root is not None else persons.joints_3d
    poses_3d = Poses3D(persons.skeleton, relative, joints_camera=persons.joints_3d,
                       scores=np.isfinite(persons.joints_3d).all(axis=-1).astype(np.float32), boxes=persons.boxes,
                       person_scores=np.ones(len(persons)),
                       placed_with_intrinsics=np.full(len(persons), annotation.camera is not None))
    tracks = Tracks(
        ids=persons.ids + 1,
        states=np.full(len(persons), TrackState.CONFIRMED),
        boxes=persons.boxes,
        scores=np.ones(len(persons)),
        poses_2d=poses_2d,
        poses_3d=poses_3d,
    )
    return {
        GT_DETECTIONS_TOPIC: convert.detections_to_msg(detections, header, kit),
        GT_TRACKS_TOPIC: convert.tracks_to_msg(tracks, header, kit),
    }


def annotation_from_messages(frame: BagFrame, labels: dict[int, tuple[str, int, str]] | None = None
                             ) -> FrameAnnotation | None:
    """The ground truth attached to a bag frame, or None when the bag has none for it.

    ``labels`` (:meth:`BagReader.frame_labels`) restores sequence name, frame index and domain.
    """
    if GT_DETECTIONS_TOPIC not in frame.messages or GT_TRACKS_TOPIC not in frame.messages:
        return None
    _, detections = convert.detections_from_msg(frame.messages[GT_DETECTIONS_TOPIC])
    _, tracks = convert.tracks_from_msg(frame.messages[GT_TRACKS_TOPIC])
    if len(tracks) != len(detections):
        raise BagError(f"frame {frame.index}: {len(detections)} ground-truth detections but {len(tracks)} tracks")
    skeleton = tracks.poses_2d.skeleton if tracks.poses_2d is not None else "body22"
    joints_3d = tracks.poses_3d.joints_camera if tracks.poses_3d is not None else None
    root = get_skeleton(skeleton).root
    distances = np.linalg.norm(joints_3d[:, root], axis=-1) if joints_3d is not None and root is not None else None
    persons = PersonAnnotations(
        skeleton,
        detections.boxes,
        visible_boxes=detections.visible_boxes,
        ids=tracks.ids - 1,
        keypoints=tracks.poses_2d.keypoints if tracks.poses_2d is not None else None,
        keypoint_states=tracks.poses_2d.states if tracks.poses_2d is not None else None,
        joints_3d=joints_3d,
        distances=distances,
        visible_fractions=detections.scores,
    )
    width, height = frame.size
    sequence, index, domain = (labels or {}).get(frame.header.stamp_ns, ("", frame.index, ""))
    return FrameAnnotation(
        image_id=f"{sequence}/{index:06d}" if sequence else str(frame.header.stamp_ns),
        width=width,
        height=height,
        persons=persons,
        camera=frame.camera,
        stamp_ns=frame.header.stamp_ns,
        sequence=sequence,
        frame_index=index,
        domain=domain,
    )


def write_synthetic_bag(samples: Iterable[Any], path: str | Path, storage: str = "mcap",
                        frame_id: str = "camera_optical_frame", distro: str = "jazzy") -> int:
    """Write synth ``Sample`` s (``.image`` BGR, ``.annotation`` FrameAnnotation) as a bag.

    Per sample: ``/camera/image_raw`` (bgr8), ``/camera/camera_info`` (when the annotation has a
    camera) and the ground-truth topics, all with the sample's stamp as header stamp and
    receive time. Stamps must increase strictly (frames are matched by stamp when reading).
    Returns the number of frames written.
    """
    count = 0
    last_stamp = None
    frames: dict[str, list] = {}
    with BagWriter(path, storage=storage, distro=distro) as bag:
        for sample in samples:
            annotation = sample.annotation
            stamp = int(annotation.stamp_ns)
            if last_stamp is not None and stamp <= last_stamp:
                raise ValueError(f"sample {count} ({annotation.image_id}): stamp {stamp} does not increase "
                                 f"(previous {last_stamp}); frames are matched by stamp")
            header = Header(stamp, frame_id)
            bag.write(IMAGE_TOPIC, convert.image_to_msg(sample.image, header, bag.kit), stamp)
            if annotation.camera is not None:
                bag.write(CAMERA_INFO_TOPIC, convert.camera_to_msg(annotation.camera, header, bag.kit), stamp)
            for topic, msg in annotation_to_messages(annotation, header, bag.kit).items():
                bag.write(topic, msg, stamp)
            frames[str(stamp)] = [annotation.sequence, annotation.frame_index, annotation.domain]
            last_stamp, count = stamp, count + 1
        bag.set_custom_data(SEQUENCES_KEY, json.dumps(frames))
    return count
