"""Frame-locked offline replay of a rosbag2 through the node stages (no ROS needed).

Every image of the input bag goes through the same stages the nodes run
(:class:`crowd_perception.pipeline.Pipeline`), in bag order, one at a time: nothing is dropped for being
late, so the result is deterministic. The output bag holds every input topic unchanged plus our
outputs, each stamped with its image's header (receive time = header stamp). A frame whose
processing fails is written without outputs and counted, with its reason, in the report.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.types import Header
from ..pipeline.pipeline import FrameOutputs, Pipeline
from ..pipeline.stages import camera_for_image
from . import convert
from .bag import HOMOGRAPHY_TYPE, OUTPUT_TOPICS, REPLAY_KEY, BagError, BagReader, BagWriter

__all__ = ["ReplayReport", "replay_bag"]

_LOG = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    """Frame accounting and timing of one replay."""

    input: str
    output: str
    frames: int = 0
    processed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (frame index, reason): undecodable input
    skipped_topics: list[str] = field(default_factory=list)
    undecodable_messages: dict[str, int] = field(default_factory=dict)  # other topics' unreadable messages
    stage_seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    camera_info: dict[str, int] = field(default_factory=dict)  # frames without a usable CameraInfo, by reason
    flagged: dict[str, int] = field(default_factory=dict)  # images the health check answered with no people
    non_finite: dict[str, int] = field(default_factory=dict)  # per stage: frames whose network output was NaN/inf
    unposed: int = 0  # detections the pose stage left without a pose (its max_people per image)
    storage_gaps_s: list[float] = field(default_factory=list)  # lengths of the unreadable (corrupt) stretches
    frames_lost: int = 0  # images the bag states but that could not be read (corrupt storage)
    complete: bool = False  # every input message was read and every frame written
    ended_early: str | None = None  # why reading the input stopped before its end

    @property
    def fps(self) -> float:
        """Frames per second of the whole replay (read, process, write)."""
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def stage_ms(self) -> dict[str, float]:
        return {k: 1000.0 * v / max(self.processed, 1) for k, v in self.stage_seconds.items()}

    def skipped_by_reason(self) -> dict[str, int]:
        """Skipped frames counted by reason (``{"truncated JPEG": 2, ...}``)."""
        return dict(Counter(reason for _, reason in self.skipped))

    def summary(self) -> str:
        stages = ", ".join(f"{k} {v:.1f} ms" for k, v in self.stage_ms().items())
        skipped = ""
        if self.skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped_by_reason().items()))
            skipped = f", {len(self.skipped)} skipped ({reasons})"
        text = (f"{self.frames} frames: {self.processed} processed, {len(self.failed)} failed{skipped}; "
                f"{self.fps:.2f} FPS end to end; per frame: {stages}")
        if self.flagged:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.flagged.items()))
            text += f"\nimages that cannot show anyone (no people reported): {reasons}"
        if any(self.non_finite.values()):
            stages = ", ".join(f"{stage} {n}" for stage, n in sorted(self.non_finite.items()) if n)
            text += f"\nframes with non-finite network output (that stage's result dropped): {stages}"
        if self.unposed:
            text += f"\npeople beyond the pose stage's max_people (published without a pose): {self.unposed}"
        if self.camera_info:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.camera_info.items()))
            text += f"\nframes without a usable CameraInfo: {reasons}"
        if self.storage_gaps_s:
            text += (f"\ncorrupt storage: {len(self.storage_gaps_s)} unreadable stretch(es) skipped "
                     f"({sum(self.storage_gaps_s):.3f} s of the recording); the images the bag's index places "
                     f"there are skipped frames (corrupt storage), {self.frames_lost} images lost")
        if self.ended_early:
            text += f"\ninput ended early: {self.ended_early}"
        return text

    def to_json(self) -> str:
        """What the output bag records about its replay (``metadata.yaml`` custom data).

        Counts only, no timings: a replay's output bag is bit-for-bit repeatable.
        """
        return json.dumps({
            "complete": self.complete, "frames": self.frames, "processed": self.processed,
            "failed": len(self.failed), "skipped": self.skipped_by_reason(), "ended_early": self.ended_early,
            "camera_info": self.camera_info, "frames_lost": self.frames_lost, "flagged": self.flagged,
            "non_finite": self.non_finite, "unposed": self.unposed,
        }, sort_keys=True)


def _outputs_to_messages(outputs: FrameOutputs, header: Header, kit: Any, topics: dict[str, str]) -> dict[str, Any]:
    messages = {}
    if outputs.detections is not None:
        messages[topics["detections"]] = convert.detections_to_msg(outputs.detections, header, kit)
    if outputs.poses_2d is not None:
        messages[topics["poses_2d"]] = convert.poses2d_to_msg(outputs.poses_2d, header, kit)
    if outputs.poses_3d is not None:
        messages[topics["poses_3d"]] = convert.poses3d_to_msg(outputs.poses_3d, header, kit)
    if outputs.tracks is not None:
        messages[topics["tracks"]] = convert.tracks_to_msg(outputs.tracks, header, kit)
    return messages


def replay_bag(input_bag: str | Path, output_bag: str | Path, pipeline: Pipeline, *, image_topic: str | None = None,
               camera_info_topic: str | None = None, storage: str = "mcap", topics: dict[str, str] | None = None,
               on_frame: Callable[[int, FrameOutputs], None] | None = None, strict: bool = False) -> ReplayReport:
    """Run ``pipeline`` on every image of ``input_bag``; write ``output_bag`` (input topics + outputs).

    One output per input image: a frame whose image cannot be decoded (or whose processing fails)
    gets the empty result with its header and is counted by reason (``skipped``, ``failed``); a
    bag whose storage is corrupt part-way ends the replay there (``ended_early``), keeping what was
    written. ``strict`` stops at the first fault instead (``BagError`` or the processing error).
    The output bag keeps the input's custom data and records this report under
    ``crowd_perception.replay`` (``complete: false`` when the replay was interrupted).
    """
    topics = topics or OUTPUT_TOPICS
    report = ReplayReport(str(input_bag), str(output_bag))
    started = time.perf_counter()
    with BagReader(input_bag) as reader, BagWriter(output_bag, storage=storage) as writer:
        for key, value in reader.custom_data().items():
            writer.set_custom_data(key, value)
        try:
            _replay_frames(reader, writer, pipeline, report, topics, image_topic, camera_info_topic, on_frame, strict)
        finally:
            report.wall_seconds = time.perf_counter() - started
            writer.set_custom_data(REPLAY_KEY, report.to_json())
    return report


def _replay_frames(reader: BagReader, writer: BagWriter, pipeline: Pipeline, report: ReplayReport,
                   topics: dict[str, str], image_topic: str | None, camera_info_topic: str | None,
                   on_frame: Callable[[int, FrameOutputs], None] | None, strict: bool) -> None:
    image_topic = reader.image_topic(image_topic)  # a bag without it is an error, not a replay that "ends early"
    ours = set(topics.values())
    copied = set()
    for connection in reader.connections:
        if connection.topic in ours or (not connection.digest and connection.msgtype not in writer.kit.store.types):
            report.skipped_topics.append(connection.topic)  # replaced by this replay, or undescribable
            continue
        if connection.topic not in copied:
            writer.copy_connection(connection)
            copied.add(connection.topic)
    try:
        for connection, timestamp, raw in reader.raw_messages(strict=strict):
            if connection.topic in copied:
                writer.write_raw(connection.topic, raw, timestamp)
        frames = reader.frames(image_topic, camera_info_topic, strict=strict)
        for frame in frames:
            report.frames += 1
            homography = _homography(frame, strict)
            if frame.image is None:  # undecodable: ``fault`` says why
                report.skipped.append((frame.index, frame.fault or "undecodable image"))
                _LOG.warning("frame %d (stamp %d) skipped: %s", frame.index, frame.header.stamp_ns, frame.fault_detail)
                outputs = pipeline.run_empty(frame.header.stamp_ns, homography)
            else:
                if pipeline.pose3d is not None:
                    _count_camera(report, frame, pipeline.pose3d.config.require_camera_info)
                try:
                    outputs = pipeline.run(frame.image, frame.header.stamp_ns, frame.camera, homography)
                except Exception as exc:  # counted, the replay goes on: one output per frame
                    if strict:
                        raise
                    report.failed.append((frame.index, f"{type(exc).__name__}: {exc}"))
                    _LOG.warning("frame %d (stamp %d) failed: %s", frame.index, frame.header.stamp_ns, exc)
                    outputs = pipeline.run_empty(frame.header.stamp_ns)
                else:
                    for name, seconds in outputs.seconds.items():
                        report.stage_seconds[name] = report.stage_seconds.get(name, 0.0) + seconds
                    report.processed += 1
            for topic, msg in _outputs_to_messages(outputs, frame.header, writer.kit, topics).items():
                writer.write(topic, msg, frame.header.stamp_ns)
            if on_frame is not None and frame.fault is None:
                on_frame(frame.index, outputs)
    except BagError as exc:
        if strict:
            raise
        report.ended_early = str(exc)  # storage corruption: what was read is written, the rest is lost
    report.undecodable_messages = dict(getattr(reader, "undecodable", {}))
    stage = pipeline.detector or pipeline.pose3d  # both check the same image: count it once
    report.flagged = dict(getattr(stage, "flagged", {}) or {})
    report.non_finite = {name: stage.non_finite for name, stage in
                         (("detector", pipeline.detector), ("pose2d", pipeline.pose2d), ("pose3d", pipeline.pose3d))
                         if stage is not None}
    report.unposed = pipeline.pose2d.unposed if pipeline.pose2d is not None else 0
    gaps = sorted({(start, end) for start, end, _ in getattr(reader, "corrupt", [])})
    report.storage_gaps_s = [round((end - start) * 1e-9, 3) for start, end in gaps]
    stated = sum(getattr(c, "msgcount", 0) or 0 for c in reader.connections if c.topic == image_topic)
    report.frames_lost = max(stated - report.frames, 0) if stated else 0
    report.complete = report.ended_early is None and report.frames_lost == 0


def _count_camera(report: ReplayReport, frame: Any, required: bool) -> None:
    """Count (and warn about) a frame whose CameraInfo is missing, invalid or for another image size."""
    width, height = frame.size
    camera, reason = camera_for_image(frame.camera, width, height)
    if camera is not None:
        return
    key = "invalid CameraInfo" if frame.camera_error else ("no CameraInfo" if frame.camera_info_msg is None
                                                            else "CameraInfo for another image size")
    if report.camera_info.get(key, 0) == 0:
        action = "3D poses skipped (require_camera_info)" if required else "3D poses root-relative only"
        _LOG.warning("frame %d: %s: %s; %s", frame.index, key, frame.camera_error or reason, action)
    report.camera_info[key] = report.camera_info.get(key, 0) + 1


def _homography(frame: Any, strict: bool) -> np.ndarray | None:
    """The frame's Homography message as a matrix; an invalid one is ignored (with a warning) unless strict."""
    for msg in frame.messages.values():
        if type(msg).__msgtype__ == HOMOGRAPHY_TYPE:
            try:
                return convert.homography_from_msg(msg)[1]
            except ValueError as exc:
                if strict:
                    raise BagError(f"frame {frame.index}: {exc}") from exc
                _LOG.warning("frame %d: %s; ignored", frame.index, exc)
    return None
