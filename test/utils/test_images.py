"""One listing of image folders: natural order of the path below the folder, suffix filter, recursion."""

from __future__ import annotations

from pathlib import Path

from crowd_perception.utils.images import image_files


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_natural_order_suffixes_and_recursion(tmp_path: Path) -> None:
    _touch(tmp_path, "10.jpg", "2.JPG", "1.png", "notes.txt", "b/3.jpg", "a/20.jpg", "a/4.bmp")
    (tmp_path / "dir.jpg").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["1.png", "2.JPG", "10.jpg"]
    below = [p.relative_to(tmp_path).as_posix() for p in image_files(tmp_path, recursive=True, suffixes=(".jpg",))]
    assert below == ["2.JPG", "10.jpg", "a/20.jpg", "b/3.jpg"]
    assert image_files(tmp_path / "a", suffixes=(".png",)) == []
