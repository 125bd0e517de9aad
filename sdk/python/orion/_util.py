"""Small helpers shared across the SDK: JSON conversion, time zones, frames."""

import datetime
import enum
import json
import math
import os
import sys

# uuid, pathlib and decimal are not imported here: every flow run imports
# this module, and a UUID, path or Decimal can only exist once its module
# has been imported, so to_jsonable looks them up in sys.modules instead.

# Directories whose frames belong to the runtime rather than to user code:
# this package and the ``prefect`` compatibility package unpacked beside it.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_RUNTIME_DIRS = tuple(
    os.path.normcase(os.path.join(_ROOT, name)) for name in ("orion", "prefect")
)


def is_runtime_file(filename):
    """True if ``filename`` is part of this runtime (orion/ or prefect/ shim)
    or is interpreter machinery such as ``runpy`` or ``<frozen ...>`` code."""
    if not filename:
        return True
    if filename.startswith("<frozen"):
        return True
    norm = os.path.normcase(os.path.abspath(filename))
    for d in _RUNTIME_DIRS:
        if norm == d or norm.startswith(d + os.sep):
            return True
    runpy_mod = sys.modules.get("runpy")
    runpy_file = getattr(runpy_mod, "__file__", None)
    if runpy_file and norm == os.path.normcase(os.path.abspath(runpy_file)):
        return True
    return False


def caller_location():
    """Return ``(file, line)`` of the innermost frame outside the runtime.

    ``file`` is an absolute path, or ``None`` when the caller is not a real
    file (an interactive session, ``exec`` of a string, ...).
    """
    frame = sys._getframe(1)
    while frame is not None and is_runtime_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None, None
    filename = frame.f_code.co_filename
    if filename.startswith("<") or not os.path.isfile(filename):
        return None, frame.f_lineno
    return os.path.abspath(filename), frame.f_lineno


# ---------------------------------------------------------------------------
# JSON


# Integers beyond this cannot be decoded by Go's encoding/json into float64
# (it rejects, rather than rounds, values past the float64 range).
_MAX_JSON_INT = 10**300


def is_plain_json(value, _depth=0):
    """True if ``value`` is made only of JSON types (None, bool, int, finite
    float, str, list/tuple, dict with str keys) that Go can decode."""
    if _depth > 100:
        return False
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return abs(value) <= _MAX_JSON_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(is_plain_json(v, _depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain_json(v, _depth + 1) for k, v in value.items())
    return False


def cap_utf8(text, limit, note):
    """``text`` if its UTF-8 encoding fits in ``limit`` bytes, else its
    beginning, cut on a character boundary, followed by ``note`` (formatted
    with the original length in bytes), all within ``limit`` bytes."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    suffix = note % len(data)
    room = limit - len(suffix.encode("utf-8"))
    return data[:room].decode("utf-8", "ignore") + suffix


def _is_instance(value, module, name):
    """isinstance(value, module.name), without importing ``module``."""
    mod = sys.modules.get(module)
    return mod is not None and isinstance(value, getattr(mod, name))


def to_jsonable(value, _depth=0):
    """Convert ``value`` to plain JSON types, like pydantic's JSON encoder.

    Handles datetimes (ISO 8601), timedeltas (seconds), UUIDs, paths,
    decimals, enums, bytes (UTF-8), sets and tuples (lists) and objects with a
    pydantic-style ``model_dump()``/``dict()``. Raises ``TypeError`` for
    anything else and ``ValueError`` for NaN/Infinity.
    """
    if _depth > 100:
        raise ValueError("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_JSON_INT:
            raise ValueError("integer %d... is too large for JSON consumers" % int(str(value)[:20]))
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("out of range float value %r is not JSON compliant" % value)
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, enum.Enum):
                k = k.value
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError("keys must be str, int, float, bool or None, not %s" % type(k).__name__)
            key = k if isinstance(k, str) else json.dumps(k)
            out[key] = to_jsonable(v, _depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if isinstance(value, (set, frozenset)):
            try:
                items = sorted(items)
            except TypeError:
                pass
        return [to_jsonable(v, _depth + 1) for v in items]
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _depth + 1)
    if _is_instance(value, "uuid", "UUID") or _is_instance(value, "pathlib", "PurePath"):
        return str(value)
    if _is_instance(value, "decimal", "Decimal"):
        if not value.is_finite():
            raise ValueError("decimal %s is not JSON compliant" % value)
        if value == value.to_integral_value():
            return int(value)
        return to_jsonable(float(value), _depth + 1)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    for method in ("model_dump", "dict"):
        fn = getattr(value, method, None)
        if callable(fn) and not isinstance(value, type):
            try:
                dumped = fn()
            except TypeError:
                continue
            if isinstance(dumped, dict):
                return to_jsonable(dumped, _depth + 1)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def dumps(value):
    """Serialize ``value`` as strict, compact, single-line JSON.

    ASCII-only output: lone surrogates (undecodable file names) become
    ``\\udcXX`` escapes instead of breaking the UTF-8 stream.
    """
    return json.dumps(value, allow_nan=False, ensure_ascii=True, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Time zones


def zoneinfo_or_none(name):
    """Return a ``zoneinfo.ZoneInfo`` for ``name``.

    Returns ``None`` when no time-zone database is available at all (minimal
    containers), and raises ``ValueError("Invalid timezone ...")`` for a name
    the database does not know.
    """
    try:
        import zoneinfo
    except ImportError:  # pragma: no cover - Python < 3.9 is rejected earlier
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    try:
        zoneinfo.ZoneInfo("America/New_York")
    except Exception:
        # No database here: accept the name; the server validates it again.
        return None
    raise ValueError("Invalid timezone: %r" % (name,))


def validate_timezone(field, value):
    """Validate an optional IANA time-zone name for ``field``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Invalid `%s`: expected an IANA time zone name such as 'America/New_York', got %r" % (field, value))
    value = value.strip()
    try:
        zoneinfo_or_none(value)
    except ValueError:
        raise ValueError("Invalid `%s`: unknown time zone %r" % (field, value)) from None
    return value
