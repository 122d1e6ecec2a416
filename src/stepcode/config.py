"""Typed configs: frozen dataclasses are the source of truth, YAML is their serialization.

``load_config(TrainConfig, "x.yaml", ["grpo.lam=0.3"])`` reads YAML, applies dotted ``--set``
overrides, rejects unknown keys (with a "did you mean"), checks scalar types and collects *every*
problem into one ``ConfigError``. Nested dataclass fields become nested mappings. ``__post_init__``
validation errors of the dataclasses (raised as ``ConfigError``) are collected too.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from stepcode.errors import ConfigError

C = TypeVar("C")


def load_config(cls: type[C], path: str | Path | None = None, overrides: Sequence[str] = ()) -> C:
    """Build ``cls`` from an optional YAML file plus ``key.sub=value`` overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            loaded = yaml.safe_load(p.read_text())
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {e}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: top level must be a mapping, got {type(loaded).__name__}")
        raw = loaded
    for item in overrides:
        _apply_override(raw, item)
    errors: list[str] = []
    obj = _build(cls, raw, "", errors)
    if errors:
        where = f" in {path}" if path else ""
        raise ConfigError(f"invalid config{where}:\n  " + "\n  ".join(errors))
    return obj  # type: ignore[return-value]


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The resolved config as plain data (what ``run_dir/config.yaml`` holds)."""
    return dataclasses.asdict(cfg)


def dump_config(cfg: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))


def _apply_override(raw: dict[str, Any], item: str) -> None:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r} must look like key.sub=value")
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {item!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = yaml.safe_load(value) if value.strip() else ""


def _build(cls: type, raw: Any, prefix: str, errors: list[str]) -> Any:
    if not isinstance(raw, Mapping):
        errors.append(f"{prefix or '<root>'}: expected a mapping, got {raw!r}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            errors.append(f"{name}: unknown key{hint}")
            continue
        kwargs[key] = _coerce(hints[key], value, name, errors)
    if any(v is _INVALID for v in kwargs.values()):
        return None
    try:
        return cls(**kwargs)
    except ConfigError as e:
        errors.append(f"{prefix.rstrip('.') or '<root>'}: {e}")
    except TypeError as e:
        errors.append(f"{prefix.rstrip('.') or '<root>'}: {e}")
    return None


_INVALID = object()


def _coerce(tp: Any, value: Any, name: str, errors: list[str]) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        built = _build(tp, value, f"{name}.", errors)
        return _INVALID if built is None else built
    if origin is Literal:
        if value not in get_args(tp):
            choices = ", ".join(repr(a) for a in get_args(tp))
            errors.append(f"{name}: {value!r} is not one of {choices}")
            return _INVALID
        return value
    if origin in (types.UnionType, typing.Union):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            sub: list[str] = []
            out = _coerce(arg, value, name, sub)
            if not sub:
                return out
        errors.append(f"{name}: {value!r} does not match {tp}")
        return _INVALID
    if origin in (tuple, list, Sequence):
        if not isinstance(value, list | tuple):
            errors.append(f"{name}: expected a list, got {value!r}")
            return _INVALID
        args = get_args(tp)
        item_tp = args[0] if args else Any
        items = [_coerce(item_tp, v, f"{name}[{i}]", errors) for i, v in enumerate(value)]
        return tuple(items) if origin is not list else items
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            errors.append(f"{name}: expected a mapping, got {value!r}")
            return _INVALID
        return dict(value)
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp in (int, float, str, bool):
        if type(value) is not tp:
            errors.append(f"{name}: expected {tp.__name__}, got {value!r}")
            return _INVALID
        return value
    return value
