"""A pandera contract in words: what each column promises its readers."""

from typing import Any

import pandera.ibis as pa

_COMPARISONS = {
    "greater_than": ">",
    "greater_than_or_equal_to": "≥",
    "less_than": "<",
    "less_than_or_equal_to": "≤",
    "equal_to": "=",
    "not_equal_to": "≠",
}


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def describe_check(check: pa.Check) -> str:
    """One pandera check as a short phrase (``≥ 0``, ``one of: A, B``)."""
    stats: dict[str, Any] = dict(check.statistics or {})
    name = str(check.name or "")
    if name in _COMPARISONS and stats:
        (value,) = stats.values()
        return f"{_COMPARISONS[name]} {_number(value)}"
    if name == "in_range":
        low, high = _number(stats["min_value"]), _number(stats["max_value"])
        left = "≤" if stats.get("include_min", True) else "<"
        right = "≤" if stats.get("include_max", True) else "<"
        return f"{low} {left} value {right} {high}"
    if name == "isin":
        return "one of: " + ", ".join(map(str, stats["allowed_values"]))
    if name == "notin":
        return "none of: " + ", ".join(map(str, stats["forbidden_values"]))
    if name == "str_length":
        if stats.get("exact_value") is not None:
            return f"length {stats['exact_value']}"
        shortest, longest = stats.get("min_value"), stats.get("max_value")
        if shortest is not None and shortest == longest:
            return f"length {shortest}"
        if shortest is not None and longest is not None:
            return f"length {shortest}–{longest}"
        return f"length ≥ {shortest}" if shortest is not None else f"length ≤ {longest}"
    if name == "str_matches":
        return f"matches {stats['pattern']}"
    return str(check.error or name)


def column_checks(column: pa.Column, key: list[str]) -> tuple[str, ...]:
    """Everything the contract checks on one column, nullability first."""
    phrases = ["nullable" if column.nullable else "not null"]
    if column.unique or key == [column.name]:
        phrases.append("unique")
    phrases.extend(describe_check(check) for check in column.checks)
    return tuple(phrases)


def table_checks(contract: pa.DataFrameSchema) -> tuple[str, ...]:
    """The contract's table-wide rules: exact columns, composite keys."""
    rules = []
    if contract.strict:
        rules.append("exactly the columns listed, in this order")
    unique = list(contract.unique or [])
    if len(unique) > 1:
        rules.append("unique together: " + ", ".join(unique))
    elif unique:
        rules.append(f"unique: {unique[0]}")
    return tuple(rules)
