"""Write a generated split to disk in the dataset formats and as rosbag2.

File formats come from the formats registry (:func:`crowd_perception.formats.open_writer`: coco,
crowdpose, crowdhuman, citypersons, jta, mot). Bags (``bag`` = mcap, ``bag-sqlite3``) are written
by a writer the caller hands in as a factory (the command line passes the ros area's
``write_synthetic_bag``; synth sits below ros and never imports it). A format whose writer is not
available is rejected before anything is generated. One generation pass feeds
every file writer and the first bag; each further bag regenerates the split (generation is
deterministic, so every output holds the same frames).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

from .config import SynthConfig
from .generator import Sample, generate

__all__ = ["BAG_FORMATS", "BagWriter", "BagWriterFactory", "available_formats", "export"]

BAG_FORMATS = {"bag": "mcap", "bag-sqlite3": "sqlite3"}
_FPS_FORMATS = ("mot", "jta")  # sequence formats that record the frame rate


class BagWriter(Protocol):
    """Writes samples to a rosbag2 folder with the given storage plugin; returns the frames written."""

    def __call__(self, samples: Iterable[Sample], path: Path, storage: str) -> int: ...


BagWriterFactory = Callable[[], BagWriter]  # called only when a bag format is asked for


def available_formats(bags: bool = False) -> list[str]:
    """Names accepted by :func:`export`: the formats registry's writers, and the bag formats when
    a bag writer is given (``bags``)."""
    from ..formats import writer_names

    return sorted(writer_names()) + (list(BAG_FORMATS) if bags else [])


def export(config: SynthConfig, seed: int, out_dir: str | Path, formats: Iterable[str], image_ext: str = ".jpg",
           progress: bool = True, bag_writer: BagWriterFactory | None = None) -> dict[str, Path]:
    """Generate ``config`` with ``seed`` and write it in every format; returns format -> output path.

    Output layout: ``<out_dir>/<format>/`` for file formats (split name = config name) and
    ``<out_dir>/<config>_<storage>`` bag folders. Existing bag folders are an error (never
    overwritten). Bag formats need ``bag_writer``.
    """
    from ..formats import open_writer

    formats = list(dict.fromkeys(formats))
    known = available_formats(bags=bag_writer is not None)
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
            kwargs: dict[str, Any] = {"split": config.name, "image_ext": image_ext}
            if name in _FPS_FORMATS:
                kwargs["fps"] = config.fps
            writers.append(stack.enter_context(open_writer(name, out_dir / name, **kwargs)))
        samples = _fan_out(_progress(generate(config, seed), config, progress, "synth"), writers)
        if bags and bag_writer is not None:
            bag_writer()(samples, bag_paths[bags[0]], storage=BAG_FORMATS[bags[0]])
        else:
            for _ in samples:
                pass
    for name in bags[1:]:
        stream = _progress(generate(config, seed), config, progress, name)
        if bag_writer is not None:
            bag_writer()(stream, bag_paths[name], storage=BAG_FORMATS[name])
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
