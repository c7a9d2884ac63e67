#!/usr/bin/env bash
# Runs the replica tests against a real streaming replica: a PostgreSQL primary of its own and a hot
# standby made from it with pg_basebackup, both under a temporary directory on their own ports
# (REPLICA_SUITE_PORT, +1), then the tests with DATABASE_URL on the primary and DATABASE_REPLICA_URLS on
# the standby. tests/bookings/test_replica_lag.py then lags the standby for real (pg_wal_replay_pause()).
# Needs Debian's PostgreSQL server binaries (postgresql-NN); the machine's own server is not touched.
#
#   REDIS_URL=redis://127.0.0.1:6379/0 scripts/replica_suite.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

: "${REDIS_URL:?set REDIS_URL}"
primary_port=${REPLICA_SUITE_PORT:-55432}
standby_port=$((primary_port + 1))
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n1)
[ -x "$bin/initdb" ] || { echo "replica-suite: no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

base=$(mktemp -d "${TMPDIR:-/tmp}/replica-suite.XXXXXX")
as_postgres() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$base"

stop() {
  for cluster in standby primary; do
    [ -f "$base/$cluster/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$base/$cluster" -m immediate stop >/dev/null
  done
  rm -rf "$base"
}
trap stop EXIT

as_postgres "$bin/initdb" -D "$base/primary" -U postgres --auth=trust >"$base/initdb.log"
cat >>"$base/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$base'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
EOF
as_postgres "$bin/pg_ctl" -D "$base/primary" -l "$base/primary.log" -w start >/dev/null
# -R writes standby.signal and primary_conninfo: the copy starts as a streaming hot standby.
as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$base/standby" -R -X stream
echo "port = $standby_port" >>"$base/standby/postgresql.conf"
as_postgres "$bin/pg_ctl" -D "$base/standby" -l "$base/standby.log" -w start >/dev/null
recovering=$(psql -h 127.0.0.1 -p "$standby_port" -U postgres -d postgres -Atc "SELECT pg_is_in_recovery()")
echo "replica-suite: primary :$primary_port, streaming standby :$standby_port (in recovery: $recovering)"

export DATABASE_URL="postgres://postgres@127.0.0.1:$primary_port/salon"
export DATABASE_REPLICA_URLS="postgres://postgres@127.0.0.1:$standby_port/salon"
if [ "$#" -eq 0 ]; then
  set -- tests/bookings/test_replica_lag.py tests/core/test_db_router.py -q -p no:randomly
fi
.venv/bin/python scripts/devservices.py test -- "$@"
