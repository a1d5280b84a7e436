/**
 * The fixed part of the generated Python module: one helper per schema kind and one per rule kind. The
 * emitter only writes per-node functions and constants that call these. Each helper mirrors a function of
 * `src/validate.ts`; keep them in step (the shared vectors compare messages, not just paths).
 *
 * Written with String.raw so the Python escapes (`\ud800`) reach the file verbatim.
 */
export const PYTHON_RUNTIME = String.raw`
# ---------------------------------------------------------------------------------------------------
# Runtime: one helper per schema kind (mirrors shared/src/validate.ts)
# ---------------------------------------------------------------------------------------------------


class _StringSpec(NamedTuple):
    """Constraints of one string schema; messages are rendered at generation time, as TS does."""

    max_length: int | None
    min_length: int | None
    regex: re.Pattern[str] | None
    too_long: str | None
    too_short: str | None
    bad_format: str | None


class _NumberSpec(NamedTuple):
    """Constraints of one number or integer schema; bounds are the very doubles TS compares to."""

    integer: bool
    minimum: float | None
    maximum: float | None
    too_small: str | None
    too_large: str | None


class _EnumSpec(NamedTuple):
    """The allowed literals of an enum union and its message."""

    values: tuple[object, ...]
    message: str


_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _fail(errors: list[dict[str, str]], path: str, message: str) -> None:
    errors.append({"path": path, "message": message})


def _ptr(path: str, key: object) -> str:
    """Appends one JSON-pointer segment (RFC 6901: '~' -> '~0', '/' -> '~1')."""
    return path + "/" + str(key).replace("~", "~0").replace("/", "~1")


def _is_number(value: object) -> bool:
    # bool is a subclass of int in Python, but JSON true is not a number.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(value: object, const: object) -> bool:
    """JS '===' on JSON values: no mixing of bools and numbers (True == 1 in Python), 1 == 1.0."""
    if isinstance(const, bool) or const is None:
        return value is const
    if isinstance(const, str):
        return isinstance(value, str) and value == const
    return _is_number(value) and value == const


def _js_string(value: str) -> str:
    """The string as JS sees it after a JSON round trip: a surrogate pair built by hand in Python
    (two code points) is one astral code point there, so join it before counting or matching."""
    if value.isascii() or _SURROGATE_PAIR.search(value) is None:
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _string(value: object, path: str, errors: list[dict[str, str]], spec: _StringSpec) -> None:
    if not isinstance(value, str):
        _fail(errors, path, "must be a string")
        return
    value = _js_string(value)
    length = len(value)  # code points, as counted by validate.ts
    if spec.max_length is not None and length > spec.max_length:
        _fail(errors, path, spec.too_long)
        return
    if spec.min_length is not None and length < spec.min_length:
        _fail(errors, path, spec.too_short)
        return
    if _LONE_SURROGATE.search(value) is not None:
        _fail(errors, path, "must not contain unpaired surrogate characters")
        return
    # fullmatch on the pattern without ^ and $: Python's $ would also accept a trailing newline.
    if spec.regex is not None and spec.regex.fullmatch(value) is None:
        _fail(errors, path, spec.bad_format)


def _number(value: object, path: str, errors: list[dict[str, str]], spec: _NumberSpec) -> None:
    if not _is_number(value):
        _fail(errors, path, "must be an integer" if spec.integer else "must be a number")
        return
    if isinstance(value, int):
        # JSON.parse rounds an integer literal to the nearest double (2**63 + 1 -> 2**63) and turns
        # one beyond the double range into Infinity. float() rounds the same way and raises instead.
        try:
            value = float(value)
        except OverflowError:
            _fail(errors, path, "must be a finite number")
            return
    assert isinstance(value, float)
    if not math.isfinite(value):  # json.loads gives inf for 1e400 and accepts NaN
        _fail(errors, path, "must be a finite number")
        return
    if spec.integer and not value.is_integer():  # 5.0 is an integer, as in JS
        _fail(errors, path, "must be an integer")
        return
    if spec.minimum is not None and value < spec.minimum:
        _fail(errors, path, spec.too_small)
    elif spec.maximum is not None and value > spec.maximum:
        _fail(errors, path, spec.too_large)


def _boolean(value: object, path: str, errors: list[dict[str, str]]) -> None:
    if not isinstance(value, bool):
        _fail(errors, path, "must be a boolean")


def _null(value: object, path: str, errors: list[dict[str, str]]) -> None:
    if value is not None:
        _fail(errors, path, "must be null")


def _literal(
    value: object, path: str, errors: list[dict[str, str]], const: object, message: str
) -> None:
    if not _same(value, const):
        _fail(errors, path, message)


def _enum(value: object, path: str, errors: list[dict[str, str]], spec: _EnumSpec) -> None:
    for const in spec.values:
        if _same(value, const):
            return
    _fail(errors, path, spec.message)


def _extra_fields(
    value: dict, path: str, errors: list[dict[str, str]], allowed: frozenset[str]
) -> None:
    for key in value:
        if key not in allowed:
            _fail(errors, _ptr(path, key), "is not an allowed field")


# ---------------------------------------------------------------------------------------------------
# Runtime: cross-field rules (mirrors checkRule in validate.ts; they run only on valid structure)
# ---------------------------------------------------------------------------------------------------


def _resolve(value: object, path: str) -> list[tuple[str, object]]:
    """Pointer/value pairs for a rule path; '*' is every array item, missing or null parts vanish."""
    current: list[tuple[str, object]] = [("", value)]
    for segment in path.split("/")[1:]:
        found: list[tuple[str, object]] = []
        for at, node in current:
            if segment == "*":
                if isinstance(node, list):
                    found.extend((_ptr(at, i), item) for i, item in enumerate(node))
            elif isinstance(node, dict) and node.get(segment) is not None:
                found.append((_ptr(at, segment), node[segment]))
        current = found
    return current


def _quote(value: object) -> str:
    return "'" + value + "'" if isinstance(value, str) else str(value)


def _rule_greater_than(value, errors, at: str, field: str, than: str) -> None:
    for path, node in _resolve(value, at):
        if not node[field] > node[than]:
            _fail(errors, _ptr(path, field), "must be greater than " + than)


def _rule_greater_or_equal(value, errors, at: str, field: str, than: str) -> None:
    for path, node in _resolve(value, at):
        if field in node and than in node and node[field] < node[than]:
            _fail(errors, _ptr(path, field), "must be greater than or equal to " + than)


def _rule_unique(value, errors, array: str, key: str, also: tuple = (), defaults: dict | None = None) -> None:
    defaults = defaults or {}
    names = list(also)
    what = ""
    if names:
        what = " with the same " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])
    for path, items in _resolve(value, array):
        seen: dict[object, int] = {}
        for index, item in enumerate(items):
            parts = [item[key]] + [item[f] if f in item else defaults.get(f) for f in names]
            # Same key as JS: strings compared as JS sees them, numbers by value (1 == 1.0).
            item_key = tuple(
                _js_string(p) if isinstance(p, str) else (float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else p)
                for p in parts
            )
            first = seen.setdefault(item_key, index)
            if first != index:
                also_at = _ptr(_ptr(path, first), key)
                shown = _js_string(item[key]) if isinstance(item[key], str) else item[key]
                message = f"duplicate {key} {_quote(shown)}{what} (also at {also_at})"
                _fail(errors, _ptr(_ptr(path, index), key), message)


def _key_values(value, array: str, key: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for path, items in _resolve(value, array):
        for index, item in enumerate(items):
            found.setdefault(_js_string(item[key]), _ptr(_ptr(path, index), key))
    return found


def _rule_distinct_from(value, errors, array: str, key: str, other: str, other_key: str) -> None:
    known = _key_values(value, other, other_key)
    for path, items in _resolve(value, array):
        for index, item in enumerate(items):
            own = _js_string(item[key])
            if own in known:
                message = f"{key} {_quote(own)} is also a {other_key} (at {known[own]})"
                _fail(errors, _ptr(_ptr(path, index), key), message)


def _rule_references(value, errors, array: str, key: str, target: str, target_key: str) -> None:
    known = _key_values(value, target, target_key)
    for path, items in _resolve(value, array):
        for index, item in enumerate(items):
            own = _js_string(item[key])
            if own not in known:
                message = f"must name a {target_key} of {target}: {_quote(own)} is none"
                _fail(errors, _ptr(_ptr(path, index), key), message)


def _rule_required_when(value, errors, at: str, field: str, when_field: str, equals: str) -> None:
    for path, node in _resolve(value, at):
        if _same(node.get(when_field), equals) and field not in node:
            _fail(errors, _ptr(path, field), f"is required when {when_field} is '{equals}'")


def _rule_forbidden_unless(value, errors, at: str, field: str, when_field: str, equals: str) -> None:
    for path, node in _resolve(value, at):
        if not _same(node.get(when_field), equals) and field in node:
            _fail(errors, _ptr(path, field), f"is only allowed when {when_field} is '{equals}'")
`;
