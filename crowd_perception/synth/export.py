"""Write a generated split to disk in the dataset formats and as rosbag2.

File formats come from the formats registry (:func:`crowd_perception.formats.open_writer`: coco,
crowdpose, crowdhuman, citypersons, jta, mot); bags from the ros area's ``write_synthetic_bag``
(``bag`` = mcap, ``bag-sqlite3``). Writers are imported only when asked for, and a format whose
writer is not available is rejected before anything is generated. One generation pass feeds
every file writer and the first bag; each further bag regenerates the split (generation is
deterministic, so every output holds the same frames).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

from .config import SynthConfig
from .generator import Sample, generate

__all__ = ["BAG_FORMATS", "available_formats", "export"]

BAG_FORMATS = {"bag": "mcap", "bag-sqlite3": "sqlite3"}
_FPS_FORMATS = ("mot", "jta")  # sequence formats that record the frame rate


def _file_format_names() -> list[str]:
    try:
        formats = importlib.import_module("crowd_perception.formats")
    except ImportError:
        return []
    return list(formats.writer_names())


def _bag_writer():
    try:
        return importlib.import_module("crowd_perception.ros.bag").write_synthetic_bag
    except (ImportError, AttributeError):
        return None


def available_formats() -> list[str]:
    """Names accepted by :func:`export` in this installation."""
    bags = list(BAG_FORMATS) if _bag_writer() is not None else []
    return sorted(_file_format_names()) + bags


def export(config: SynthConfig, seed: int, out_dir: str | Path, formats: Iterable[str], image_ext: str = ".jpg",
           progress: bool = True) -> dict[str, Path]:
    """Generate ``config`` with ``seed`` and write it in every format; returns format -> output path.

    Output layout: ``<out_dir>/<format>/`` for file formats (split name = config name) and
    ``<out_dir>/<config>_<storage>`` bag folders. Existing bag folders are an error (never
    overwritten).
    """
    formats = list(dict.fromkeys(formats))
    known = available_formats()
    unknown = [f for f in formats if f not in known]
    if unknown or not formats:
        raise ValueError(f"unsupported format(s) {unknown or formats}; available here: {known}")
    config.validate()
    out_dir = Path(out_dir)
    bags = [f for f in formats if f in BAG_FORMATS]
    bag_paths = {f: out_dir / f"{config.name}_{BAG_FORMATS[f]}" for f in bags}
    for path in bag_paths.values():
        if path.exists():
            raise FileExistsError(f"bag {path} already exists; remove it or choose another --out")
    files = [f for f in formats if f not in BAG_FORMATS]
    outputs: dict[str, Path] = {f: out_dir / f for f in files} | bag_paths

    with ExitStack() as stack:
        writers = []
        for name in files:
            open_writer = importlib.import_module("crowd_perception.formats").open_writer
            kwargs = {"split": config.name, "image_ext": image_ext}
            if name in _FPS_FORMATS:
                kwargs["fps"] = config.fps
            writers.append(stack.enter_context(open_writer(name, out_dir / name, **kwargs)))
        samples = _fan_out(_progress(generate(config, seed), config, progress, "synth"), writers)
        if bags:
            _bag_writer()(samples, bag_paths[bags[0]], storage=BAG_FORMATS[bags[0]])
        else:
            for _ in samples:
                pass
    for name in bags[1:]:
        stream = _progress(generate(config, seed), config, progress, name)
        _bag_writer()(stream, bag_paths[name], storage=BAG_FORMATS[name])
    return outputs


def _fan_out(samples: Iterable[Sample], writers: list) -> Iterator[Sample]:
    """Pass samples through, writing each to every file writer on the way."""
    for sample in samples:
        for writer in writers:
            writer.write(sample.annotation, sample.image)
        yield sample


def _progress(samples: Iterator[Sample], config: SynthConfig, enabled: bool, label: str) -> Iterator[Sample]:
    from tqdm import tqdm

    return iter(tqdm(samples, total=config.num_frames, desc=f"{label} {config.name}", unit="frame",
                     disable=not enabled))
