#!/bin/sh
# Initialise $PGDATA on first start, then run Postgres in the foreground as PID 1 (user postgres).
#   POSTGRES_USER      superuser to create (default shop)
#   POSTGRES_DB        database to create (default: POSTGRES_USER)
#   DATABASE_PASSWORD  its password (POSTGRES_PASSWORD is accepted too); never printed
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
PG_USER="${POSTGRES_USER:-shop}"
PG_DB="${POSTGRES_DB:-$PG_USER}"
PG_PASSWORD="${DATABASE_PASSWORD:-${POSTGRES_PASSWORD:-}}"

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
say() { echo "postgres-entrypoint: $*"; }

# A fresh named volume (or an emptyDir) is owned by root.
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$PG_PASSWORD" ]; then
        say "DATABASE_PASSWORD (or POSTGRES_PASSWORD) is not set; refusing to create a cluster without one" >&2
        exit 1
    fi
    say "initialising $PGDATA (superuser $PG_USER, database $PG_DB)"
    pwfile="$(mktemp)"
    printf '%s\n' "$PG_PASSWORD" > "$pwfile"
    chown postgres "$pwfile"
    as_postgres initdb --pgdata="$PGDATA" --username="$PG_USER" --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    {
        echo "listen_addresses = '*'"
        echo "password_encryption = 'scram-sha-256'"
    } >> "$PGDATA/postgresql.auto.conf"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$PG_DB" != "postgres" ]; then
        # A private server (no TCP) for the one statement, so health checks stay red until it is done.
        as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses=''" start
        as_postgres createdb --username="$PG_USER" --host=/var/run/postgresql "$PG_DB"
        as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
    fi
    say "initialised"
fi

if [ "$#" -gt 0 ] && [ "$1" = "postgres" ]; then
    shift
    exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -D "$PGDATA" "$@"
fi
exec "$@"
