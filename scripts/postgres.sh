#!/usr/bin/env bash
# A real PostgreSQL 15 with wal_level=logical for tests and benchmarks, on a free
# loopback port, with its data and an ODBC DSN in a temp directory.
#
#   [WAL_LEVEL=replica] scripts/postgres.sh start DIR   initdb (as the postgres user) and start it in DIR;
#                                   prints FERRY_TEST_PG=DIR. Writes:
#                                     DIR/port, DIR/password (of user "ferry", a superuser
#                                     with REPLICATION, owner of database "ferry"),
#                                     DIR/odbcinst.ini (PostgreSQL, SQLite3 and MariaDB
#                                     drivers), DIR/odbc.ini (DSN "ferry_pg"),
#                                     DIR/connection  ODBC connection string for ferry,
#                                     DIR/env         ODBCSYSINI/ODBCINI/PG* exports
#   scripts/postgres.sh pause DIR   stop the server but keep DIR (outage tests)
#   scripts/postgres.sh resume DIR  start it again on the same port
#   scripts/postgres.sh crash DIR   stop it as a power cut would (immediate: no checkpoint)
#   scripts/postgres.sh stop DIR    stop it and remove DIR
#   scripts/postgres.sh psql DIR [ARGS...]   psql as "ferry" on database "ferry"
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PGBIN=/usr/lib/postgresql/15/bin
ODBC_DIR=/usr/lib/x86_64-linux-gnu/odbc

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  # Absolute: the walk up to / below would never end on a relative path.
  local dir port
  dir=$(realpath -m "$1")
  [[ -x $PGBIN/initdb && -f $ODBC_DIR/psqlodbcw.so ]] && command -v psql >/dev/null ||
    "$HERE/install-deps.sh"
  stop "$dir"
  mkdir -p "$dir/data"
  port=$("$HERE/free-port.py" 1)
  echo "$port" >"$dir/port"
  echo "ferry-test-$RANDOM$RANDOM" >"$dir/password"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres "$dir"
    # The postgres user must reach DIR: temp dirs are often private to their owner.
    local p=$dir
    while [[ $p != / ]]; do
      p=$(dirname "$p")
      runuser -u postgres -- test -x "$p" || chmod o+x "$p"
    done
  fi
  chmod 700 "$dir/data"
  as_postgres "$PGBIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  # fsync off: a test server; surviving a power cut is not under test.
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = ${WAL_LEVEL:-logical}
max_replication_slots = 20
max_wal_senders = 20
fsync = off
full_page_writes = off
shared_buffers = 128MB
max_connections = 100
logging_collector = off
log_min_messages = warning
CONF
  launch "$dir"
  as_postgres "$PGBIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<SQL
CREATE ROLE ferry LOGIN SUPERUSER REPLICATION PASSWORD '$(cat "$dir/password")';
CREATE DATABASE ferry OWNER ferry;
SQL
  # Every driver the tests use, so that one ODBCSYSINI serves them all.
  cat >"$dir/odbcinst.ini" <<INI
[PostgreSQL Unicode]
Description=PostgreSQL ODBC driver (Unicode)
Driver=$ODBC_DIR/psqlodbcw.so

[SQLite3]
Description=SQLite3 ODBC driver
Driver=$ODBC_DIR/libsqlite3odbc.so

[MariaDB Unicode]
Description=MariaDB Connector/ODBC (Unicode)
Driver=$ODBC_DIR/libmaodbc.so
INI
  cat >"$dir/odbc.ini" <<INI
[ferry_pg]
Driver=PostgreSQL Unicode
Servername=127.0.0.1
Port=$port
Database=ferry
INI
  echo "DSN=ferry_pg;UID=ferry;PWD=$(cat "$dir/password")" >"$dir/connection"
  cat >"$dir/env" <<ENV
export ODBCSYSINI=$dir ODBCINI=$dir/odbc.ini
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=ferry PGDATABASE=ferry PGPASSWORD=$(cat "$dir/password")
ENV
  chmod a+r "$dir"/*.ini "$dir/connection" "$dir/env" "$dir/password"
  echo "FERRY_TEST_PG=$dir"
}

launch() {
  local dir=$1 deadline
  as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null || {
    echo "PostgreSQL did not start; log:" >&2
    cat "$dir/postgres.log" >&2 || true
    return 1
  }
  deadline=$((SECONDS + 30))
  until "$PGBIN/pg_isready" -h 127.0.0.1 -p "$(cat "$dir/port")" -q; do
    ((SECONDS > deadline)) && { echo "PostgreSQL does not answer" >&2; return 1; }
    sleep 0.1
  done
}

terminate() {
  [[ -f $1/data/postmaster.pid ]] || return 0
  # fast: connections are cut as in an outage, but what was committed stays committed.
  as_postgres "$PGBIN/pg_ctl" -D "$1/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

crash() {
  [[ -f $1/data/postmaster.pid ]] || return 0
  as_postgres "$PGBIN/pg_ctl" -D "$1/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

stop() {
  terminate "$1"
  rm -rf "$1"
}

case "${1:-}" in
  start) start "${2:?dir}" ;;
  pause) terminate "${2:?dir}" ;;
  resume) launch "${2:?dir}" ;;
  crash) crash "${2:?dir}" ;;
  stop) stop "${2:?dir}" ;;
  psql)
    dir=${2:?dir}; shift 2
    PGPASSWORD=$(cat "$dir/password") exec psql -h 127.0.0.1 -p "$(cat "$dir/port")" -U ferry \
      -d ferry -v ON_ERROR_STOP=1 "$@" ;;
  *) echo "usage: $0 start|pause|resume|crash|stop|psql DIR" >&2; exit 1 ;;
esac
