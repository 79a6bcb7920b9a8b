"""Frozen, validated, JSON-able configuration dataclasses.

Every model and the trainer are configured by a subclass of :class:`ConfigBase`. A config is built from
keyword arguments or from a JSON dictionary; unknown keys fail with a suggestion, lists become tuples,
and ``validate`` runs in ``__post_init__`` so an invalid config can never exist.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin

from aekit.errors import ConfigError

__all__ = ["ConfigBase", "check_choice", "check_positive", "check_range"]

C = TypeVar("C", bound="ConfigBase")


@dataclasses.dataclass(frozen=True)
class ConfigBase:
    """Base of all configs: frozen, validated at construction, round-trips through JSON."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, list):
                object.__setattr__(self, field.name, _to_tuple(value))
        self.validate()

    def validate(self) -> None:
        """Check field values; subclasses extend this and raise :class:`ConfigError`."""

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able values (tuples become lists)."""
        return {f.name: _to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """Build a config from a mapping, refusing unknown keys with the closest known names."""
        known = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{cls.__name__} has no field {key!r}{hint} (fields: {', '.join(known)})")
        hints = typing.get_type_hints(cls)
        values = {key: _coerce(value, hints.get(key)) for key, value in data.items()}
        try:
            return cls(**values)
        except TypeError as error:  # a required field is missing
            raise ConfigError(f"{cls.__name__}: {error}") from None

    def replace(self: C, **changes: Any) -> C:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _to_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_to_tuple(v) for v in value)
    return value


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _to_jsonable(v) for k, v in value.items()}
    return value


def _coerce(value: Any, annotation: Any) -> Any:
    """Turn JSON values back into the annotated type where JSON loses it (lists → tuples)."""
    if value is None or annotation is None:
        return value
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                return _coerce(value, arg)
    if origin is tuple and isinstance(value, list):
        return _to_tuple(value)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``value`` is > 0 (or ≥ 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be {bound}; got {value!r}")


def check_range(name: str, value: float, low: float, high: float, *, inclusive: bool = True) -> None:
    """Raise :class:`ConfigError` unless ``low <= value <= high`` (strict when not ``inclusive``)."""
    inside = low <= value <= high if inclusive else low < value < high
    if not inside:
        brackets = ("[", "]") if inclusive else ("(", ")")
        raise ConfigError(f"{name} must be in {brackets[0]}{low}, {high}{brackets[1]}; got {value!r}")


def check_choice(name: str, value: Any, choices: typing.Iterable[Any]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
