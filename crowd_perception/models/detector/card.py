"""The detector's model card (``weights/detector.md``), rendered from the shipped files, the
training log and an evaluation report — so no figure in it is typed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...runtime.metadata import ModelMetadata
from ...training.monitor import training_rows, wall_minutes
from .runner import DetectorExportInfo

__all__ = ["render_model_card"]


def render_model_card(
    onnx_path: Path, evaluation_markdown: str, train_command: str, train_log: Path | None = None
) -> str:
    """Markdown model card of the exported detector at ``onnx_path`` (metadata ``.json`` and
    ``.config.json`` beside it); the training command recorded in the metadata wins over ``train_command``."""
    meta = ModelMetadata.load(onnx_path.with_suffix(".json"))
    config: dict[str, Any] = json.loads(
        onnx_path.with_name(onnx_path.stem + ".config.json").read_text(encoding="utf-8")
    )
    model, data, loss, train = config["model"], config["data"], config["loss"], config["train"]
    assign = loss["assign"]
    weights = onnx_path.with_suffix(".safetensors")
    sizes = ", ".join(f"`{p.name}` {p.stat().st_size / 2**20:.1f} MiB" for p in (weights, onnx_path) if p.is_file())
    rows = training_rows(train_log) if train_log is not None and train_log.is_file() else []
    last = rows[-1] if rows else {}
    steps = last.get("step") or meta.extra.get("train_steps", "?")
    minutes = f"{wall_minutes(rows):.0f}" if rows else meta.extra.get("train_minutes", "?")
    info = DetectorExportInfo.from_extra(meta.extra)
    post = info.postprocess
    lines = [
        "# Pedestrian detector (default model)",
        "",
        "Single-shot anchor-point detector: "
        f"`{model['backbone']}` backbone (width {model['backbone_width']}), FPN with {model['fpn_channels']} channels at "
        f"strides {list(info.strides)}, shared {'depthwise-separable' if model['lite'] else 'full'} head "
        f"({model['head_convs']} conv tower) with class, l/t/r/b box, IoU-quality and {model['embedding_dim']}-d "
        "JDE embedding outputs. Score = sqrt(cls * iou).",
        "",
        f"- Input: {model['input_size'][1]}x{model['input_size'][0]} letterboxed BGR -> normalised RGB; ONNX opset "
        f"{meta.opset}, sha256 `{meta.sha256[:16]}...`; files: {sizes}.",
        f"- Label assignment: `{assign['method']}` (top-K {assign['topk']}, lambda {assign['reg_weight']}, "
        f"out-of-box constant {assign['outside_cost']:g}); task weighting: `{loss['weighting']}`; "
        f"{loss['num_identities']} identity classes.",
        f"- Data: `{data['source']}` preset `{data['preset']}` ({data['sequences']} sequences x {data['frames']} "
        f"frames, seed {data['seed']}), crops {data['crop']}, flip {data['hflip']}, scale {data['scale_range']}, "
        f"colour jitter {data['color_jitter']}; people below {data['min_visibility']:.0%} visible or "
        f"{data['min_height']:g} px tall are ignore regions.",
        f"- Optimisation: {train['optimizer']} lr {train['lr']:g}, batch {train['batch_size']}, "
        f"{steps} steps in {minutes} min over all resumes (last cap {train['max_minutes']:g} min, "
        f"{train['threads']} CPU threads on a shared machine).",
        f"- Post-processing (the model's own floor: it keeps nothing below it): score >= {post.score_threshold:g}, "
        f"NMS IoU {post.nms_iou:g}, at most {post.max_detections} per image. The detector node publishes from its "
        "operating point, `score_threshold` of `DetectorNodeConfig` (`config/crowd_perception.yaml`), at or above it.",
        "",
        f"Command: `{meta.extra.get('train_command') or train_command or 'not recorded'}`",
        "",
    ]
    if last:
        keys = [k for k in ("loss_cls", "loss_giou", "loss_iou", "loss_id", "num_pos") if last.get(k)]
        lines += ["Final training log row: " + ", ".join(f"{k} {float(last[k]):.3f}" for k in keys), ""]
    lines += ["## Evaluation", "", evaluation_markdown.strip(), ""]
    lines += [
        "## Limitations",
        "",
        "Trained only on our synthetic engine with a small CPU budget; on real photos it finds people but with "
        "many false positives (`docs/RESULTS.md`, section `detector-real-fixtures`). "
        "Amodal full-body boxes are predicted; heavily occluded people are the weakest case.",
        "",
    ]
    return "\n".join(lines)
