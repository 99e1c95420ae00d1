"""``crowd-perception hardening-probe``: feed the command line and the libraries a list of faulty
inputs, as a new user would, and tabulate what each one does.

Every case runs the real code path (the CLI in-process, or the library call a user makes) and is
classified by what it *observably* did:

* **clean error** - exit code 1 and exactly one line ``error: ...`` on stderr, no traceback;
* **skipped and counted** - the run went on, the faulty frames were written with the empty result
  and counted by reason (replay summary / bag custom data / counters);
* **handled** - the input was usable after all (converted, matched, dropped and counted) and the
  result is what it should be;
* **crash** - a traceback (an exception that is not a named error);
* **silently wrong** - the run "succeeded" but the fault went unnoticed (no error, no count), or
  the result is not what the case expects.

``frames lost`` counts input images without an output message in replay cases. The figures in
docs/RESULTS.md come from ``crowd-perception hardening-probe --results``. The probe lives with the
command line (it runs it in-process), above every area it exercises.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.errors import CrowdPerceptionError
from ..core.types import Detections, Header
from ..ros import convert
from ..ros.bag import CAMERA_INFO_TOPIC, IMAGE_TOPIC, OUTPUT_TOPICS, BagReader, BagWriter
from ..utils.commands import Command

__all__ = ["OUTCOMES", "Outcome", "run_probe", "results_markdown"]

OUTCOMES = ("clean error", "skipped and counted", "handled", "crash", "silently wrong")


@dataclass
class Outcome:
    group: str
    case: str
    outcome: str
    frames_in: int | None = None
    frames_out: int | None = None
    detail: str = ""

    @property
    def frames_lost(self) -> int | None:
        if self.frames_in is None or self.frames_out is None:
            return None
        return max(self.frames_in - self.frames_out, 0)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from . import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def _error_outcome(code: int, err: str) -> tuple[str, str]:
    """Classify a run that should end with one clean error line."""
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("WARNING", "INFO", "DEBUG"))]
    if "Traceback" in err:
        return "crash", lines[-1] if lines else ""
    if code != 0 and len(lines) == 1 and lines[0].startswith("error: "):
        return "clean error", lines[0][7:]
    if code == 0:
        return "silently wrong", "exit code 0"
    return "crash", " / ".join(lines)[:120]


# ------------------------------------------------------------------------------ inputs


def _frames(n: int = 6, seed: int = 0, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """Smooth random scenes (not pixel noise, which the image-health check flags)."""
    rng = np.random.default_rng(seed)
    coarse = (max(size[1] // 8, 2), max(size[0] // 8, 2), 3)
    return [cv2.resize(rng.integers(0, 256, coarse, dtype=np.uint8), size, interpolation=cv2.INTER_LINEAR)
            for _ in range(n)]


def _bag(path: Path, damage: dict[int, str] | None = None, compressed: bool = False, n: int = 6,
         homography: bool = False) -> Path:
    """A small bag of ``n`` frames; frame ``i`` damaged as ``damage[i]`` says."""
    from ..core.camera import PinholeCamera

    damage = damage or {}
    camera = PinholeCamera.from_fov(64, 48, 60.0)
    with BagWriter(path) as bag:
        for i, image in enumerate(_frames(n)):
            stamp = 1_000_000_000 + i * 100_000_000
            header = Header(stamp, "cam")
            kind = damage.get(i)
            if compressed:
                msg = convert.compressed_image_to_msg(image, header, bag.kit, "jpeg")
                if kind == "truncated JPEG":
                    msg.data = msg.data[: len(msg.data) // 2]
                elif kind == "empty CompressedImage":
                    msg.data = msg.data[:0]
                elif kind == "garbage bytes":
                    msg.data = np.frombuffer(b"\x00" * 64, dtype=np.uint8)
                bag.write(IMAGE_TOPIC + "/compressed", msg, stamp)
            else:
                msg = convert.image_to_msg(image, header, bag.kit)
                if kind == "short data":
                    msg.data = msg.data[:-10]
                elif kind == "zero size":
                    msg.height = msg.width = 0
                elif kind in ("mono16", "16UC1"):
                    msg.encoding, msg.step = kind, 128
                    msg.data = np.frombuffer((image[..., 1].astype("<u2") << 8).tobytes(), dtype=np.uint8)
                elif kind in ("bayer_rggb8",):
                    msg.encoding, msg.step = kind, 64
                    msg.data = np.ascontiguousarray(image[..., 1]).reshape(-1)
                elif kind == "yuv422":
                    msg.encoding, msg.step = kind, 128
                    msg.data = np.ascontiguousarray(image[..., :2]).reshape(-1)
                elif kind == "32FC1":
                    msg.encoding = kind
                bag.write(IMAGE_TOPIC, msg, stamp)
            bag.write(CAMERA_INFO_TOPIC, convert.camera_to_msg(camera, header, bag.kit), stamp)
            if homography:
                matrix = np.zeros((3, 3)) if i == 2 else np.eye(3)
                bag.write("/camera/homography", bag.kit.make(
                    "crowd_perception/msg/Homography", header=convert.header_to_msg(header, bag.kit),
                    matrix=bag.kit.fixed(matrix, np.float64)), stamp)
    return path


def _outputs(path: Path) -> int:
    with BagReader(path) as reader:
        return sum(1 for _ in reader.read(OUTPUT_TOPICS["detections"]))


# ------------------------------------------------------------------------------ cases


class _Probe:
    def __init__(self, tmp: Path, config: Path | None) -> None:
        self.tmp = tmp
        self.config = config
        self.count = 0

    def path(self, name: str) -> Path:
        self.count += 1
        return self.tmp / f"{self.count:02d}_{name}"

    def replay_args(self, bag: Path, out: Path, *extra: str) -> list[str]:
        args = ["replay", "--bag", str(bag), "--out", str(out), *extra]
        return args + (["--config", str(self.config)] if self.config else [])

    # --- bags and frames through replay
    def replay_error(self, group: str, case: str, bag: Path, *extra: str, out: Path | None = None) -> Outcome:
        code, _, err = _cli(self.replay_args(bag, out or self.path("out"), *extra))
        outcome, detail = _error_outcome(code, err)
        return Outcome(group, case, outcome, detail=detail)

    def replay_frames(self, group: str, case: str, bag: Path, expect: str, n: int = 6) -> Outcome:
        out = self.path("out")
        code, stdout, err = _cli(self.replay_args(bag, out))
        if "Traceback" in err:
            return Outcome(group, case, "crash", n, None, err.strip().splitlines()[-1])
        if not out.exists():
            return Outcome(group, case, "crash" if code else "silently wrong", n, 0, err.strip()[:120])
        with BagReader(out) as reader:
            info = reader.replay_info() or {}
        frames_out = _outputs(out)
        skipped = sum((info.get("skipped") or {}).values())
        detail = stdout.splitlines()[0] if stdout else ""
        if expect == "skipped and counted":
            ok = code == 0 and skipped >= 1 and frames_out == n
        else:  # handled: every frame processed
            ok = code == 0 and skipped == 0 and info.get("processed") == n and frames_out == n
        return Outcome(group, case, expect if ok else "silently wrong", n, frames_out, detail.split(";")[0])

    def corrupt_payload(self) -> Outcome:
        bag = self.path("bag")
        with BagWriter(bag) as writer:  # 40 VGA-ish frames: several 1 MiB chunks, as a real recording has
            for i, image in enumerate(_frames(40, size=(320, 240))):
                header = Header(1_000_000_000 + i * 100_000_000, "cam")
                writer.write(IMAGE_TOPIC, convert.image_to_msg(image, header, writer.kit), header.stamp_ns)
        mcap = next(bag.glob("*.mcap"))
        data = bytearray(mcap.read_bytes())
        data[len(data) // 2] ^= 0xFF  # a flipped byte inside one chunk's data
        mcap.write_bytes(bytes(data))
        outcome = self.replay_frames("bag storage", "mcap payload corrupted in one chunk (CRC)", bag,
                                     "skipped and counted", n=40)
        if outcome.outcome == "skipped and counted" and "corrupt storage" not in outcome.detail:
            outcome.outcome = "silently wrong"  # the chunk's images must be counted under their reason
        return outcome

    def camera_info_case(self, case: str, fx: float | None) -> Outcome:
        from ..core.camera import PinholeCamera

        bag = self.path("bag")
        camera = PinholeCamera.from_fov(64, 48, 60.0)
        with BagWriter(bag) as writer:
            for i, image in enumerate(_frames(4)):
                header = Header(1_000_000_000 + i * 100_000_000, "cam")
                writer.write(IMAGE_TOPIC, convert.image_to_msg(image, header, writer.kit), header.stamp_ns)
                if fx is not None:
                    msg = convert.camera_to_msg(camera, header, writer.kit)
                    msg.k[0] = msg.p[0] = fx
                    writer.write(CAMERA_INFO_TOPIC, msg, header.stamp_ns)
        out = self.path("out")
        code, stdout, err = _cli(self.replay_args(bag, out))
        if "Traceback" in err or not out.exists():
            return Outcome("camera info", case, "crash", 4, None, err.strip().splitlines()[-1] if err else "")
        with BagReader(out) as reader:
            info = reader.replay_info() or {}
            placed = [bool(convert.poses3d_from_msg(f.messages[OUTPUT_TOPICS["poses_3d"]])[1]
                           .placed_with_intrinsics.any()) for f in reader.frames()]
        counted = sum((info.get("camera_info") or {}).values())
        ok = code == 0 and counted == 4 and not any(placed)
        line = next((x for x in stdout.splitlines() if "CameraInfo" in x), "")
        return Outcome("camera info", case, "handled" if ok else "silently wrong", 4, _outputs(out), line)

    def unhealthy(self, case: str, size: tuple[int, int], reason: str) -> Outcome:
        bag = self.path("bag")
        with BagWriter(bag) as writer:
            for i, image in enumerate(_frames(4, size=size)):
                if reason == "constant image" and i == 2:
                    image = np.zeros_like(image)  # a covered lens
                elif reason == "noise image" and i == 2:  # a dead sensor, a decoder emitting garbage
                    image = np.random.default_rng(i).integers(0, 256, image.shape, dtype=np.uint8)
                header = Header(1_000_000_000 + i * 100_000_000, "cam")
                writer.write(IMAGE_TOPIC, convert.image_to_msg(image, header, writer.kit), header.stamp_ns)
        out = self.path("out")
        code, stdout, err = _cli(self.replay_args(bag, out))
        if "Traceback" in err or not out.exists():
            return Outcome("image content", case, "crash", 4, None, err.strip().splitlines()[-1] if err else "")
        with BagReader(out) as reader:
            info = reader.replay_info() or {}
        flagged = (info.get("flagged") or {}).get(reason, 0)
        expected = 4 if reason == "image too small" else 1
        line = next((x for x in stdout.splitlines() if "cannot show anyone" in x), "")
        return Outcome("image content", case, "handled" if code == 0 and flagged == expected else "silently wrong",
                       4, _outputs(out), line)

    def small_boxes(self, case: str, size: tuple[int, int]) -> Outcome:
        """Images just large enough to be looked at: no zero-width box, none under the minimum side."""
        from ..pipeline.stages import MIN_BOX_SIDE

        bag = self.path("bag")
        with BagWriter(bag) as writer:
            for i, image in enumerate(_frames(4, size=size)):
                header = Header(1_000_000_000 + i * 100_000_000, "cam")
                writer.write(IMAGE_TOPIC, convert.image_to_msg(image, header, writer.kit), header.stamp_ns)
        out = self.path("out")
        code, _, err = _cli(self.replay_args(bag, out))
        if "Traceback" in err or not out.exists():
            return Outcome("image content", case, "crash", 4, None, err.strip().splitlines()[-1] if err else "")
        with BagReader(out) as reader:
            boxes = np.concatenate([convert.detections_from_msg(msg)[1].boxes
                                    for _, msg in reader.read(OUTPUT_TOPICS["detections"])])
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        ok = code == 0 and bool((sides >= MIN_BOX_SIDE).all())
        smallest = f", smallest side {sides.min():.1f} px" if len(sides) else ""
        return Outcome("image content", case, "handled" if ok else "silently wrong", 4, _outputs(out),
                       f"{len(sides)} detections in 4 frames{smallest}; boxes under {MIN_BOX_SIDE:g} px are dropped")

    def truncated(self, storage: str) -> Outcome:
        bag = _bag(self.path("bag"), n=30)
        if storage == "sqlite3":
            db = self.path("db")
            db.mkdir()
            (db / "db.db3").write_bytes(b"SQLite format 3\x00" + b"\x17" * 2000)
            return self.replay_error("bag storage", "corrupt sqlite3 file", db / "db.db3")
        data = next(bag.glob("*.mcap")).read_bytes()  # cut mid-way: the reader has no index
        cut = self.path("cut.mcap")
        cut.write_bytes(data[: len(data) // 2])
        return self.replay_error("bag storage", "mcap truncated in the middle", cut)

    # --- parameter files
    def params(self, case: str, text: str) -> Outcome:
        path = self.path("params.yaml")
        path.write_text(text)
        bag = self.tmp / "good_bag"
        code, _, err = _cli(self.replay_args(bag, self.path("out"), "--config", str(path)))
        outcome, detail = _error_outcome(code, err)
        if outcome == "clean error" and str(path) not in detail:
            outcome = "silently wrong" if code == 0 else outcome  # still clean, but say so in the detail
            detail += " (file not named)"
        return Outcome("parameter file", case, outcome, detail=detail)

    def params_applied(self, case: str, text: str, namespace: str = "crowd_perception") -> Outcome:
        from ..pipeline.params import node_config_from_file
        from ..pipeline.stages import NODE_CONFIGS, DetectorNodeConfig

        path = self.path("params.yaml")
        path.write_text(text)
        try:
            config = node_config_from_file(DetectorNodeConfig, path, "detector_node", namespace, known_nodes=NODE_CONFIGS)
        except CrowdPerceptionError as exc:
            return Outcome("parameter file", case, "silently wrong", detail=f"refused: {exc}")
        ok = abs(config.score_threshold - 0.37) < 1e-9
        return Outcome("parameter file", case, "handled" if ok else "silently wrong",
                       detail=f"score_threshold = {config.score_threshold}")

    # --- prediction files
    def predictions(self, case: str, edit: Callable[[list[str]], list[str]], gt: Path) -> Outcome:
        pred = self.path("pred")
        pred.mkdir()
        for seq in ("TUD-Campus", "TUD-Stadtmitte"):
            lines = (gt / seq / "gt" / "gt.txt").read_text().splitlines()
            lines = [",".join([*line.split(",")[:6], "0.9", "-1", "-1", "-1"]) for line in lines]
            if seq == "TUD-Campus":
                lines = edit(lines)
            (pred / f"{seq}.txt").write_text("\n".join(lines) + "\n")
        code, _, err = _cli(["evaluate", "tracking", "--gt", str(gt), "--pred", str(pred)])
        outcome, detail = _error_outcome(code, err)
        return Outcome("prediction file", case, outcome, detail=detail)


def _row(lines: list[str], index: int, column: int, value: str) -> list[str]:
    fields = lines[index].split(",")
    fields[column] = value
    return [*lines[:index], ",".join(fields), *lines[index + 1:]]


def run_probe(gt_root: Path | None = None, config: Path | None = None) -> list[Outcome]:
    """Run every case; ``gt_root`` is a MOTChallenge ground-truth folder for the prediction-file cases."""
    from . import probe_models
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hardening-") as tmp_name:
        tmp = Path(tmp_name)
        probe = _Probe(tmp, config)
        _bag(tmp / "good_bag")
        cases: list[Callable[[], Outcome]] = [
            # bag storage and topics
            lambda: probe.replay_error("bag storage", "bag path does not exist", tmp / "nonexistent"),
            lambda: probe.replay_error("bag storage", "empty folder as a bag", _mkdir(tmp / "empty")),
            lambda: probe.truncated("mcap"),
            lambda: probe.truncated("sqlite3"),
            probe.corrupt_payload,
            lambda: probe.camera_info_case("no CameraInfo in the bag", None),
            lambda: probe.camera_info_case("CameraInfo fx = 1e12", 1e12),
            lambda: probe.replay_error("bag storage", "output bag exists already", tmp / "good_bag",
                                       out=tmp / "good_bag"),
            lambda: probe.replay_error("bag topics", "no image topic", _info_only_bag(tmp / "info_only")),
            lambda: probe.replay_error("bag topics", "wrong --image-topic", tmp / "good_bag", "--image-topic", "/x"),
            # frames
            *[(lambda kind=kind: probe.replay_frames("image frame", kind, _bag(probe.path("bag"), {3: kind}),
                                                     "skipped and counted"))
              for kind in ("short data", "zero size", "32FC1")],
            *[(lambda kind=kind: probe.replay_frames("image frame", kind, _bag(probe.path("bag"), {3: kind},
                                                                               compressed=True),
                                                     "skipped and counted"))
              for kind in ("truncated JPEG", "empty CompressedImage", "garbage bytes")],
            *[(lambda kind=kind: probe.replay_frames("image frame", f"{kind} (converted)",
                                                     _bag(probe.path("bag"), {3: kind}), "handled"))
              for kind in ("mono16", "16UC1", "bayer_rggb8", "yuv422")],
            lambda: probe.unhealthy("black frame (covered lens)", (64, 48), "constant image"),
            lambda: probe.unhealthy("16x16 images", (16, 16), "image too small"),
            lambda: probe.unhealthy("1x1 images", (1, 1), "image too small"),
            lambda: probe.unhealthy("pure-noise frame (dead sensor)", (64, 48), "noise image"),
            lambda: probe.small_boxes("32x32 images", (32, 32)),
            lambda: probe.replay_frames("image frame", "invalid Homography message",
                                        _bag(probe.path("bag"), homography=True), "handled"),
            # parameter files
            lambda: probe.params("ros__parameters is a list",
                                 "/**/detector_node:\n  ros__parameters:\n    - score_threshold: 0.3\n"),
            lambda: probe.params("node section is a list", "/**/detector_node:\n  - ros__parameters: {}\n"),
            lambda: probe.params("broken YAML syntax", "/**/detector_node:\n  ros__parameters: [a\n"),
            lambda: probe.params("score_threshold: .nan", "/**/detector_node:\n  ros__parameters:\n"
                                                          "    score_threshold: .nan\n"),
            lambda: probe.params("track_buffer_s: .inf", "/**/tracker_node:\n  ros__parameters:\n"
                                                         "    track_buffer_s: .inf\n"),
            lambda: probe.params("new_track_threshold: .nan", "/**/tracker_node:\n  ros__parameters:\n"
                                                              "    new_track_threshold: .nan\n"),
            lambda: probe.params("score_threshold: 1.5", "/**/detector_node:\n  ros__parameters:\n"
                                                         "    score_threshold: 1.5\n"),
            lambda: probe.params("string for a float", "/**/detector_node:\n  ros__parameters:\n"
                                                       "    score_threshold: high\n"),
            lambda: probe.params("misspelled ros__parameters", "/**/detector_node:\n  ros_parameters:\n"
                                                               "    score_threshold: 0.3\n"),
            lambda: probe.params("misspelled node name", "/**/detektor_node:\n  ros__parameters:\n"
                                                         "    score_threshold: 0.3\n"),
            lambda: probe.params("misspelled parameter", "/**/detector_node:\n  ros__parameters:\n"
                                                         "    score_treshold: 0.3\n"),
            lambda: probe.params_applied("fully qualified node name", "/crowd_perception/detector_node:\n"
                                         "  ros__parameters:\n    score_threshold: 0.37\n"),
            lambda: probe.params_applied("wildcard node name", "/**/detector_node:\n  ros__parameters:\n"
                                         "    score_threshold: 0.37\n"),
            _keep_everything,
            lambda: probe.params_applied("nested namespace", "crowd_perception:\n  detector_node:\n"
                                         "    ros__parameters:\n      score_threshold: 0.37\n"),
            # user's own recordings
            lambda: _import_case(probe, "image folder does not exist", images=tmp / "no_such_folder"),
            lambda: _import_case(probe, "corrupt image file in the folder", images=_folder(tmp / "imgs", corrupt=True)),
            lambda: _import_case(probe, "camera info with NaN", images=_folder(tmp / "imgs2"),
                                 camera_info=_calibration(tmp / "nan.yaml", ".nan")),
            lambda: _import_case(probe, "camera info fx = 1e12", images=_folder(tmp / "imgs3"),
                                 camera_info=_calibration(tmp / "big.yaml", "1.0e12")),
            lambda: _import_case(probe, "not a video file", video=_calibration(tmp / "v.yaml", "50.0")),
            # tracker
            lambda: _tracker_case("NaN box inside a frame"),
            lambda: _tracker_case("gap longer than track_buffer_s"),
            lambda: _tracker_case("stamps jump backwards"),
            lambda: _sync_case(),
            probe_models.tracker_flood_case,
            # models and the runtime
            *[(lambda case=case, edit=edit: probe_models.model_file_case(probe.path("model"), tmp / "good_bag", case,
                                                                         edit))
              for case, edit in (("NaN in the weights", probe_models.nan_weight),
                                 ("colour order swapped in the metadata", probe_models.swapped_colour_order),
                                 ("metadata input_size as strings", probe_models.string_input_size),
                                 ("unknown postprocess key in the metadata", probe_models.unknown_postprocess_key),
                                 ("safetensors config not JSON", probe_models.non_json_safetensors_config))],
            *[(lambda case=case, value=value: probe_models.network_output_case(probe.path("out"), tmp / "good_bag",
                                                                               case, value, 6))
              for case, value in (("+inf output (FP16 overflow)", np.inf), ("NaN output", np.nan))],
            lambda: probe_models.engine_cache_case(tmp),
            lambda: _interrupted_replay(tmp),
        ]
        if gt_root is not None and gt_root.is_dir():
            cases += [
                lambda: probe.predictions("NaN box", lambda ls: _row(ls, 3, 4, "nan"), gt_root),
                lambda: probe.predictions("inf box", lambda ls: _row(ls, 3, 5, "inf"), gt_root),
                lambda: probe.predictions("negative-size box", lambda ls: _row(ls, 3, 4, "-12"), gt_root),
                lambda: probe.predictions("short row", lambda ls: [*ls[:3], "5,1,10,10", *ls[3:]], gt_root),
                lambda: probe.predictions("id twice in a frame", lambda ls: [*ls, ls[0]], gt_root),
                lambda: probe.predictions("frame beyond seqLength", lambda ls: [*ls, "999" + ls[0][1:]], gt_root),
                lambda: probe.predictions("text in a number column", lambda ls: _row(ls, 3, 2, "abc"), gt_root),
                lambda: _mot_trimmed(tmp, gt_root),
            ]
        for case in cases:
            try:
                results.append(case())
            except Exception as exc:  # the probe itself met a crash of the code under test
                text = traceback.format_exception_only(type(exc), exc)[-1].strip()
                results.append(Outcome("?", getattr(case, "__name__", "case"), "crash", detail=text))
        for result in results:  # paths that differ per run or per machine
            result.detail = result.detail.replace(str(tmp), "<tmp>")
            if gt_root is not None:
                result.detail = result.detail.replace(str(gt_root), f"<gt>/{gt_root.name}")
    return results


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _info_only_bag(path: Path) -> Path:
    from ..core.camera import PinholeCamera

    with BagWriter(path) as bag:
        bag.write(CAMERA_INFO_TOPIC, convert.camera_to_msg(PinholeCamera.from_fov(64, 48, 60.0), Header(1, "c"),
                                                           bag.kit), 1)
    return path


def _folder(path: Path, corrupt: bool = False) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(_frames(4)):
        cv2.imwrite(str(path / f"{i:04d}.png"), image)
    if corrupt:
        (path / "0002.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    return path


def _calibration(path: Path, fx: str) -> Path:
    path.write_text(f"image_width: 64\nimage_height: 48\ncamera_matrix:\n  rows: 3\n  cols: 3\n"
                    f"  data: [{fx}, 0.0, 32.0, 0.0, 50.0, 24.0, 0.0, 0.0, 1.0]\n")
    return path


def _import_case(probe: _Probe, case: str, **kwargs: Any) -> Outcome:
    out = probe.path("imported")
    args = ["bag", "import", "--out", str(out), "--no-progress"]
    for key, value in kwargs.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    code, stdout, err = _cli(args)
    if code == 0 and "corrupt" in case:
        with BagReader(out) as reader:
            written = sum(1 for _ in reader.frames())
        ok = "1 skipped" in stdout and written == 3
        return Outcome("own recording import", case, "skipped and counted" if ok else "silently wrong",
                       detail=f"{written} of 4 files written; " + (stdout.splitlines()[0] if stdout else ""))
    outcome, detail = _error_outcome(code, err)
    return Outcome("own recording import", case, outcome, detail=detail)


def _dets(boxes: list[list[float]]) -> Detections:
    n = len(boxes)
    return Detections(np.asarray(boxes, dtype=float).reshape(n, 4), np.full(n, 0.9), embeddings=np.eye(n, 4))


def _tracker_case(case: str) -> Outcome:
    from ..tracking import Tracker

    tracker = Tracker("default")
    step = 33_333_333
    first = tracker.update(_dets([[80, 250, 120, 350]]), 0)
    if case.startswith("NaN"):
        tracks = tracker.update(_dets([[82, 250, 122, 350], [np.nan, 0, 10, 10]]), step)
        ok = tracker.dropped_detections == 1 and set(tracks.ids) == set(first.ids)
        detail = f"dropped_detections = {tracker.dropped_detections}"
    elif case.startswith("gap"):
        tracker.update(_dets([[81, 250, 121, 350]]), step)
        tracks = tracker.update(_dets([[81, 250, 121, 350]]), step + 10_000_000_000)
        ok = set(tracks.ids).isdisjoint(first.ids)
        detail = f"ids before {sorted(first.ids.tolist())}, after the gap {sorted(tracks.ids.tolist())}"
    else:
        tracker.update(_dets([[81, 250, 121, 350]]), 10 * step)
        tracks = tracker.update(_dets([[81, 250, 121, 350]]), 2 * step)
        ok = tracker.resets == 1 and len(tracks) == 1
        detail = f"resets = {tracker.resets}"
    return Outcome("tracker input", case, "handled" if ok else "silently wrong", detail=detail)


def _mot_trimmed(tmp: Path, gt_root: Path) -> Outcome:
    from ..formats.mot import read_mot

    seq = tmp / "trimmed" / "TUD-Campus"
    shutil.copytree(gt_root / "TUD-Campus", seq)
    _mkdir(seq / "img1")
    for frame in (1, 2, 3):
        cv2.imwrite(str(seq / "img1" / f"{frame:06d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    dataset = read_mot(seq)
    ok = len(dataset) == 3 and all(item.image_path.is_file() for item in dataset)
    return Outcome("dataset reader", "MOT sequence trimmed below seqLength", "handled" if ok else "silently wrong",
                   detail=f"{len(dataset)} frames read")


# ------------------------------------------------------------------------------ report


def _interrupted_replay(tmp: Path) -> Outcome:
    """A replay stopped by Ctrl-C after two frames, then ``evaluate`` on what it wrote."""
    from ..pipeline import Pipeline
    from ..ros.replay import replay_bag

    def interrupt(index: int, _: Any) -> None:
        if index == 1:
            raise KeyboardInterrupt

    out = tmp / "interrupted_out"
    try:
        replay_bag(_bag(tmp / "interrupted_in"), out, Pipeline.from_config(), on_frame=interrupt)
    except KeyboardInterrupt:
        pass
    code, _, err = _cli(["evaluate", "--bag", str(out)])
    outcome, detail = _error_outcome(code, err)
    return Outcome("replay output", "interrupted replay (Ctrl-C), then evaluate", outcome, detail=detail)


def _keep_everything() -> Outcome:
    """``score_threshold: 0`` in the detector's post-processing: keep every box (an evaluation setting)."""
    from ..models.detector.postprocess import PostprocessConfig

    try:
        config = PostprocessConfig(score_threshold=0.0)
    except ValueError as exc:
        return Outcome("parameter file", "post-processing score_threshold 0 (keep everything)", "silently wrong",
                       detail=f"refused: {exc}")
    return Outcome("parameter file", "post-processing score_threshold 0 (keep everything)", "handled",
                   detail=f"accepted: score_threshold = {config.score_threshold}")


def _sync_case() -> Outcome:
    """The nodes' stamp synchroniser (tracker_node) when the stamps jump back (``ros2 bag play --loop``)."""
    from ..ros.sync import StampSync

    sync = StampSync(("detections",), ("detections",), 3)
    released = [len(sync.add("detections", stamp, object())) for stamp in (10_000_000_000, 10_100_000_000, 0, 100_000_000)]
    ok = released == [1, 1, 1, 1] and sync.resets == 1 and sync.late == 0
    return Outcome("tracker input", "node stamp synchroniser: stamps jump backwards", "handled" if ok else "silently wrong",
                   detail=f"messages released {released}, resets = {sync.resets}, late = {sync.late}")


def results_markdown(results: list[Outcome]) -> str:
    from ..utils.results import markdown_table

    groups: dict[str, dict[str, int]] = {}
    lost = 0
    for r in results:
        row = groups.setdefault(r.group, dict.fromkeys(OUTCOMES, 0))
        row[r.outcome] += 1
        lost += r.frames_lost or 0
    counts = [[sum(c.values()), *c.values()] for c in groups.values()]
    totals = [sum(column) for column in zip(*counts, strict=True)] if counts else [0] * (1 + len(OUTCOMES))
    summary_rows: list[list[object]] = [[group, *row] for group, row in zip(groups, counts, strict=True)]
    summary_rows.append(["**all**", *totals])
    summary = markdown_table(["fault class", "cases", *OUTCOMES], summary_rows)
    cases = markdown_table(
        ["fault class", "case", "outcome", "frames in -> out", "what the user sees"],
        [[r.group, r.case, r.outcome,
          "" if r.frames_in is None else f"{r.frames_in} -> {r.frames_out}",
          r.detail.replace("|", "\\|")[:140]] for r in results],
    )
    return (f"{len(results)} fault cases, frames lost in replay cases: {lost}. Outcome classes: clean error = exit 1 "
            "with one `error:` line; skipped and counted = the run goes on, the frame gets the empty result and is "
            "counted by reason; handled = the input is usable (converted, matched, dropped and counted) and the result "
            "is right; crash = a traceback; silently wrong = no error and no count, or a wrong result.\n\n"
            f"{summary}\n\nEvery case:\n\n{cases}\n\n"
            "A corrupt mcap chunk (CRC) is skipped and each of its images, known from the mcap summary's message "
            "index, gets the empty result at its receive time, counted as `corrupt storage`. Model cases use copies "
            "of the shipped detector; the colour-order case is a model that records its normalisation in the graph, as "
            "the export does now (the shipped models, exported before, record none, so a swap in their metadata "
            "is not detected until they are re-exported); the engine-cache case runs the cache policy on CPU with a "
            "stand-in build (TensorRT is not installed here). A node killed (SIGKILL) and restarted mid-bag over the "
            "real ROS 2 graph is the test `test/ros/test_graph_faults.py` (no frame lost, tracker ids recovered).\n")


# ------------------------------------------------------------------------------ command


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", type=Path, help="MOTChallenge ground truth for the prediction-file cases "
                                                "(default: ../shared/fixtures/mot15_tud_gt when present)")
    parser.add_argument("--config", type=Path, help="params file the replay cases use (default: the shipped one)")
    parser.add_argument("--results", action="store_true", help="write the fault table into docs/RESULTS.md")


def _run_probe(args: argparse.Namespace) -> int:
    import logging

    gt = args.gt or Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "mot15_tud_gt"
    logging.getLogger().setLevel(logging.ERROR)  # the cases' own warnings are what they provoke
    results = run_probe(gt if gt.is_dir() else None, args.config)
    body = results_markdown(results)
    print(body)
    if args.results:
        from ..utils.results import update_results_section

        title = "Hardening: faulty inputs, what each one does"
        print(f"results: {update_results_section('hardening', title, body)}")
    return 0 if all(r.outcome not in ("crash", "silently wrong") for r in results) else 1


COMMANDS = [
    Command(("hardening-probe",), "feed faulty inputs (bags, frames, params, predictions, recordings) and tabulate "
            "what each does", _probe_arguments, _run_probe),
]
