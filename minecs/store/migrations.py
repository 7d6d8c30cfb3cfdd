"""The SQLite store's schema: a list of SQL scripts, run in order, each in its own transaction.

``schema_version`` records how many have run, so a controller upgraded mid-way resumes where it
stopped, and a store file of any earlier version is upgraded in place, its rows kept.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE objects (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        cluster TEXT NOT NULL DEFAULT '',
        parent TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX objects_by_cluster ON objects (kind, cluster, created_at);
    CREATE INDEX objects_by_parent ON objects (kind, parent, created_at);
    CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """,
    # 2: what ListTaskDefinitions(Families) and DescribeClusters' counts seek on. Generated columns:
    # SQLite fills them from the body on every write, so no caller passes them. STORED (read without
    # parsing the body) needs a new table; the rows already stored are copied into it in place.
    """
    CREATE TABLE objects_2 (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        cluster TEXT NOT NULL DEFAULT '',
        parent TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        status TEXT GENERATED ALWAYS AS (
            CASE WHEN NOT json_valid(body) THEN ''
                 WHEN kind = 'taskdef' THEN coalesce(json_extract(body, '$.taskDefinition.status'), '')
                 WHEN kind = 'task' THEN coalesce(json_extract(body, '$.lastStatus'), '')
                 ELSE coalesce(json_extract(body, '$.status'), '') END
        ) STORED,
        ordinal INTEGER GENERATED ALWAYS AS (
            CASE WHEN kind = 'taskdef' AND json_valid(body)
                 THEN coalesce(json_extract(body, '$.taskDefinition.revision'), 0) ELSE 0 END
        ) STORED,
        PRIMARY KEY (kind, key)
    );
    INSERT INTO objects_2 (kind, key, version, cluster, parent, body, created_at, updated_at)
        SELECT kind, key, version, cluster, parent, body, created_at, updated_at FROM objects;
    DROP TABLE objects;
    ALTER TABLE objects_2 RENAME TO objects;
    CREATE INDEX objects_by_cluster ON objects (kind, cluster, created_at);
    CREATE INDEX objects_by_parent ON objects (kind, parent, created_at);
    CREATE INDEX objects_by_status ON objects (kind, status, parent, ordinal);
    CREATE INDEX objects_by_cluster_status ON objects (kind, cluster, status);
    """,
    # 3: ListTasks and ListServices page through a cluster in key order (``scan``).
    """
    CREATE INDEX objects_by_cluster_key ON objects (kind, cluster, key);
    """,
)


def migrate(db: sqlite3.Connection) -> None:
    """Run every migration ``db`` has not had yet."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT version FROM schema_version").fetchone()
    done = row[0] if row else 0
    if row is None:
        db.execute("INSERT INTO schema_version VALUES (0)")
    for number, script in enumerate(MIGRATIONS[done:], start=done + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", (number,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
