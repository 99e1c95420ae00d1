"""Ship a training run as the default model: weights, ONNX, metadata and a generated model card.

Every number in the card is read from the run (config, CSV log, ONNX metadata); accuracy figures
live in ``docs/RESULTS.md`` (written by ``evaluate pose``), which the card points to.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from ...runtime.metadata import ModelMetadata

__all__ = ["ship_run", "render_model_card"]

MAX_FILE_MB = 8.0


def _last_log_row(log_csv: Path) -> dict[str, str]:
    with open(log_csv, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("loss")]
    if not rows:
        raise ValueError(f"{log_csv}: no training rows")
    return rows[-1]


def render_model_card(config: dict, last: dict[str, str], meta: ModelMetadata, command: str) -> str:
    """Markdown model card from the run's config dict, last CSV log row and ONNX metadata."""
    m, d, t, a = config["model"], config["data"], config["train"], config["augment"]
    parts = [f"TRP={m['use_trp']}", f"SGM={m['use_sgm']}", f"mask head={m['use_mask']}",
             f"occlusion head={m['use_occlusion']}", f"domain adaptation={m['use_domain']}"]
    losses = ", ".join(f"{k} {float(v):.4f}" for k, v in last.items() if k in config["loss"])
    crop = f"{m['input_height']}x{m['input_width']}"
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
    return f"""# pose2d — occluded top-down 2D pose (RSGNet + Das et al.)

- **Task**: one 2D skeleton (`{m['skeleton']}`) per person box, with per-joint score and visible/occluded state.
- **Input**: {inputs}
- **Outputs**: `heatmaps (N, K, {m['input_height'] // 4}, {m['input_width'] // 4})` (target joints, decode with DARK,
  sigma {a['sigma']}), `occlusion (N, K)` logits.
- **Architecture**: `{m['backbone']}` backbone (width {m['width']}) + FPN P3 -> stride 4, {m['channels']} head
  channels ({m.get('head_conv', 'full')} 3x3 convolutions per person); {', '.join(parts)}; relation pooling {m['relation_pool']}.
- **Training data**: synthetic engine only — `{d['source_preset']}` ({samples}, with keypoints)
  and `{d['target_preset']}` ({target}, boxes + masks only, for domain adaptation).
  Curriculum occlusion up to {a['curriculum']['max_fraction']:.0%} of body parts ({'on' if a['curriculum']['enabled'] else 'off'}).
- **Budget**: {last['step']} steps x batch {t['batch_size']} ({float(last['elapsed_s']) / 60:.1f} min wall on CPU,
  {t['threads']} torch thread(s)), AdamW lr {t['lr']} with warm-up + cosine.
- **Final training losses**: {losses}.
- **Command**: `{command}`
- **Files**: `pose2d.safetensors` (weights + config), `pose2d.onnx` (opset {meta.opset}, sha256 `{meta.sha256[:16]}…`),
  `pose2d.json` (runtime metadata), `pose2d.config.json` (training config).
- **Accuracy**: see `docs/RESULTS.md` sections `pose2d-*` (synthetic bench by density and occlusion,
  occlusion table, latency vs people, ablations).
- **Limitations**: trained for minutes on a CPU on synthetic people only, no pretrained backbone:
  a working baseline for the pipeline, far from converged; expect it to be weak on real images and
  on small (< 48 px) people. Retrain with `--preset gpu` for real use.
"""


def ship_run(run_dir: Path | str, weights_dir: Path | str, command: str) -> list[Path]:
    """Copy ``run_dir``'s ``model.safetensors``, ``model.config.json``, ``pose2d.onnx``/``.json`` into
    ``weights_dir`` as ``pose2d.*`` and write ``pose2d.md``; refuses files over 8 MB."""
    run_dir, weights_dir = Path(run_dir), Path(weights_dir)
    sources = {
        "pose2d.safetensors": run_dir / "model.safetensors",
        "pose2d.config.json": run_dir / "model.config.json",
        "pose2d.onnx": run_dir / "pose2d.onnx",
        "pose2d.json": run_dir / "pose2d.json",
    }
    for name, src in sources.items():
        if not src.is_file():
            raise FileNotFoundError(f"{src} missing (train with --export first) for {name}")
        if src.stat().st_size > MAX_FILE_MB * 2**20:
            raise ValueError(f"{src} is {src.stat().st_size / 2**20:.1f} MB, over the {MAX_FILE_MB} MB limit")
    weights_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, src in sources.items():
        shutil.copyfile(src, weights_dir / name)
        written.append(weights_dir / name)
    config = json.loads((run_dir / "model.config.json").read_text(encoding="utf-8"))
    card = render_model_card(config, _last_log_row(run_dir / "log.csv"), ModelMetadata.load(run_dir / "pose2d.json"), command)
    (weights_dir / "pose2d.md").write_text(card, encoding="utf-8")
    return [*written, weights_dir / "pose2d.md"]
