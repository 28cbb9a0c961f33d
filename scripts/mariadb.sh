#!/usr/bin/env bash
# A real MariaDB server for tests, on a free loopback port, with its data in a temp
# directory.
#
#   scripts/mariadb.sh start DIR   install a data directory and start the server;
#                                  prints FERRY_TEST_MARIADB=DIR. Writes DIR/port,
#                                  DIR/password (of user "ferry", owner of database
#                                  "ferry") and DIR/connection (an ODBC connection
#                                  string with the "MariaDB Unicode" driver)
#   scripts/mariadb.sh stop DIR    stop it and remove DIR
#   scripts/mariadb.sh sql DIR SQL run SQL as "ferry" on database "ferry", tab-separated
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

start() {
  local dir=$1 port deadline
  command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || "$HERE/install-deps.sh"
  stop "$dir"
  mkdir -p "$dir"
  port=$("$HERE/free-port.py" 1)
  echo "$port" >"$dir/port"
  echo "ferry-test-$RANDOM$RANDOM" >"$dir/password"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" --skip-test-db \
    --auth-root-authentication-method=socket >"$dir/install.log" 2>&1 || {
    cat "$dir/install.log" >&2
    return 1
  }
  setsid /usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
    --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$dir/mariadbd.pid" \
    --log-error="$dir/error.log" --skip-name-resolve --innodb-flush-log-at-trx-commit=2 \
    </dev/null >/dev/null 2>&1 &
  deadline=$((SECONDS + 60))
  until mariadb --no-defaults --socket="$dir/mysqld.sock" -u "$(id -un)" -e "SELECT 1" \
    >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "MariaDB did not start; log:" >&2
      cat "$dir/error.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  mariadb --no-defaults --socket="$dir/mysqld.sock" -u "$(id -un)" <<SQL
CREATE DATABASE ferry;
CREATE USER 'ferry'@'127.0.0.1' IDENTIFIED BY '$(cat "$dir/password")';
GRANT ALL ON ferry.* TO 'ferry'@'127.0.0.1';
SQL
  echo "Driver=MariaDB Unicode;Server=127.0.0.1;Port=$port;Database=ferry;User=ferry;Password=$(cat "$dir/password")" \
    >"$dir/connection"
  echo "FERRY_TEST_MARIADB=$dir"
}

stop() {
  local pid
  if [[ -f $1/mariadbd.pid ]]; then
    pid=$(cat "$1/mariadbd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$1"
}

case "${1:-}" in
  start) start "${2:?dir}" ;;
  stop) stop "${2:?dir}" ;;
  sql)
    dir=${2:?dir}
    exec mariadb --no-defaults -h 127.0.0.1 -P "$(cat "$dir/port")" -u ferry \
      -p"$(cat "$dir/password")" -D ferry -N -B -e "${3:?sql}" ;;
  *) echo "usage: $0 start|stop|sql DIR" >&2; exit 1 ;;
esac
