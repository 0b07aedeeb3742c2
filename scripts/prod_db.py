"""Create or drop the PostgreSQL database a ``postgres://`` URL names (used by the prod scripts).

    python scripts/prod_db.py create postgres://postgres@127.0.0.1:5432/tshape_prod
    python scripts/prod_db.py drop   postgres://postgres@127.0.0.1:5432/tshape_smoke

Connects to the server's ``postgres`` maintenance database with the URL's credentials. ``create``
does nothing when the database exists; ``drop`` does nothing when it does not, and refuses the
names that other people's work lives in.
"""

import sys
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql

PROTECTED = {"postgres", "template0", "template1", "tshape", "test", "root"}


def connect(url: str):
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(f"not a PostgreSQL URL: {parts.scheme}://…")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        sys.exit("the URL names no database")
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or "") or None,
        dbname="postgres",
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn, name


def exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def main(action: str, url: str) -> None:
    conn, name = connect(url)
    with conn.cursor() as cursor:
        if action == "create" and not exists(cursor, name):
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
        elif action == "drop" and exists(cursor, name):
            if name in PROTECTED:
                sys.exit(f"refusing to drop {name}")
            cursor.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"dropped database {name}")
    conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"create", "drop"}:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
