#!/usr/bin/env bash
# Runs the test suite (or the pytest arguments given) through PgBouncer in transaction mode, the way
# production runs behind it (README "Scaling the database"): a PgBouncer of its own on PGBOUNCER_PORT in
# front of the PostgreSQL that DATABASE_URL names, with DATABASE_POOLER=pgbouncer. Every connection the
# suite makes goes through it: Django's, the tests' second connections and the Celery workers they start.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/salon REDIS_URL=redis://127.0.0.1:6379/0 \
#     scripts/pgbouncer_suite.sh [pytest args]     # default: the database-heavy directories
#
# It installs Debian's pgbouncer when it is missing (apt-get). PgBouncer logs in to PostgreSQL as the URL's
# user without a password: the server must trust loopback connections, as CI's and a developer's do. The test database is created through
# PgBouncer (CREATE DATABASE runs in autocommit, which transaction mode passes through) but dropped on the
# server directly once PgBouncer is stopped: PgBouncer keeps idle server connections to it, which a
# DROP DATABASE through it would wait on. Hence `--reuse-db` and the drops before and after.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL to a TCP PostgreSQL URL (postgres://user@host:port/name)}"
: "${REDIS_URL:?set REDIS_URL}"
port=${PGBOUNCER_PORT:-6435}

if ! command -v pgbouncer >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer
fi

# Parse DATABASE_URL once, with the same library the settings use.
read -r pg_user pg_host pg_port pg_name < <(.venv/bin/python - <<'EOF'
import os, environ
db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
print(db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["NAME"])
EOF
)
pg_name="${pg_name}_pgbouncer"  # its own test database: a plain run on the same URL may go on meanwhile
test_db="test_${pg_name}"
direct() { PGOPTIONS="-c client_min_messages=warning" psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -v ON_ERROR_STOP=1 -qAtc "$1"; }

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer-suite.XXXXXX")
cat >"$run_dir/pgbouncer.ini" <<EOF
[databases]
* = host=$pg_host port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $run_dir/userlist.txt
admin_users = $pg_user
pool_mode = transaction
default_pool_size = 40
max_client_conn = 400
server_reset_query =
logfile = $run_dir/pgbouncer.log
pidfile = $run_dir/pgbouncer.pid
EOF
printf '"%s" ""\n' "$pg_user" >"$run_dir/userlist.txt"

stop() {
  if [ -f "$run_dir/pgbouncer.pid" ]; then
    kill "$(cat "$run_dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -f "$run_dir/pgbouncer.pid" ] || break; sleep 0.1; done
  fi
  for db in "$test_db" "${test_db}_lagging"; do direct "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true; done
  if [ "${status:-1}" = 0 ]; then rm -rf "$run_dir"; else echo "pgbouncer-suite: PgBouncer's log: $run_dir/pgbouncer.log"; fi
}
trap stop EXIT

for db in "$test_db" "${test_db}_lagging"; do direct "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
as_user=()
if [ "$(id -u)" = 0 ]; then  # PgBouncer refuses to run as root: it drops to the postgres user
  chown -R postgres "$run_dir"
  as_user=(-u postgres)
fi
pgbouncer -d "${as_user[@]}" "$run_dir/pgbouncer.ini"
for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p "$port" -U "$pg_user" -q && break; sleep 0.1; done

export DATABASE_URL="postgres://${pg_user}@127.0.0.1:${port}/${pg_name}"
export DATABASE_POOLER=pgbouncer
if [ "$#" -eq 0 ]; then
  set -- tests/bookings tests/payments tests/core tests/notifications tests/einvoicing -q -p no:randomly
fi
echo "pgbouncer-suite: PgBouncer $(pgbouncer --version | head -n1 | cut -d' ' -f2) on :$port (transaction mode)"
started=$(date +%s)
status=0
.venv/bin/python scripts/devservices.py test -- --reuse-db "$@" || status=$?
elapsed=$(($(date +%s) - started))
# PgBouncer's own count of what went through it: proof the suite did not reach PostgreSQL directly.
through=$(psql -h 127.0.0.1 -p "$port" -U "$pg_user" -d pgbouncer -Atc "SHOW STATS" |
  awk -F'|' -v db="$test_db" '$1 == db {print $2 " transactions, " $3 " queries"}')
echo "pgbouncer-suite: pytest exited $status after $elapsed s; through PgBouncer: ${through:-nothing}"
exit "$status"
