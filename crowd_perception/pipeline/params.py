"""Node parameters declared once, on config dataclasses, and used by the nodes and the offline replay.

Every field of a node config carries :func:`param` metadata (description, range or choices,
whether it may change at run time). The rclpy adapter turns them into declared parameters with
descriptors; :func:`config_from_params` builds and validates the dataclass from any mapping
(ROS parameters, ``config/*.yaml``), so the nodes and ``crowd-perception replay`` read the same
files with the same checks.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from ..core.errors import CrowdPerceptionError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "ParamSpec",
    "ParamSection",
    "param",
    "param_specs",
    "config_from_params",
    "load_node_params",
    "node_config_from_file",
    "node_fqn",
    "read_params_file",
    "ParameterError",
]

_LOG = logging.getLogger(__name__)

C = TypeVar("C", bound="DataclassInstance")


class ParameterError(CrowdPerceptionError, ValueError):
    """A parameter value that is out of range, of the wrong type, or not changeable at run time."""


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: name, default, type and the constraints its descriptor states."""

    name: str
    default: Any
    type: type
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    dynamic: bool = False

    def describe(self) -> str:
        """Description with the constraints appended (what ``ros2 param describe`` shows)."""
        extra = []
        if self.choices:
            extra.append(f"one of: {', '.join(self.choices)}")
        if not self.dynamic:
            extra.append("read at start-up")
        return self.description + (f" ({'; '.join(extra)})" if extra else "")

    def check(self, value: Any) -> Any:
        """``value`` converted to this parameter's type, or :class:`ParameterError`."""
        out: Any  # bool, int, float or str, as the parameter's type says
        try:
            if self.type is bool:
                if not isinstance(value, bool):
                    raise TypeError
                out = value
            elif self.type is int:
                if isinstance(value, bool) or int(value) != value:
                    raise TypeError
                out = int(value)
            elif self.type is float:
                if isinstance(value, bool):
                    raise TypeError
                out = float(value)
            else:
                out = str(value)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{self.name}: expected {self.type.__name__}, got {value!r}") from None
        if self.type is float and not math.isfinite(out):
            raise ParameterError(f"{self.name}: {out} is not a finite number")
        # written so that NaN fails (every comparison with NaN is False)
        if not ((self.low is None or out >= self.low) and (self.high is None or out <= self.high)):
            raise ParameterError(f"{self.name}: {out} is outside [{self.low}, {self.high}]")
        if self.choices is not None and out not in self.choices:
            raise ParameterError(f"{self.name}: {out!r} is not one of {', '.join(self.choices)}")
        return out


def param(description: str, *, low: float | None = None, high: float | None = None,
          choices: tuple[str, ...] | None = None, dynamic: bool = False) -> dict[str, Any]:
    """Field metadata: ``x: float = field(default=0.5, metadata=param("...", low=0, high=1, dynamic=True))``."""
    return {"param": {"description": description, "low": low, "high": high, "choices": choices, "dynamic": dynamic}}


def param_specs(config_cls: type) -> list[ParamSpec]:
    """The declared parameters of a node config dataclass, in field order."""
    specs = []
    for f in dataclasses.fields(config_cls):
        meta = f.metadata.get("param")
        if meta is None:
            raise TypeError(f"{config_cls.__name__}.{f.name} has no param() metadata")
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            raise TypeError(f"{config_cls.__name__}.{f.name} has no default")
        specs.append(ParamSpec(f.name, default, type(default), **meta))
    return specs


def config_from_params(config_cls: type[C], values: Mapping[str, Any], base: C | None = None) -> C:
    """``config_cls`` from ``base`` (or the defaults) with ``values`` applied and validated.

    Unknown names are an error (a typo in a YAML file must not be silently ignored).
    """
    specs = {s.name: s for s in param_specs(config_cls)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ParameterError(f"unknown parameters for {config_cls.__name__}: {', '.join(unknown)}")
    checked = {name: specs[name].check(value) for name, value in values.items()}
    return dataclasses.replace(base if base is not None else config_cls(), **checked)


ROS_BUILTIN_PARAMETERS = ("use_sim_time", "start_type_description_service")
_ROS_BUILTIN_PREFIXES = ("qos_overrides.",)
PARAMS_KEY = "ros__parameters"


@dataclass(frozen=True)
class ParamSection:
    """One node section of a params file: its key as written, its node-name pattern and its parameters."""

    key: str
    pattern: str  # fully qualified, with ROS wildcards (``/**``, ``/ns/*/node``)
    params: dict[str, Any]

    @property
    def wildcard(self) -> bool:
        """Whether the section is for any node name (``/**``, ``/ns/*``), not for one node."""
        return "*" in self.pattern.rsplit("/", 1)[1]

    def matches(self, fqn: str) -> bool:
        """ROS's own rule (rclcpp ``parameter_map_from`` / rclpy): ``/*`` is one name token, ``/**`` any number."""
        # "/*" -> "(/\w+)", so "/**" becomes "(/\w+)*": the second star is the regex's own repetition
        regex = r"(/\w+)".join(re.escape(part).replace(r"\*", "*") for part in self.pattern.split("/*"))
        return re.fullmatch(regex, fqn) is not None


def node_fqn(node_name: str, namespace: str = "/") -> str:
    """``/ns/node`` from a node name (already fully qualified when it starts with ``/``) and a namespace."""
    if node_name.startswith("/"):
        return node_name
    namespace = "/" + namespace.strip("/") if namespace.strip("/") else ""
    return f"{namespace}/{node_name}"


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested parameter namespaces (``a: {b: 1}``) as ROS names them (``a.b``)."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        full = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out


def _looks_like_params_key(key: Any) -> bool:
    text = str(key).lower()
    return "param" in text or difflib.SequenceMatcher(None, text, PARAMS_KEY).ratio() >= 0.75


def read_params_file(path: str | Path) -> list[ParamSection]:
    """Every node section of a ROS 2 params file, in file order; every structural fault is a ParameterError.

    Node keys are read as ROS reads them: without a leading ``/`` they are rooted (``detector_node``
    is ``/detector_node``); a key whose mapping has no ``ros__parameters`` is a namespace holding
    further node keys (``crowd_perception: {detector_node: {ros__parameters: ...}}``); wildcards
    ``/*`` and ``/**`` are kept for :meth:`ParamSection.matches`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParameterError(f"{path}: broken YAML{where}: {problem}") from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of node names to {{{PARAMS_KEY}: ...}}, "
                             f"got a {type(data).__name__}")
    sections: list[ParamSection] = []

    def walk(mapping: Mapping[Any, Any], prefix: str) -> None:
        for key, value in mapping.items():
            if not isinstance(key, str) or not key.strip("/"):
                raise ParameterError(f"{path}: {key!r} is not a node name")
            name = f"{prefix}/{key.strip('/')}"
            if not isinstance(value, dict):
                raise ParameterError(f"{path}: node {name}: expected a mapping with {PARAMS_KEY}, "
                                     f"got a {type(value).__name__} ({value!r:.60})")
            if PARAMS_KEY in value:
                others = sorted(str(k) for k in value if k != PARAMS_KEY)
                if others:
                    raise ParameterError(f"{path}: node {name}: unexpected key(s) {', '.join(others)} next to "
                                         f"{PARAMS_KEY}")
                params = value[PARAMS_KEY] if value[PARAMS_KEY] is not None else {}
                if not isinstance(params, dict):
                    raise ParameterError(f"{path}: node {name}: {PARAMS_KEY} must be a mapping of parameter names "
                                         f"to values, got a {type(params).__name__}")
                bad = [k for k in params if not isinstance(k, str)]
                if bad:
                    raise ParameterError(f"{path}: node {name}: parameter name {bad[0]!r} is not a string")
                sections.append(ParamSection(key if prefix == "" else name, name, _flatten(params)))
                continue
            misspelled = [k for k in value if _looks_like_params_key(k)]
            if misspelled:
                raise ParameterError(f"{path}: node {name}: key {misspelled[0]!r} is not {PARAMS_KEY!r} "
                                     "(misspelled?)")
            if not value:
                raise ParameterError(f"{path}: node {name}: empty section (expected {PARAMS_KEY})")
            walk(value, name)  # a namespace

    walk(data, "")
    return sections


def load_node_params(path: str | Path, node_name: str, namespace: str = "/",
                     known_nodes: Sequence[str] | None = None) -> dict[str, Any]:
    """The parameters a node named ``node_name`` in ``namespace`` gets from a ROS 2 params file.

    Every section whose node name matches the node's fully qualified name (``/**``, ``/**/node``,
    ``/ns/node``, ``node`` at the root, ``/ns/*``) applies, in file order, later values winning
    (what rclpy and rclcpp do). With ``known_nodes`` (the package's node names), a section that
    names no known node is reported: a near miss of a known name (``detektor_node``) is an error,
    a known node in another namespace or an unrelated node is logged as a warning.
    """
    fqn = node_fqn(node_name, namespace)
    sections = read_params_file(path)
    if known_nodes is not None:
        _check_sections(path, sections, known_nodes, fqn)
    params: dict[str, Any] = {}
    for section in sections:
        if section.matches(fqn):
            params.update(section.params)
    return params


def _check_sections(path: str | Path, sections: list[ParamSection], known_nodes: Sequence[str], fqn: str) -> None:
    namespace = fqn.rsplit("/", 1)[0]
    for section in sections:
        if section.wildcard:
            continue
        namespace_of, name = section.pattern.rsplit("/", 1)
        if name in known_nodes:
            if "*" not in namespace_of and namespace_of != namespace:
                _LOG.warning("%s: section %s is for a node in namespace %r, not %r: not applied", path,
                             section.key, namespace_of or "/", namespace or "/")
            continue
        near = difflib.get_close_matches(name, known_nodes, n=1, cutoff=0.8)
        if near:
            raise ParameterError(f"{path}: node section {section.key!r} names no node of this package "
                                 f"(did you mean {near[0]!r}?)")
        _LOG.warning("%s: section %s names no crowd_perception node (%s); ignored", path, section.key,
                     ", ".join(known_nodes))


def node_config_from_file(config_cls: type[C], path: str | Path, node_name: str, namespace: str = "/",
                          known_nodes: Mapping[str, type] | None = None) -> C:
    """``config_cls`` from the sections of ``path`` that apply to the node; errors name file, node and key.

    Parameters from wildcard sections that this node does not declare are skipped when another known
    node declares them (``/**`` is shared by every node) or ROS does (``use_sim_time``); a name no
    node declares is an error, as is any unknown name in the node's own sections.
    """
    fqn = node_fqn(node_name, namespace)
    sections = read_params_file(path)
    if known_nodes is not None:
        _check_sections(path, sections, list(known_nodes), fqn)
    declared = {s.name for s in param_specs(config_cls)}
    shared = {s.name for cls in (known_nodes or {}).values() for s in param_specs(cls)}
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for section in sections:
        if not section.matches(fqn):
            continue
        for name, value in section.params.items():
            builtin = name in ROS_BUILTIN_PARAMETERS or name.startswith(_ROS_BUILTIN_PREFIXES)
            if name not in declared and (builtin or (section.wildcard and name in shared)):
                continue
            values[name], origin[name] = value, section.key
    unknown = sorted(set(values) - declared)
    if unknown:
        where = ", ".join(f"{name} (section {origin[name]})" for name in unknown)
        raise ParameterError(f"{path}: node {fqn}: unknown parameter(s) {where}")
    try:
        return config_from_params(config_cls, values)
    except ParameterError as exc:
        name = str(exc).split(":", 1)[0]
        where = f" (section {origin[name]})" if name in origin else ""
        raise ParameterError(f"{path}: node {fqn}{where}: {exc}") from None
