"""Putting one staged table in place on PostgreSQL without losing what users attached to it.

Measured here (1M rows, one index): moving a staged table into place (``DROP`` + ``ALTER …
SET SCHEMA``) takes 0.05 s; refilling the published table in place (``TRUNCATE`` + ``INSERT``)
2.5–3.2 s, ``DELETE`` + ``INSERT`` 3.7–4.3 s. Moving is free but loses whatever users attached
to the old table (grants, owner, indexes, comments, constraints, triggers, policies) and fails
on the views and foreign keys that depend on it. So each table takes the cheapest way that
keeps everything:

- a table that carries nothing but its rows is moved into place;
- a table that carries anything (see ``CARRIES_ANYTHING``) is refilled in place inside the
  publishing transaction, so every attached object survives untouched: ``TRUNCATE``, or, when
  foreign keys point at it (``TRUNCATE`` refuses), ``DELETE`` with those keys deferred to the
  commit, where they check the new rows;
- a table that carries something but whose columns changed cannot be refilled: it is replaced,
  and its owner, grants, comments, constraints and indexes re-applied where their columns still
  exist; what could not be re-applied is reported. Views or foreign keys depending on it stop
  the build with a sentence saying what to drop.
"""

from dataclasses import dataclass

import psycopg
from psycopg import sql

from medallion_ibis.backends.base import refuse_changed_append
from medallion_ibis.errors import PublishBlocked

CARRIES_ANYTHING = """
SELECT c.relacl IS NOT NULL
    OR c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
    OR c.reloptions IS NOT NULL
    OR c.relrowsecurity
    OR c.relpersistence <> 'p'
    OR EXISTS (SELECT 1 FROM pg_description AS d
               WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass)
    OR EXISTS (SELECT 1 FROM pg_seclabel AS l
               WHERE l.objoid = c.oid AND l.classoid = 'pg_class'::regclass)
    OR EXISTS (SELECT 1 FROM pg_depend AS d
               WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                 AND NOT (d.classid = 'pg_type'::regclass AND d.objid = c.reltype)
                 AND NOT (d.classid = 'pg_class'::regclass AND d.objid = c.reltoastrelid))
FROM pg_class AS c
WHERE c.oid = %(table)s::regclass
"""
"""True when the table carries anything besides its rows, its row type and its TOAST table:
a grant, another owner, storage options, row security, an unlogged or temporary table, a
comment or security label, or any dependent object (index, constraint, trigger, rule of a view,
policy, column default, publication, foreign key of another table)."""

COLUMNS = """
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute
WHERE attrelid = %(table)s::regclass AND attnum > 0 AND NOT attisdropped
ORDER BY attnum
"""

INCOMING_KEYS = """
SELECT n.nspname, c.conname, format('%%I.%%I', rn.nspname, r.relname), c.condeferrable
FROM pg_constraint AS c
JOIN pg_namespace AS n ON n.oid = c.connamespace
JOIN pg_class AS r ON r.oid = c.conrelid
JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
WHERE c.contype = 'f' AND c.confrelid = %(table)s::regclass
ORDER BY c.conname
"""

GRANTS = """
SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
       a.privilege_type, a.is_grantable
FROM pg_class AS c, aclexplode(c.relacl) AS a
WHERE c.oid = %(table)s::regclass AND a.grantee <> c.relowner
"""

COMMENTS = """
SELECT a.attname, d.description
FROM pg_description AS d
LEFT JOIN pg_attribute AS a ON a.attrelid = d.objoid AND a.attnum = d.objsubid
WHERE d.objoid = %(table)s::regclass AND d.classoid = 'pg_class'::regclass
"""

DEFINITIONS = """
SELECT 'constraint ' || conname,
       format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', %(table)s::text, conname,
              pg_get_constraintdef(oid))
FROM pg_constraint WHERE conrelid = %(table)s::regclass AND contype IN ('p', 'u', 'c', 'x')
UNION ALL
SELECT 'index ' || indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index
WHERE indrelid = %(table)s::regclass
  AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = %(table)s::regclass)
"""
"""Constraints and indexes, as the statements that recreate them on a table of the same name."""


@dataclass(frozen=True)
class Staged:
    """A table of the staging schema."""

    schema: str
    table: str

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)


@dataclass(frozen=True)
class IncomingKey:
    """A foreign key of some table that points at the published table."""

    schema: str
    name: str
    table: str
    deferrable: bool


def _quoted(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _param(schema: str, table: str) -> dict[str, str]:
    """The table as a query parameter, in the quoted form ``::regclass`` reads."""
    return {"table": _quoted(schema, table)}


def put_in_place(con: psycopg.Connection, staged: Staged, schema: str, table: str) -> list[str]:
    """Make the staged table the content of ``schema.table``; returns notices for the user."""
    target = sql.Identifier(schema, table)
    exists = con.execute("SELECT to_regclass(%s)", [_quoted(schema, table)]).fetchone()
    if exists is None or exists[0] is None:
        _move(con, staged, schema, table)
        return []
    param = _param(schema, table)
    carries = con.execute(CARRIES_ANYTHING, param).fetchone()
    if not (carries and carries[0]):
        con.execute(sql.SQL("DROP TABLE {}").format(target))
        _move(con, staged, schema, table)
        return []
    old_columns = con.execute(COLUMNS, param).fetchall()
    new_columns = con.execute(COLUMNS, _param(staged.schema, staged.table)).fetchall()
    if old_columns == new_columns:
        _refill(con, staged.identifier, target, schema, table, [name for name, _ in new_columns])
        return []
    return _replace(con, staged, schema, table, old_columns, new_columns)


def append_in_place(con: psycopg.Connection, staged: Staged, schema: str, table: str) -> list[str]:
    """Add the staged rows to ``schema.table`` (bronze's new batches) with one ``INSERT …
    SELECT``; what users attached to the table is not touched. A table not published yet is
    moved into place, like any other."""
    exists = con.execute("SELECT to_regclass(%s)", [_quoted(schema, table)]).fetchone()
    if exists is None or exists[0] is None:
        _move(con, staged, schema, table)
        return []
    old_columns = con.execute(COLUMNS, _param(schema, table)).fetchall()
    new_columns = con.execute(COLUMNS, _param(staged.schema, staged.table)).fetchall()
    refuse_changed_append(f"{schema}.{table}", old_columns == new_columns)
    column_list = sql.SQL(", ").join(sql.Identifier(name) for name, _ in new_columns)
    con.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
            sql.Identifier(schema, table), column_list, column_list, staged.identifier
        )
    )
    return []


def _move(con: psycopg.Connection, staged: Staged, schema: str, table: str) -> None:
    con.execute(
        sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(staged.identifier, sql.Identifier(schema))
    )
    con.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(schema, staged.table), sql.Identifier(table)
        )
    )


def _refill(
    con: psycopg.Connection,
    staged: sql.Identifier,
    target: sql.Identifier,
    schema: str,
    table: str,
    columns: list[str],
) -> None:
    keys = [IncomingKey(*row) for row in con.execute(INCOMING_KEYS, _param(schema, table))]
    rigid = [key for key in keys if not key.deferrable]
    if rigid:
        key = rigid[0]
        raise PublishBlocked(
            f"{schema}.{table} is referenced by foreign key {key.name} of {key.table}, which "
            "is not DEFERRABLE: publishing replaces the table's rows inside one transaction, "
            "which such a key refuses. Make it deferrable (ALTER TABLE "
            f"{key.table} ALTER CONSTRAINT {key.name} DEFERRABLE) or drop it; nothing was "
            "published"
        )
    if keys:
        names = sql.SQL(", ").join(sql.Identifier(key.schema, key.name) for key in keys)
        con.execute(sql.SQL("SET CONSTRAINTS {} DEFERRED").format(names))
        con.execute(sql.SQL("DELETE FROM {}").format(target))
    else:
        con.execute(sql.SQL("TRUNCATE {}").format(target))
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    con.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
            target, column_list, column_list, staged
        )
    )


def _replace(
    con: psycopg.Connection,
    staged: Staged,
    schema: str,
    table: str,
    old_columns: list[tuple[str, str]],
    new_columns: list[tuple[str, str]],
) -> list[str]:
    """Swap in a table whose columns changed, carrying over what can be carried."""
    param = _param(schema, table)
    target = sql.Identifier(schema, table)
    owner_row = con.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %(table)s::regclass", param
    ).fetchone()
    grants = con.execute(GRANTS, param).fetchall()
    comments = con.execute(COMMENTS, param).fetchall()
    definitions = con.execute(DEFINITIONS, param).fetchall()
    try:
        with con.transaction():
            con.execute(sql.SQL("DROP TABLE {}").format(target))
    except psycopg.errors.DependentObjectsStillExist as error:
        detail = (error.diag.message_detail or "").replace("\n", "; ")
        raise PublishBlocked(
            f"{schema}.{table}'s columns changed, so it must be replaced, but other objects "
            f"depend on it ({detail}); drop them, build, and recreate them; nothing was published"
        ) from None
    _move(con, staged, schema, table)
    if owner_row is not None:
        con.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(target, sql.Identifier(owner_row[0]))
        )
    for grantee, privilege, grantable in grants:
        con.execute(
            sql.SQL("GRANT {} ON {} TO {}{}").format(
                sql.SQL(privilege),
                target,
                sql.SQL("PUBLIC") if grantee is None else sql.Identifier(grantee),
                sql.SQL(" WITH GRANT OPTION") if grantable else sql.SQL(""),
            )
        )
    kept = {name for name, _ in new_columns}
    lost: list[str] = []
    for column, text in comments:
        if column is None:
            con.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(text)))
        elif column in kept:
            con.execute(
                sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                    sql.Identifier(schema, table, column), sql.Literal(text)
                )
            )
        else:
            lost.append(f"the comment on removed column {column}")
    for label, statement in definitions:
        try:
            with con.transaction():
                con.execute(statement)
        except psycopg.errors.DatabaseError:
            lost.append(label)
    old, new = dict(old_columns), dict(new_columns)
    changes = [f"+{name}" for name in new if name not in old]
    changes += [f"-{name}" for name in old if name not in new]
    changes += [f"~{name}" for name in new if name in old and old[name] != new[name]]
    notice = (
        f"{schema}.{table}: columns changed ({', '.join(changes) or 'order'}), so the table was "
        "replaced; its owner, grants, comments, constraints and indexes were re-applied"
    )
    if lost:
        notice += f", except {', '.join(lost)}, which no longer apply"
    return [notice + "; triggers and policies, if any, were not carried over"]
