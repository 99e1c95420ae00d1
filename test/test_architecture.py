"""The package's structure, read from its source (ast, nothing imported): imports between the
top-level areas point down the layer order, no module loads a crowd_perception module by a string,
and every named error derives from CrowdPerceptionError."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "crowd_perception"

# The one layer order: an area may import the areas before it, never one after it. Every import
# counts, the lazy ones inside functions too.
LAYERS = (
    "core",
    "utils",
    "runtime",
    "formats",
    "eval",
    "synth",
    "training",
    "models",
    "tracking",
    "pipeline",
    "ros",
    "cli",
)


@dataclass(frozen=True)
class Edge:
    source: str  # module path relative to the package, e.g. "tracking/cli.py"
    line: int
    target: str  # imported module, e.g. "crowd_perception.models.registry"

    @property
    def areas(self) -> tuple[str, str]:
        return Path(self.source).parts[0], self.target.split(".")[1]


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _package_of(path: Path) -> list[str]:
    """Dotted parts of the package a module's relative imports start from."""
    return ["crowd_perception", *path.relative_to(PACKAGE).parent.parts]


def _edges() -> list[Edge]:
    edges = []
    for path, tree in _modules():
        source = str(path.relative_to(PACKAGE))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _package_of(path)[: len(_package_of(path)) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                targets = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            edges += [Edge(source, node.lineno, t) for t in targets if t.count(".") and t.startswith("crowd_perception.")]
    return [e for e in edges if len(Path(e.source).parts) > 1 and e.areas[1] in LAYERS]


def test_every_area_is_in_the_layer_order():
    areas = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert areas - {"weights"} == set(LAYERS)


def test_imports_between_areas_point_down():
    upward = [e for e in _edges() if LAYERS.index(e.areas[1]) > LAYERS.index(e.areas[0])]
    assert not upward, "imports against the layer order:\n" + "\n".join(
        f"  {e.source}:{e.line} ({e.areas[0]}) imports {e.target} ({e.areas[1]})" for e in upward
    )


def test_no_two_way_edge_between_areas():
    pairs = {e.areas for e in _edges() if e.areas[0] != e.areas[1]}
    assert not {frozenset(p) for p in pairs if p[::-1] in pairs}


def test_no_module_is_imported_by_a_string():
    """``import_module("crowd_perception...")`` or a ``"crowd_perception.module:attr"`` registry hides an edge."""
    hidden = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "import_module",
                "__import__",
            ):
                named = node.args[0] if node.args else None
                if isinstance(named, ast.Constant) and str(named.value).startswith("crowd_perception"):
                    hidden.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {named.value!r}")
            elif isinstance(node, ast.Constant) and re.fullmatch(r"crowd_perception(\.\w+)+:\w+", str(node.value)):
                hidden.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}")
    assert not hidden, "crowd_perception modules named by strings:\n  " + "\n  ".join(hidden)


def _class_bases() -> dict[str, list[str]]:
    """Class name -> the names of its bases, over the whole package."""
    bases: dict[str, list[str]] = {}
    for _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
    return bases


def test_every_named_error_derives_from_crowd_perception_error():
    bases = _class_bases()
    builtin_errors = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}

    def ancestors(name: str) -> set[str]:
        found = {name}
        for base in bases.get(name, ()):
            if base not in found:
                found |= ancestors(base)
        return found

    errors = [n for n in bases if ancestors(n) & builtin_errors and n != "CrowdPerceptionError"]
    assert len(errors) > 5, "the walk found no error classes"
    assert not [n for n in errors if "CrowdPerceptionError" not in ancestors(n)]
