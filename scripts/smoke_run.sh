#!/usr/bin/env bash
# Proves the README's first command on the embedded path: `make run` with no DATABASE_URL/REDIS_URL
# serves /health/ 200 with a live worker, Flower answers behind basic auth, and Ctrl-C stops it all.
# It runs on ports other than the defaults (SMOKE_PORT, SMOKE_FLOWER_PORT), so PORT and FLOWER_PORT are
# proven to be honoured, start-up line included, and a stack already on 8000/5555 is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${SMOKE_PORT:-18000}
flower_port=${SMOKE_FLOWER_PORT:-15555}
log=$(mktemp)
env -u DATABASE_URL -u REDIS_URL PORT="$port" FLOWER_PORT="$flower_port" setsid make run >"$log" 2>&1 &
runner=$!
stop() {
  kill -INT -- "-$runner" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$runner" 2>/dev/null || break; sleep 1; done
}
trap stop EXIT
status=000
body=""
for _ in $(seq 1 120); do
  sleep 1
  kill -0 "$runner" 2>/dev/null || break  # make run exited: no point waiting
  body=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/health/" || true)
  status=${body##* }
  if [ "$status" = 200 ] && grep -q '"workers":[1-9]' <<<"$body"; then break; fi
done
echo "smoke: /health/ on :$port -> $body"
flower_anon=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$flower_port/" || true)
flower_auth=$(curl -s -o /dev/null -w '%{http_code}' -u ops:ops "http://127.0.0.1:$flower_port/" || true)
echo "smoke: flower on :$flower_port without auth -> $flower_anon, with auth -> $flower_auth"
announced="devservices: API on http://127.0.0.1:$port  Flower on http://127.0.0.1:$flower_port"
grep -qF "$announced" "$log" && printed=yes || printed=no
echo "smoke: start-up line names the real URLs -> $printed"
if [ "$status" != 200 ] || [ "$flower_anon" != 401 ] || [ "$flower_auth" != 200 ] || [ "$printed" != yes ]; then
  echo "smoke: FAILED; last lines of make run:"; tail -40 "$log"; exit 1
fi
stop
trap - EXIT
leftover=$(pgrep -f "$PWD/.dev" || true)
if [ -n "$leftover" ]; then echo "smoke: processes left running after Ctrl-C: $leftover"; exit 1; fi
echo "smoke: passed (make run served on PORT=$port FLOWER_PORT=$flower_port, stopped cleanly)"
