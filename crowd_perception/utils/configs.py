"""Config dataclasses to and from JSON-ready dicts (tuples stay tuples, nested dataclasses rebuilt).

Shared by training (checkpoints carry their config) and inference (a runner rebuilds the model
config stored in its weights or export metadata) without either importing the other.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

__all__ = ["config_from_dict", "config_to_dict"]

T = TypeVar("T")


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass (a plain dict passes through)."""
    if isinstance(config, dict):
        plain: dict[str, Any] = json.loads(json.dumps(config))
        return plain
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(config)))
    return data


def _convert(tp: Any, value: Any) -> Any:
    """``value`` (from JSON/YAML) converted to the annotated type ``tp`` where that matters."""
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return config_from_dict(tp, value)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None) and value is None:
                return None
            if arg is not type(None):
                try:
                    return _convert(arg, value)
                except (TypeError, ValueError):
                    continue
        return value
    if origin is tuple and isinstance(value, list | tuple):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value, strict=True)) if args else tuple(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild config dataclass ``cls`` from :func:`config_to_dict` output; unknown keys are an error."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]  # T is a dataclass by contract
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    return cls(**{k: _convert(hints[k], v) for k, v in data.items()})
