"""Masking rules: ``table.column -> fake | hash | null | keep``, turned into SQL that runs inside the
database, in the same transaction as the load, so unmasked values are never committed and never
leave the database (no dump is rewritten on the host, no temporary copy is made).

The rule file is YAML, flat or nested::

    users.email: fake          # deterministic, shaped like the column's name (email, phone, name, ...)
    users.ssn: hash            # sha256 of the value and a per-load salt, hex
    billing.cards.number: null # schema.table.column
    users:
      notes: null
      plan: keep               # says "looked at, deliberately kept"

``fake`` and ``hash`` are for text columns; numbers and dates take ``null`` or ``keep``. The same
value masks to the same result everywhere in one load (joins on an email still match), and to a
different one in the next load (the salt is random), so a hash cannot be looked up in a table.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devenv.errors import ConfigError, Problem

STRATEGIES = ("fake", "hash", "null", "keep")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


@dataclass(frozen=True)
class Rule:
    schema: str
    table: str
    column: str
    strategy: str
    line: int | None = None


def parse_rules(path: Path) -> list[Rule]:
    """Every rule of the file, or a ``ConfigError`` listing every bad line at once."""
    from devenv.model.yamlpos import load_yaml

    doc, problems = load_yaml(path)
    if doc is None or problems:
        raise ConfigError(problems or [Problem(str(path), None, "", "empty rule file")])
    if not isinstance(doc.data, dict) or not doc.data:
        raise ConfigError([Problem(str(path), 1, "", "a rule file is a mapping of table.column: strategy",
                                   "e.g. `users.email: fake`")])
    rules: list[Rule] = []
    for key, value in doc.data.items():
        if isinstance(value, dict):
            for col, strat in value.items():
                _add(rules, problems, f"{key}.{col}", strat, doc.positions.line((key, col)), path)
        else:
            _add(rules, problems, str(key), value, doc.positions.line((key,)), path)
    if problems:
        raise ConfigError(problems)
    return rules


def _add(rules: list[Rule], problems: list[Problem], key: str, value: Any, line: int | None, path: Path) -> None:
    strategy = "null" if value is None else str(value).strip().lower()
    parts = key.split(".")
    if len(parts) not in (2, 3) or not all(IDENT.match(p) for p in parts):
        problems.append(Problem(str(path), line, key, "not a table.column (or schema.table.column) name",
                                "letters, digits and _ only, e.g. `users.email`"))
        return
    if strategy not in STRATEGIES:
        problems.append(Problem(str(path), line, key, f"unknown strategy {value!r}",
                                f"one of: {', '.join(STRATEGIES)}"))
        return
    schema, table, column = parts if len(parts) == 3 else ("public", *parts)
    rules.append(Rule(schema, table, column, strategy, line))


def quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _hash(col: str, salt: str) -> str:
    return f"encode(sha256(convert_to({col}::text || '{salt}', 'UTF8')), 'hex')"


def fake_expr(column: str, salt: str) -> str:
    """A stand-in shaped by the column's name, derived from the value (same value, same fake)."""
    col = quote(column)
    h = _hash(col, salt)
    name = column.lower()
    if "email" in name or "mail" in name:
        body = f"'user_' || left({h}, 12) || '@example.invalid'"
    elif "phone" in name or "mobile" in name or "fax" in name:
        body = f"'+1555' || lpad((('x' || left({h}, 8))::bit(32)::bigint % 10000000)::text, 7, '0')"
    elif "name" in name:
        body = f"'Name ' || upper(left({h}, 6))"
    elif "address" in name or "street" in name:
        body = f"left({h}, 4) || ' Example Street'"
    else:
        body = f"'fake_' || left({h}, 12)"
    return f"CASE WHEN {col} IS NULL THEN NULL ELSE {body} END"


def expr(rule: Rule, salt: str) -> str | None:
    col = quote(rule.column)
    if rule.strategy == "null":
        return "NULL"
    if rule.strategy == "hash":
        return f"CASE WHEN {col} IS NULL THEN NULL ELSE {_hash(col, salt)} END"
    if rule.strategy == "fake":
        return fake_expr(rule.column, salt)
    return None  # keep


def mask_sql(rules: list[Rule], salt: str | None = None) -> str:
    """One UPDATE per table (all its masked columns at once), schema-qualified so a dump's own
    ``search_path`` setting cannot redirect it. ``keep`` rules produce nothing."""
    salt = salt if salt is not None else secrets.token_hex(16)
    assert re.fullmatch(r"[0-9a-f]*", salt)
    tables: dict[tuple[str, str], list[str]] = {}
    for r in rules:
        e = expr(r, salt)
        if e is not None:
            tables.setdefault((r.schema, r.table), []).append(f"{quote(r.column)} = {e}")
    lines = ["-- devenv data load: masking rules, in the load's transaction"]
    for (schema, table), sets in tables.items():
        lines.append(f"UPDATE {quote(schema)}.{quote(table)} SET {', '.join(sets)};")
    return "\n".join(lines) + "\n"
