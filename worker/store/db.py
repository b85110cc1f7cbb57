"""Opening the store, applying migrations, and running transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from worker.errors import StoreError
from worker.store import migrations, schema

# A fresh database is created from the current schema and stamped LATEST_VERSION.
# An existing one at version N gets MIGRATIONS[N + 1 ...] applied in order, each in
# its own transaction; every migration is written against the schema before it.
Migration = Callable[[Connection], None]
MIGRATIONS: dict[int, Migration] = {2: migrations.clocks_by_index}
LATEST_VERSION = 2


def is_store_fault(exc: BaseException) -> bool:
    """Whether ``exc`` says the store itself is in trouble (down, full, corrupt, locked).

    Not a record the store refused (IntegrityError, DataError) nor a bug in a query
    (ProgrammingError): those are about what was written, not about the store.
    """
    if isinstance(exc, StoreError | InterfaceError | DisconnectionError | PoolTimeout):
        return True
    if isinstance(exc, IntegrityError | DataError | ProgrammingError):
        return False
    # OperationalError (locked, disk full, server gone) and the plain DatabaseError SQLite
    # raises for "database disk image is malformed" or "file is not a database".
    return isinstance(exc, DatabaseError)


def is_store_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the store at all (a fault of the store or a refused record)."""
    return isinstance(exc, StoreError | SQLAlchemyError)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=FULL")  # a recorded decision survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """A handle on the state store; open it once per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
            self.engine: Engine = create_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the state store: {exc}") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            _make_folder(Path(parsed.database).parent)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn

    def version(self) -> int:
        """The schema version of the database, 0 when it is empty."""
        with self.engine.connect() as conn:
            return _version_of(conn)

    def migrate(self) -> int:
        """Bring the schema up to date; return the version now in force."""
        try:
            current = self.version()
            if current > LATEST_VERSION:
                raise StoreError(
                    f"the store is at schema version {current}, newer than this worker "
                    f"({LATEST_VERSION}); upgrade the worker or point it at another store"
                )
            if current == 0:
                with self._schema_transaction() as conn:
                    # Another process may have created it while this one waited for the lock.
                    if _version_of(conn) == 0:
                        schema.metadata.create_all(conn)
                        conn.execute(insert(schema.schema_version).values(version=LATEST_VERSION))
                return LATEST_VERSION
            for version in range(current + 1, LATEST_VERSION + 1):
                with self._schema_transaction() as conn:
                    if _version_of(conn) < version:
                        MIGRATIONS[version](conn)
                        conn.execute(update(schema.schema_version).values(version=version))
            return LATEST_VERSION
        except OperationalError as exc:
            raise StoreError(f"cannot migrate the state store: {exc.orig}") from None

    @contextmanager
    def _schema_transaction(self) -> Iterator[Connection]:
        """A transaction that CREATE and ALTER join too, holding the write lock throughout.

        pysqlite begins its implicit transaction only before INSERT, UPDATE and DELETE,
        so DDL would commit on its own and a migration failing half-way would leave its
        first steps behind, to fail again on the next start. On SQLite the driver's
        handling is switched off and the transaction is begun and ended here.
        """
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def ping(self) -> bool:
        """True when the store answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def _make_folder(folder: Path) -> None:
    """Create the folder of a SQLite store, readable by its owner only (it holds client mail)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder of the state store {folder}: {exc.strerror}"
        ) from None


def _version_of(conn: Connection) -> int:
    if not inspect(conn).has_table(schema.schema_version.name):
        return 0
    row = conn.execute(select(schema.schema_version.c.version)).first()
    return int(row[0]) if row else 0
