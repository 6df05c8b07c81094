"""Move a SQLite shop into an empty PostgreSQL database, in one transaction.

Stop the shop first, then:

    python -m storage.transfer postgresql://user:password@host:5432/db
    python -m storage.transfer --from /srv/shop/storefront.sqlite3 postgresql://...

The SQLite file is DATABASE_PATH (default data/storefront.sqlite3) unless --from names
one; it stays locked meanwhile. Both databases are brought to this version's schema; then
every table of the SQLite shop is copied (columns by name, parents before the rows that
refer to them) with its values as they are. Numbering columns go on after the copied ids.
Row counts and money totals of both sides are printed and compared before the commit, so
a difference leaves PostgreSQL as empty as it was.

Keys move as the encrypted tokens they are: the PostgreSQL shop needs the same
KEYS_ENCRYPTION_KEY, or the keys.secret file that lies next to the SQLite file.

Exit status: 0 copied and checked; 1 the copy failed or counts/totals differ (rolled
back, nothing written); 2 refused (no SQLite file, a bad URL, PostgreSQL holds a shop).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from storage.db import Database, DatabaseError, Transaction, is_postgres_url, safe_url

DEFAULT_PATH = "data/storefront.sqlite3"
BATCH = 1000  # rows per read and per executemany
BOOKKEEPING = "schema_migrations"  # each side keeps its own
_PG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
_TYPES: dict[str, type] = {"bigint": int, "double precision": float, "bytea": bytes, "text": str}
Totals = list[tuple[str, int, int]]  # (what, in SQLite, in PostgreSQL)


class Refused(Exception):
    """Nothing was copied; said in one line (exit 2)."""


class Failed(Exception):
    """The copy stopped and rolled back (exit 1)."""


class Differ(Exception):
    """Counts or totals differ after the copy: rolled back (exit 1)."""

    def __init__(self, totals: Totals) -> None:
        super().__init__("counts or totals differ")
        self.totals = totals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage.transfer", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("url", help="postgresql://user:password@host:5432/db")
    parser.add_argument("--from", dest="source", metavar="PATH", type=Path, help="the SQLite file")
    args = parser.parse_args(argv)
    source = args.source or Path(os.environ.get("DATABASE_PATH") or DEFAULT_PATH)
    if not is_postgres_url(args.url):
        print("DATABASE URL: expected postgresql://user:password@host:5432/db")
        return 2
    try:
        urlsplit(args.url).port  # noqa: B018 (raises for a port that is not a number)
    except ValueError:
        print("DATABASE URL: its port is not a number")
        return 2
    if not source.is_file():  # Database.open would make an empty shop there
        print(f"no SQLite shop at {source}: set DATABASE_PATH or pass --from PATH")
        return 2
    return asyncio.run(transfer(source, args.url))


async def transfer(source: Path, url: str) -> int:
    """Copy, print what was compared, and return the exit status."""
    try:
        totals = await _transfer(source, url)
    except (Refused, DatabaseError) as exc:
        print(exc)
        return 2
    except _PG_ERRORS as exc:  # PostgreSQL refused the schema (e.g. no permission)
        print(f"DATABASE_URL: PostgreSQL at {safe_url(url)}: {_first_line(exc)}")
        return 2
    except Failed as exc:
        print(f"copy failed: {exc}; rolled back, nothing written")
        return 1
    except Differ as exc:
        _print(source, url, exc.totals)
        differ = ", ".join(what for what, ours, theirs in exc.totals if ours != theirs)
        print(f"counts and totals differ: {differ}; rolled back, nothing written")
        return 1
    _print(source, url, totals)
    print("counts and totals match")
    secret = source.parent / "keys.secret"
    print(f"keys moved still encrypted: the shop needs KEYS_ENCRYPTION_KEY or {secret}")
    return 0


async def _transfer(source: Path, url: str) -> Totals:
    sqlite = await Database.open(source)  # brings an older shop to this schema
    try:
        postgres = await Database.open(url, pool_size=1)  # creates the schema
        try:
            async with sqlite.transaction() as src, postgres.transaction() as dst:
                return await _copy(src, dst, safe_url(url))
        except _PG_ERRORS as exc:
            raise Failed(_first_line(exc)) from None
        finally:
            await postgres.close()
    finally:
        await sqlite.close()


async def _copy(src: Transaction, dst: Transaction, where: str) -> Totals:
    """All inside both transactions: an exception rolls PostgreSQL back."""
    tables = await _sqlite_tables(src)
    target, identities = await _pg_columns(dst)
    lost = [
        f"{t}.{c}" for t, columns in tables.items() for c in columns if c not in target.get(t, {})
    ]
    if lost:  # PostgreSQL-only columns keep their defaults; SQLite's data is never dropped
        raise Refused(f"PostgreSQL at {where} has no {', '.join(lost)}: refused")
    held = [
        table
        for table in sorted(set(target) - {BOOKKEEPING})
        if (await dst.fetchall(f'SELECT EXISTS (SELECT 1 FROM "{table}")'))[0][0]
    ]
    if held:
        more = f" and {len(held) - 3} more" if len(held) > 3 else ""
        raise Refused(
            f"PostgreSQL at {where} already holds a shop (rows in {', '.join(held[:3])}{more}):"
            " refused, nothing written"
        )
    for table in await _dependency_order(src, list(tables)):
        await _copy_table(src, dst, table, tables[table], target[table])
    for table, column in identities:
        rows = await dst.fetchall(f'SELECT COALESCE(MAX("{column}"), 0) + 1 FROM "{table}"')
        # transactional (setval is not): a rollback leaves the numbering as it was
        await dst.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" RESTART WITH {int(rows[0][0])}'
        )
    totals = _compare(await _totals(src, list(tables)), await _totals(dst, list(tables)))
    if any(ours != theirs for _, ours, theirs in totals):
        raise Differ(totals)
    return totals


async def _sqlite_tables(src: Transaction) -> dict[str, list[str]]:
    """The SQLite shop's tables (not SQLite's own, not the bookkeeping) and their columns."""
    rows = await src.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        " AND substr(name, 1, 7) != 'sqlite_' AND name != ? ORDER BY name",
        (BOOKKEEPING,),
    )
    pragma = "SELECT name FROM pragma_table_info(?) ORDER BY cid"
    return {row[0]: [col[0] for col in await src.fetchall(pragma, (row[0],))] for row in rows}


async def _dependency_order(src: Transaction, tables: list[str]) -> list[str]:
    """The tables, each after the tables its foreign keys refer to."""
    graph: TopologicalSorter[str] = TopologicalSorter()
    for table in tables:
        keys = await src.fetchall('SELECT "table" FROM pragma_foreign_key_list(?)', (table,))
        graph.add(table, *sorted({key[0] for key in keys} & set(tables) - {table}))
    return list(graph.static_order())


async def _pg_columns(dst: Transaction) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """PostgreSQL's tables (column -> data_type), and the columns it numbers (${AUTO_ID})."""
    rows = await dst.fetchall(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_identity"
        " FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type, _ in rows:
        tables.setdefault(table, {})[column] = data_type
    return tables, [(row[0], row[1]) for row in rows if row[3] == "YES"]


async def _copy_table(
    src: Transaction, dst: Transaction, table: str, columns: list[str], types: dict[str, str]
) -> None:
    """A table's rows, a batch at a time (by rowid), as PostgreSQL's column types want them."""
    names = ", ".join(f'"{column}"' for column in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    select = f'SELECT rowid, {names} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT ?'
    last = (await src.fetchall(f'SELECT MIN(rowid) - 1 FROM "{table}"'))[0][0]
    if last is None:
        return  # empty
    while rows := await src.fetchall(select, (last, BATCH)):
        await dst.executemany(
            insert,
            [
                [coerce(row[n + 1], types[col], f"{table}.{col}") for n, col in enumerate(columns)]
                for row in rows
            ],
        )
        last = rows[-1][0]


def coerce(value: Any, pg_type: str, where: str) -> Any:
    """A SQLite value as the PostgreSQL column's type wants it (asyncpg converts nothing).
    A value that does not fit is named by its column, never shown."""
    want = _TYPES.get(pg_type)
    if value is None or want is None or type(value) is want:
        return value
    if want is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if want is float and isinstance(value, int):
        return float(value)
    if want is bytes and isinstance(value, str | bytearray | memoryview):
        return value.encode() if isinstance(value, str) else bytes(value)
    if want is str and isinstance(value, int | float):
        return str(value)
    raise Failed(f"{where} holds a {type(value).__name__}, PostgreSQL wants {pg_type}")


async def _totals(db: Transaction, tables: list[str]) -> dict[str, int]:
    """What must be equal on both sides: rows per table and the money."""

    async def one(sql: str) -> int:
        return int((await db.fetchall(sql))[0][0])

    totals = {f"rows {table}": await one(f'SELECT COUNT(*) FROM "{table}"') for table in tables}
    totals["Stars received"] = await one(
        "SELECT COALESCE(SUM(price_stars - credit_stars), 0) FROM orders"
        " WHERE telegram_charge_id IS NOT NULL"
    )
    for state, stars in await db.fetchall(
        "SELECT state, COALESCE(SUM(price_stars), 0) FROM orders GROUP BY state ORDER BY state"
    ):
        totals[f"Stars {state}"] = int(stars)
    totals["credit ledger"] = await one("SELECT COALESCE(SUM(delta), 0) FROM credit_entries")
    totals["stray payments"] = await one("SELECT COALESCE(SUM(amount), 0) FROM stray_payments")
    return totals


def _compare(ours: dict[str, int], theirs: dict[str, int]) -> Totals:
    labels = [*ours, *(label for label in theirs if label not in ours)]
    return [(label, ours.get(label, 0), theirs.get(label, 0)) for label in labels]


def _print(source: Path, url: str, totals: Totals) -> None:
    width = max(len(label) for label, _, _ in totals)
    print(f"from {source}\nto   {safe_url(url)}")
    print(f"{'':{width}}  {'SQLite':>10}  {'PostgreSQL':>10}")
    for label, ours, theirs in totals:
        mark = "" if ours == theirs else "  <- differs"
        print(f"{label:{width}}  {ours:>10}  {theirs:>10}{mark}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
