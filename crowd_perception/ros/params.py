"""Node parameters declared once, on config dataclasses, and used by the nodes and the offline replay.

Every field of a node config carries :func:`param` metadata (description, range or choices,
whether it may change at run time). The rclpy adapter turns them into declared parameters with
descriptors; :func:`config_from_params` builds and validates the dataclass from any mapping
(ROS parameters, ``config/*.yaml``), so the nodes and ``crowd-perception replay`` read the same
files with the same checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ..core.errors import CrowdPerceptionError

__all__ = ["ParamSpec", "param", "param_specs", "config_from_params", "load_node_params", "ParameterError"]

C = TypeVar("C")


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
        except (TypeError, ValueError):
            raise ParameterError(f"{self.name}: expected {self.type.__name__}, got {value!r}") from None
        if (self.low is not None and out < self.low) or (self.high is not None and out > self.high):
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
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
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


def load_node_params(path: str | Path, node_name: str) -> dict[str, Any]:
    """The ``ros__parameters`` of ``node_name`` (and of the ``/**`` wildcard) in a ROS 2 params file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of node names to ros__parameters")
    params: dict[str, Any] = {}
    for key in ("/**", node_name, f"/{node_name}"):
        section = data.get(key) or {}
        params.update(section.get("ros__parameters") or {})
    return params
