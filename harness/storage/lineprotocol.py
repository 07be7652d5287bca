"""InfluxDB line protocol for the harness's own points, without influxdb_client's `Point`.

`Line` is a point as data; its `to_line_protocol()` is byte for byte what
`Point(...).tag(...).field(...).time(...).to_line_protocol()` gives for the same tags,
fields and time (tests/unit/test_lineprotocol.py checks it), at a fraction of the cost: keys
and tag values are escaped once and remembered, and by `str.replace` (faster than
`translate`); the common field types are encoded inline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

FieldValue = str | int | float | bool | None

# what influxdb_client escapes, in an order where no replacement makes a later one match
_MEASUREMENT_ESCAPES = ((",", "\\,"), (" ", "\\ "), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r"))
_KEY_ESCAPES = (("=", "\\="), *_MEASUREMENT_ESCAPES)
# escaped keys and tag values remembered: catalog- or code-declared names, and the metrics,
# branches and dimensions of series, which come again and again
_KNOWN_KEYS = 4096
_LONGEST_KNOWN = 256

_keys: dict[str, str] = {}


class Line(NamedTuple):
    """One point: measurement, tags (empty values left out), fields (None and
    non-finite floats left out) and time in ns, encoded on demand."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time: int | None = None

    def to_line_protocol(self) -> str:
        """The point as one line ("" if it has no field, as `Point` gives)."""
        return encode(self.measurement, self.tags, self.fields, self.time)


def encode(measurement: str, tags: Mapping[str, str | None],
           fields: Mapping[str, FieldValue], time: int | None = None) -> str:
    """One line of line protocol: tags and fields sorted by key, as influxdb_client does."""
    encoded = []
    for key in sorted(fields):  # the common types inline: this is the worker's hot path
        value = fields[key]
        if type(value) is str:
            value = value.replace("\\", "\\\\").replace('"', '\\"')
            encoded.append(f'{_keys.get(key) or _key(key)}="{value}"')
        elif type(value) is float:
            if value - value == 0.0:  # inf and NaN are left out, as influxdb_client does
                text = repr(value)
                text = text[:-2] if text.endswith(".0") else text
                encoded.append(f"{_keys.get(key) or _key(key)}={text}")
        elif type(value) is int:
            encoded.append(f"{_keys.get(key) or _key(key)}={value}i")
        elif value is not None:
            item = _field(key, value)
            if item:
                encoded.append(item)
    if not encoded:
        return ""
    head = _escaped(measurement, _MEASUREMENT_ESCAPES)
    for key in sorted(tags):
        value = tags[key]
        if value is None:
            continue
        name, escaped = _keys.get(key) or _key(key), _keys.get(value) or _key(value)
        if name and escaped:
            # a trailing backslash would escape the separator: influxdb_client adds a space
            head += f",{name}={escaped} " if escaped[-1] == "\\" else f",{name}={escaped}"
    text = ",".join(encoded)
    return f"{head} {text}" if time is None else f"{head} {text} {time}"


def _field(key: str, value: str | int | float | bool) -> str:
    """`key=value` as influxdb_client writes it; "" for a non-finite float (left out)."""
    if type(value) is str:
        return f'{_key(key)}="{_string(value)}"'
    if type(value) is float:
        return _float(key, value)
    if type(value) is int:
        return f"{_key(key)}={value}i"
    # bool, and subclasses, in influxdb_client's order of checks (float first; a bool is an
    # int but is written as one only if it is not a bool)
    if isinstance(value, float):
        return _float(key, value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{_key(key)}={value!s}i"
    if isinstance(value, bool):
        return f"{_key(key)}={str(value).lower()}"
    if isinstance(value, str):
        return f'{_key(key)}="{_string(str(value))}"'
    raise ValueError(f'Type: "{type(value)}" of field: "{key}" is not supported.')


def _float(key: str, value: float) -> str:
    if value - value != 0.0:  # inf or NaN: influxdb_client leaves the field out
        return ""
    text = str(value)
    return f"{_key(key)}={text[:-2] if text.endswith('.0') else text}"


def _string(value: str) -> str:
    """A string field's value between its quotes: only `"` and `\\` are escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _key(name: str) -> str:
    """A key or tag value, escaped (and remembered, unless long)."""
    escaped = _keys.get(name)
    if escaped is None:
        escaped = _escaped(name, _KEY_ESCAPES)
        if len(escaped) <= _LONGEST_KNOWN:
            if len(_keys) >= _KNOWN_KEYS:
                _keys.clear()
            _keys[name] = escaped
    return escaped


def _escaped(text: str, escapes: tuple[tuple[str, str], ...]) -> str:
    text = str(text)
    for special, escape in escapes:
        if special in text:
            text = text.replace(special, escape)
    return text
