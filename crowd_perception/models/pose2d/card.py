"""Ship a training run as the default model: calibrated weights, ONNX, metadata and a generated model card.

Every number in the card is read from the run (config, CSV log, ONNX metadata); accuracy figures
live in ``docs/RESULTS.md`` (written by ``evaluate pose``), which the card points to.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ...core.annotations import FrameAnnotation
from ...runtime.metadata import ModelMetadata
from ...training.monitor import training_rows, wall_minutes
from ..common.blazepose import BLAZEPOSE_FILE
from ..common.pretrained import PRETRAINED_DIR, provenance
from .model import BLAZEPOSE

__all__ = ["ship_run", "render_model_card"]

MAX_FILE_MB = 8.0


def _training_rows(log_csv: Path) -> list[dict[str, str]]:
    rows = training_rows(log_csv)
    if not rows:
        raise ValueError(f"{log_csv}: no training rows")
    return rows


def render_model_card(config: dict, rows: list[dict[str, str]], meta: ModelMetadata, command: str) -> str:
    """Markdown model card from the run's config dict, CSV log rows (all resumes) and ONNX metadata."""
    last = rows[-1]
    m, d, t, a = config["model"], config["data"], config["train"], config["augment"]
    parts = [f"TRP={m['use_trp']}", f"SGM={m['use_sgm']}", f"mask head={m['use_mask']}",
             f"occlusion head={m['use_occlusion']}", f"domain adaptation={m['use_domain']}"]
    losses = ", ".join(f"{k} {float(v):.4f}" for k, v in last.items() if k in config["loss"])
    crop = f"{m['input_height']}x{m['input_width']}"
    fine = " (+ the backbone's stride-4 features, 1x1 lateral)" if m.get("fine_skip") else ""
    zoom = f"; frames zoomed up to {a['zoom']}x around a person" if float(a.get("zoom", 1.0)) > 1 else ""
    if m.get("input_mode", "crop") == "frame":
        people = meta.profiles["rois"]
        inputs = (f"`images (1, 3, {m['frame_height']}, {m['frame_width']})`, the letterboxed frame (float BGR in [0, 255],\n"
                  f"  normalisation inside the graph), and `rois (N, 2, 3)`: per person, the affine map from its {crop}\n"
                  f"  crop's heatmap grid to frame pixels (box grown to the aspect, x{meta.extra.get('box_padding')} context);\n"
                  f"  the encoder runs once per frame, the heads on RoI-aligned features; {people.min[0]}-{people.max[0]} people per call.")
        samples = f"{d['source_frames']} frames, {d['rois_per_frame']} people per frame and step"
        target = f"{d['target_frames']} frames"
    else:
        people = meta.profiles["images"]
        inputs = (f"`(N, 3, {m['input_height']}, {m['input_width']})` float BGR crops in [0, 255] (box grown to the\n"
                  f"  aspect, x{meta.extra.get('box_padding')} context; normalisation inside the graph); dynamic batch\n"
                  f"  {people.min[0]}-{people.max[0]}.")
        samples, target = f"{d['source_crops']} crops", f"{d['target_crops']} crops"
    encoder, limitations = _encoder_lines(m, fine)
    return f"""# pose2d — occluded top-down 2D pose (RSGNet + Das et al.)

- **Task**: one 2D skeleton (`{m['skeleton']}`) per person box, with per-joint score and visible/occluded state.
- **Input**: {inputs}
- **Outputs**: `heatmaps (N, K, {m['input_height'] // 4}, {m['input_width'] // 4})` (target joints, decode with DARK,
  sigma {a['sigma']}), `occlusion (N, K)` logits.
- **Architecture**: {encoder}, {m['channels']} head
  channels ({m.get('head_conv', 'full')} 3x3 convolutions per person); {', '.join(parts)}; relation pooling {m['relation_pool']}.
- **Training data**: synthetic engine only — `{d['source_preset']}` ({samples}, with keypoints)
  and `{d['target_preset']}` ({target}, boxes + masks only, for domain adaptation).
  Curriculum occlusion up to {a['curriculum']['max_fraction']:.0%} of body parts ({'on' if a['curriculum']['enabled'] else 'off'}){zoom}.
- **Budget**: {last['step']} steps x batch {t['batch_size']} ({wall_minutes(rows):.1f} min wall on CPU over all resumes,
  {t['threads']} torch thread(s)), AdamW lr {t['lr']} with warm-up + cosine.
- **Final training losses**: {losses}.
- **Occlusion threshold**: {_calibration_line(config)}
- **Command**: `{command}`
- **Files**: `pose2d.safetensors` (weights + config), `pose2d.onnx` (opset {meta.opset}, sha256 `{meta.sha256[:16]}…`),
  `pose2d.json` (runtime metadata), `pose2d.config.json` (training config).
- **Accuracy**: see `docs/RESULTS.md` sections `pose2d-*` (synthetic bench by density and occlusion,
  occlusion table, latency vs people, ablations).
- **Limitations**: {limitations}
"""


def _encoder_lines(m: dict, fine: str) -> tuple[str, str]:
    """The card's encoder description and its limitations (with the pretrained source's provenance)."""
    if m["backbone"] == BLAZEPOSE:
        p = provenance(PRETRAINED_DIR / BLAZEPOSE_FILE)
        encoder = (f"the fixed BlazePose trunk (`{BLAZEPOSE_FILE}`: {p['package']} {p['version']}, `{p['member']}`,\n"
                   f"  {p['licence']}): its stride-4 features + 39 heatmap logits, 1x1 lateral -> stride 4")
        return encoder, (
            "the heads were trained on a CPU (the budget above) on synthetic people only, on a fixed trunk that\n"
            "  BlazePose's authors trained on real people; real-image figures are in `pose2d-real`. The occlusion\n"
            "  head learned from synthetic occluders only: on real people it calls most joints occluded (occlusion\n"
            "  accuracy in `pose2d-real`), so its states are not to be trusted there. Small (< 48 px)\n"
            "  people are up-sampled from few pixels. Fine-tune the heads on real keypoints with `--data` where available."
        )
    encoder = f"`{m['backbone']}` backbone (width {m['width']}) + FPN P3 -> stride 4{fine}"
    init = f"backbone initialised from `{m['pretrained']}` (ImageNet)" if m.get("pretrained") else "no pretrained backbone"
    return encoder, (
        f"trained on a CPU (the budget above) on synthetic people only, {init}:\n"
        "  a working baseline for the pipeline, far from converged; expect it to be weak on real images and\n"
        "  on small (< 48 px) people. Retrain with `--preset gpu` for real use."
    )


def _calibration_line(config: dict) -> str:
    c = config.get("calibration")
    if not c:
        return "not calibrated: `sigmoid(logit) > 0.5` as trained."
    return (f"calibrated on `{c['frames']}` ({c['joints']} joints with a known state, {c['occluded_share']:.0%} occluded):\n"
            f"  logit threshold {c['threshold']:+.3f} folded into the head's bias (accuracy there {c['accuracy_before']:.3f} at 0 ->\n"
            f"  {c['accuracy_after']:.3f}); the curriculum's extra occluded joints bias the trained head towards \"occluded\".")


def ship_run(
    run_dir: Path | str,
    weights_dir: Path | str,
    command: str,
    calibration: Iterable[tuple[np.ndarray, FrameAnnotation]] | None = None,
    calibration_name: str = "",
) -> list[Path]:
    """Make ``run_dir``'s ``model.safetensors`` the default model in ``weights_dir`` (``pose2d.*`` + ``pose2d.md``).

    With ``calibration`` frames (held out from training) the occlusion threshold is calibrated on them
    and folded into the weights (:mod:`.calibrate`); the ONNX is exported from the shipped weights.
    Refuses files over 8 MB.
    """
    from ...training import save_weights
    from .calibrate import calibrate_occlusion
    from .export import export_pose, load_pose_model

    run_dir, weights_dir = Path(run_dir), Path(weights_dir)
    weights = run_dir / "model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} missing (not a finished 'train pose' run)")
    if calibration is not None:
        model, config, report = calibrate_occlusion(weights, calibration)
        config["calibration"] = {"frames": calibration_name, **report}
    else:
        model, config = load_pose_model(weights)
    weights_dir.mkdir(parents=True, exist_ok=True)
    shipped = save_weights(weights_dir / "pose2d.safetensors", model, config)
    metadata = export_pose(shipped, weights_dir / "pose2d.onnx")
    written = [shipped, weights_dir / "pose2d.config.json", weights_dir / "pose2d.onnx", weights_dir / "pose2d.json"]
    for path in written:
        if path.stat().st_size > MAX_FILE_MB * 2**20:
            raise ValueError(f"{path} is {path.stat().st_size / 2**20:.1f} MB, over the {MAX_FILE_MB} MB limit")
    card = render_model_card(config, _training_rows(run_dir / "log.csv"), metadata, command)
    (weights_dir / "pose2d.md").write_text(card, encoding="utf-8")
    return [*written, weights_dir / "pose2d.md"]
