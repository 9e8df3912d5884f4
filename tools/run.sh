#!/bin/sh
# make run: start the bundled Redis, the dashboard and every worker under
# supervisord in the foreground. Ctrl+C stops everything (workers drain).
# Nothing is written outside the checkout: state goes to var/.
set -e
cd "$(dirname "$0")/.."
DRUDGE_HOME=$(pwd)
DRUDGE_VAR=${DRUDGE_VAR:-$DRUDGE_HOME/var}
DRUDGE_WEB_PORT=${DRUDGE_WEB_PORT:-8080}
DRUDGE_CONFIG=${DRUDGE_CONFIG:-$DRUDGE_HOME/conf/local.yaml}
DRUDGE_NOOP_PROCS=${DRUDGE_NOOP_PROCS:-2}
export DRUDGE_HOME DRUDGE_VAR DRUDGE_WEB_PORT DRUDGE_CONFIG DRUDGE_NOOP_PROCS
mkdir -p "$DRUDGE_VAR/run" "$DRUDGE_VAR/log" "$DRUDGE_VAR/redis" "$DRUDGE_VAR/uploads" "$DRUDGE_VAR/out"
[ -f "$DRUDGE_VAR/uploads/sample.jpg" ] || \
    convert -size 1600x1200 plasma:fractal -quality 85 "$DRUDGE_VAR/uploads/sample.jpg" 2>/dev/null || true

sock="$DRUDGE_VAR/run/redis.sock"
env="DRUDGE_REDIS_URL=unix://$sock DRUDGE_REDIS_USER=drudge-admin DRUDGE_REDIS_PASSWORD=drudge-admin-local"
cat <<MSG

  drudge is starting: Redis, the dashboard and the workers, under supervisord.

  Dashboard:  http://127.0.0.1:$DRUDGE_WEB_PORT/      (the demo: /demo)
  Logs:       $DRUDGE_VAR/log/

  Try, in another terminal:
    $env bin/drudge push ImageJob '{"input":"sample.jpg","output":"thumbs/sample.webp","ops":[{"op":"thumbnail","width":256,"height":256}]}'
    $env bin/drudge status --watch ImageJob <the id it printed>
    $env bin/drudge stats

  supervisorctl: supervisorctl -c supervisord/supervisord.conf status   (with the same DRUDGE_* variables)
  Ctrl+C stops everything.

MSG
exec supervisord -n -c supervisord/supervisord.conf
