"""Telegram Bot API schema (``bot-api-*.json``) loading and call validation.

Values may arrive as multipart/form strings, so scalars are coerced according to the
declared type ("123" is an Integer, "true" a Boolean) and top-level JSON strings are
parsed for object/array fields.  Objects are checked recursively: unknown fields,
missing required fields, wrong types, and discriminator constants ("always \"emoji\"",
"must be photo") of union members.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_ENV_VAR = "BOT_API_SCHEMA"
ARRAY_PREFIX = "Array of "
ATTACH_PREFIX = "attach://"
SCALAR_TYPES = frozenset({"Integer", "Float", "Boolean", "True", "String"})

_CONST_RE = re.compile(r', (?:always|must be) "?(\w+)"?$')
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ATTACH_RE = re.compile(r"attach://([\w.-]+)")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_NUMERIC = {int: ("Integer", "Float"), float: ("Float",)}


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part (an ``InputFile`` upload)."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None


@dataclass(frozen=True)
class TypeDef:
    name: str
    fields: Mapping[str, Field]
    subtypes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodDef:
    name: str
    fields: Mapping[str, Field]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """A value coerced to its declared type plus the violations found on the way."""

    value: Any
    errors: list[str]


# Deprecated parameters that Telegram still accepts and aiogram still sends (e.g.
# ``DefaultBotProperties(link_preview_is_disabled=True)`` adds ``disable_web_page_preview``
# next to ``link_preview_options``).  They are allowed wherever their replacement is.
LEGACY_FIELDS: Mapping[str, tuple[Field, ...]] = {
    "link_preview_options": (Field("disable_web_page_preview", ("Boolean",), False),),
    "reply_parameters": (
        Field("reply_to_message_id", ("Integer",), False),
        Field("allow_sending_without_reply", ("Boolean",), False),
    ),
}


def default_schema_path() -> Path:
    override = os.environ.get(SCHEMA_ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared/telegram/bot-api-10.1.json"


def _parse_fields(raw: Iterable[Mapping[str, Any]]) -> dict[str, Field]:
    fields = {}
    for item in raw:
        const = _CONST_RE.search(item["description"]) if item["types"] == ["String"] else None
        fields[item["name"]] = Field(
            name=item["name"],
            types=tuple(item["types"]),
            required=bool(item["required"]),
            const=const.group(1) if const else None,
        )
    for replacement, legacy in LEGACY_FIELDS.items():
        if replacement in fields:
            fields |= {field.name: field for field in legacy}
    return fields


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def _iter_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _iter_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _iter_strings(item)


def attachment_names(params: Mapping[str, Any]) -> set[str]:
    """Names of file parts referenced as ``attach://<name>`` anywhere in ``params``."""
    return {name for text in _iter_strings(params) for name in _ATTACH_RE.findall(text)}


def _coerce_scalar(value: Any, type_name: str) -> Any:
    """Return ``value`` converted to ``type_name`` or raise ``ValueError``."""
    if type_name == "String":
        if isinstance(value, str):
            return value
    elif isinstance(value, bool):
        if type_name == "Boolean" or (type_name == "True" and value):
            return value
    elif isinstance(value, int | float) and type_name in _NUMERIC.get(type(value), ()):
        return value
    elif isinstance(value, str):
        return _coerce_string(value, type_name)
    raise ValueError


def _coerce_string(value: str, type_name: str) -> Any:
    if type_name == "Integer" and _INT_RE.fullmatch(value):
        return int(value)
    if type_name == "Float" and _FLOAT_RE.fullmatch(value):
        return float(value)
    if type_name in ("Boolean", "True") and value.lower() in _BOOLS:
        flag = _BOOLS[value.lower()]
        if flag or type_name == "Boolean":
            return flag
    raise ValueError


class BotApiSchema:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self.types = {
            name: TypeDef(
                name, _parse_fields(raw.get("fields", ())), tuple(raw.get("subtypes", ()))
            )
            for name, raw in data["types"].items()
        }
        self.methods = {
            name: MethodDef(name, _parse_fields(raw.get("fields", ())), tuple(raw["returns"]))
            for name, raw in data["methods"].items()
        }
        self._methods_ci = {name.lower(): method for name, method in self.methods.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> BotApiSchema:
        return cls(json.loads((path or default_schema_path()).read_text(encoding="utf-8")))

    def method(self, name: str) -> MethodDef | None:
        """Method definition by name; like Telegram, the lookup is case-insensitive."""
        return self._methods_ci.get(name.lower())

    def validate_call(self, method: str, params: Mapping[str, Any]) -> list[str]:
        return self.decode_call(method, params).errors

    def validate_value(self, types: Sequence[str], value: Any, path: str = "") -> list[str]:
        """Check an already-decoded value (e.g. a result or an update) against ``types``."""
        return self._check(value, types, path or "|".join(types)).errors

    def decode_call(self, method: str, params: Mapping[str, Any]) -> Checked:
        """Coerce call parameters to their declared types and collect violations.

        File parts (``UploadedFile`` values) referenced via ``attach://name`` are not
        fields; they are kept as they are.
        """
        definition = self.method(method)
        if definition is None:
            return Checked(dict(params), [f"{method}: unknown method"])
        attached = attachment_names(params)
        errors = [
            f"{method}: attach://{name} refers to a missing file part"
            for name in sorted(attached)
            if not isinstance(params.get(name), UploadedFile)
        ]
        decoded: dict[str, Any] = {}
        for key, value in params.items():
            if key in attached and isinstance(value, UploadedFile):
                decoded[key] = value
            elif key not in definition.fields:
                decoded[key] = value
                errors.append(f"{definition.name}.{key}: unknown parameter")
        checked = self._check_fields(
            {k: v for k, v in params.items() if k in definition.fields},
            definition.fields,
            definition.name,
            form=True,
        )
        decoded.update(checked.value)
        return Checked(decoded, errors + checked.errors)

    def _check_fields(
        self, value: Mapping[str, Any], fields: Mapping[str, Field], path: str, form: bool = False
    ) -> Checked:
        errors = [f"{path}.{key}: unknown field" for key in value if key not in fields]
        decoded = {key: item for key, item in value.items() if key not in fields}
        for field in fields.values():
            if field.name not in value:
                if field.required:
                    errors.append(f"{path}.{field.name}: required field is missing")
                continue
            raw = value[field.name]
            if form:
                raw = _parse_form_json(raw, field.types)
            checked = self._check(raw, field.types, f"{path}.{field.name}")
            if field.const is not None and checked.value != field.const:
                errors.append(f"{path}.{field.name}: must be {field.const!r}, got {raw!r}")
            decoded[field.name] = checked.value
            errors += checked.errors
        return Checked(decoded, errors)

    def _check(self, value: Any, types: Sequence[str], path: str) -> Checked:
        """Check ``value`` against a union of type expressions; the first match wins."""
        attempts = []
        for type_expr in types:
            attempt = self._check_one(value, type_expr, path)
            if not attempt.errors:
                return attempt
            attempts.append(attempt)
        if len(attempts) == 1:
            return attempts[0]
        index, best = min(enumerate(attempts), key=lambda pair: len(pair[1].errors))
        header = f"{path}: matches none of {' | '.join(types)} (closest: {types[index]})"
        return Checked(value, [header, *best.errors])

    def _check_one(self, value: Any, type_expr: str, path: str) -> Checked:
        if type_expr.startswith(ARRAY_PREFIX):
            return self._check_array(value, type_expr.removeprefix(ARRAY_PREFIX), path)
        if type_expr in SCALAR_TYPES:
            try:
                return Checked(_coerce_scalar(value, type_expr), [])
            except ValueError:
                return Checked(value, [f"{path}: expected {type_expr}, got {_describe(value)}"])
        if type_expr == "InputFile":
            return self._check_input_file(value, path)
        definition = self.types.get(type_expr)
        if definition is None:
            return Checked(value, [f"{path}: schema has no type {type_expr!r}"])
        if definition.subtypes:
            return self._check(value, definition.subtypes, path)
        if not isinstance(value, Mapping):
            return Checked(value, [f"{path}: expected {type_expr} object, got {_describe(value)}"])
        return self._check_fields(value, definition.fields, path)

    def _check_array(self, value: Any, item_type: str, path: str) -> Checked:
        if not isinstance(value, list):
            return Checked(
                value, [f"{path}: expected Array of {item_type}, got {_describe(value)}"]
            )
        items = [self._check_one(item, item_type, f"{path}[{i}]") for i, item in enumerate(value)]
        return Checked([item.value for item in items], [e for item in items for e in item.errors])

    @staticmethod
    def _check_input_file(value: Any, path: str) -> Checked:
        if isinstance(value, UploadedFile) or (
            isinstance(value, str) and value.startswith(ATTACH_PREFIX)
        ):
            return Checked(value, [])
        return Checked(value, [f"{path}: expected an uploaded InputFile, got {_describe(value)}"])


def _parse_form_json(value: Any, types: Sequence[str]) -> Any:
    """Top-level form values carry objects and arrays as JSON-encoded strings."""
    if not isinstance(value, str) or "String" in types:
        return value
    if all(t in SCALAR_TYPES or t == "InputFile" for t in types):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


@cache
def load_schema(path: Path | None = None) -> BotApiSchema:
    """The (cached) schema from ``path``, ``$BOT_API_SCHEMA`` or the shared default."""
    return BotApiSchema.load(path)
