"""Frozen, validated, JSON-able configuration dataclasses.

Every model and the trainer are configured by a subclass of :class:`ConfigBase`. A config is built from
keyword arguments or from a JSON dictionary; unknown keys fail with a suggestion, lists become tuples,
and ``validate`` runs in ``__post_init__`` so an invalid config can never exist.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import numbers
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
        try:
            self._check_types()
        except ConfigError as type_error:
            # The class's own check may say more ("max_shift must be a whole number of pixels"), or
            # normalise the value (a scalar into a tuple); if it cannot even look at the value, the
            # type error stands.
            try:
                self.validate()
            except ConfigError:
                raise
            except Exception:
                raise type_error from None
            self._check_types()
            return
        self.validate()

    def _check_types(self) -> None:
        """Check every field against its annotation (see :func:`_checked`), turning integral floats
        into ints; raises :class:`ConfigError` naming the field, the value and what was expected."""
        hints = _type_hints(type(self))  # type: ignore[arg-type]  # classes hash by identity
        for field in dataclasses.fields(self):
            if field.name in hints:
                value = _checked(
                    f"{type(self).__name__}.{field.name}", getattr(self, field.name), hints[field.name]
                )
                object.__setattr__(self, field.name, value)

    def validate(self) -> None:
        """Check field values; subclasses extend this and raise :class:`ConfigError`."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the config's fields, in declaration order (what :meth:`from_dict` accepts)."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able values (tuples become lists)."""
        return {f.name: _to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def check_field_names(cls, data: Mapping[str, Any]) -> None:
        """Refuse keys of ``data`` that are not fields, naming the closest known one."""
        known = list(cls.field_names())
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{cls.__name__} has no field {key!r}{hint} (fields: {', '.join(known)})")

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """Build a config from a mapping, refusing unknown keys with the closest known names."""
        cls.check_field_names(data)
        hints = typing.get_type_hints(cls)
        values = {key: _coerce(value, hints.get(key)) for key, value in data.items()}
        try:
            return cls(**values)
        except TypeError as error:  # a required field is missing
            raise ConfigError(f"{cls.__name__}: {error}") from None

    def replace(self: C, **changes: Any) -> C:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


_INT_LIMIT = 1 << 63


class _NoNumpyBool:  # stands in for numpy.bool_ when numpy is not imported yet
    pass


def _numpy_bool() -> type:
    import sys

    numpy = sys.modules.get("numpy")
    return numpy.bool_ if numpy is not None else _NoNumpyBool


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):  # pragma: no cover - an annotation that cannot be resolved
        return {}


_SINGULAR = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
_PLURAL = {bool: "true/false values", int: "integers", float: "finite numbers", str: "strings"}


def _describe(annotation: Any) -> str:
    if get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(repr(v) for v in get_args(annotation))
    if get_origin(annotation) is tuple:
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_PLURAL.get(args[0], 'values')}"
        return f"a list of {len(args)} values"
    return _SINGULAR.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _checked(name: str, value: Any, annotation: Any) -> Any:
    """``value`` checked against the field's annotation (ints, finite floats, bools, strings, literals,
    tuples and optionals), with exactly integral floats turned into ints; raises :class:`ConfigError`."""
    np_bool = _numpy_bool()
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _checked(name, value, option)
            except ConfigError:
                errors.append(_describe(option))
        allowed = " or ".join([*errors, "null"] if type(None) in options else errors)
        raise ConfigError(f"{name} must be {allowed}; got {value!r}")
    if origin is typing.Literal:
        if not any(value == choice and type(value) is type(choice) for choice in get_args(annotation)):
            raise ConfigError(f"{name} must be {_describe(annotation)}; got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, tuple):
            raise ConfigError(f"{name} must be {_describe(annotation)}; got {value!r}")
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_checked(f"{name}[{i}]", item, args[0]) for i, item in enumerate(value))
        if not args:
            return value
        if len(args) != len(value):
            raise ConfigError(f"{name} must be {_describe(annotation)}; got {value!r}")
        pairs = enumerate(zip(args, value, strict=True))
        return tuple(_checked(f"{name}[{i}]", item, arg) for i, (arg, item) in pairs)
    if annotation is bool:
        if isinstance(value, np_bool):
            value = bool(value)
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false; got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool | np_bool):
            value = int(value)  # numpy integers too
        elif (
            isinstance(value, numbers.Real)
            and not isinstance(value, bool | np_bool)
            and math.isfinite(value)
            and float(value).is_integer()
        ):
            value = int(float(value))
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer; got {value!r}")
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise ConfigError(f"{name} must be between -2**63 and 2**63 - 1; got {value}")
        return value
    if annotation is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool | np_bool):
            value = float(value)  # numpy numbers too
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name} must be a finite number; got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number; got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string; got {value!r}")
        return value
    if origin is dict and not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a mapping of keys to values; got {value!r}")
    return value


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
