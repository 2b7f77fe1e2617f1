#!/usr/bin/env bash
# Start/stop a real fractal-server on a loopback port, against the PostgreSQL cluster that
# scripts/setup.sh runs on 127.0.0.1:$PULUMI_TESSERACT_PG_PORT (user postgres, trust auth). Idempotent.
# One server per fractal-server version of the test matrix (scripts/fractal-versions.txt: the newest
# release and 2.24.x), each from its own venv (scripts/lib/python.sh), with its own port, database
# and state folder, so that they can run side by side. 2.18.5 (in the shared venv) can be started
# the same way: the provider refuses it, which a test checks.
#
# Usage: bash scripts/fractal-server.sh start|stop|status|env|reset|version|versions
#   start   create the database (once), env file, `fractalctl set-db`, `init-db-data`, start, wait
#           for /api/alive/; prints the credentials file path. A running server is reused.
#   stop    stop the server started by this script (by its pid file).
#   status  exit 0 when the server answers /api/alive/.
#   env     print FRACTAL_URL / FRACTAL_EMAIL / FRACTAL_PASSWORD lines (for `source <(...)`).
#   reset   stop, drop this server's database and its folder.
#   version print the fractal-server version this invocation runs.
#   versions print the matrix (newest first).
# Env: PULUMI_TESSERACT_FRACTAL_SERVER_VERSION (a matrix version or prefix such as 2.24; default:
#      the newest), PULUMI_TESSERACT_FRACTAL_PORT (default: the version's port in
#      scripts/fractal-versions.txt), PULUMI_TESSERACT_FRACTAL_DIR (default
#      $PULUMI_TESSERACT_CACHE/fractal-server-<version>), PULUMI_TESSERACT_FRACTAL_JWT_EXPIRE (default
#      180), PULUMI_TESSERACT_FRACTAL_MIN_PYTHON (default 3.11: the oldest Python the resource offers).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh >/dev/null

VERSION="$(fractal_resolve_version "${PULUMI_TESSERACT_FRACTAL_SERVER_VERSION:-}")" || {
  echo "fractal-server ${PULUMI_TESSERACT_FRACTAL_SERVER_VERSION:-} is not in scripts/fractal-versions.txt ($(fractal_versions | tr '\n' ' '))" >&2
  exit 2
}
[ "${1:-}" = versions ] && { fractal_versions; exit 0; }
VENV="$(fractal_venv_dir "$VERSION")"
[ -x "$VENV/bin/fractalctl" ] || { echo "no fractalctl in $VENV (fractal-server $VERSION): run bash scripts/setup.sh" >&2; exit 1; }
PORT="${PULUMI_TESSERACT_FRACTAL_PORT:-$(fractal_port "$VERSION")}"
PORT="${PORT:-18772}"
DIR="${PULUMI_TESSERACT_FRACTAL_DIR:-$PULUMI_TESSERACT_CACHE/fractal-server-$VERSION}"
URL="http://127.0.0.1:$PORT"
EMAIL="admin@example.org"
MM="$(echo "$VERSION" | cut -d. -f1,2)"
DB="pulumi_tesseract_fractal_${PORT}_v${MM/./_}"
# Per-version state (tasks folder, jobs, init marker): groups collected by another version are unknown
# to this version's database, and their folders would block its collections.
STATE="$DIR/v$MM"
MIN_PY="${PULUMI_TESSERACT_FRACTAL_MIN_PYTHON:-3.11}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PULUMI_TESSERACT_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)

say() { printf '[fractal-server %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
alive() { curl -fsS --max-time 3 "$URL/api/alive/" >/dev/null 2>&1; }
running_version() { curl -fsS --max-time 3 "$URL/api/alive/" 2>/dev/null | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p'; }
pid_alive() { [ -f "$DIR/server.pid" ] && kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null; }

password() {
  mkdir -p "$DIR"; chmod 700 "$DIR"
  if [ ! -s "$DIR/admin-password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/admin-password")
  fi
  cat "$DIR/admin-password"
}

write_credentials() {
  (umask 077; printf '{"url":"%s","email":"%s","password":"%s","tasksDir":"%s"}\n' \
    "$URL" "$EMAIL" "$(password)" "$STATE/data-tasks" >"$DIR/credentials.json")
}

# Base interpreters for the resource: the venv's own base Python plus any pyenv 3.x >= $MIN_PY (so the
# server refuses older ones: the provider must catch that at preview).
python_versions_json() {
  MIN_MINOR="${MIN_PY#3.}" "$VENV/bin/python" - <<'EOF'
import glob, json, os, sys
versions = {f"{sys.version_info.major}.{sys.version_info.minor}": sys._base_executable}
for minor in range(int(os.environ["MIN_MINOR"]), 15):
    v = f"3.{minor}"
    if v in versions:
        continue
    hits = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{v}.*/bin/python{v}")))
    if hits:
        versions[v] = hits[-1]
print(json.dumps({"default_version": f"{sys.version_info.major}.{sys.version_info.minor}", "versions": versions}))
EOF
}

start() {
  if alive && pid_alive; then
    local running; running="$(running_version)"
    if [ "$running" = "$VERSION" ]; then
      write_credentials; say "$VERSION already running at $URL"; echo "$DIR/credentials.json"; return 0
    fi
    say "running server is fractal-server ${running:-?}, the venv has $VERSION: restarting"
  fi
  pid_alive && stop
  if alive; then say "$URL answers but was not started from $DIR (another server on port $PORT?)"; return 1; fi
  mkdir -p "$STATE/data-tasks" "$STATE/data-jobs" "$STATE/project"
  local pwd_; pwd_="$(password)"
  if ! "${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    say "create database $DB"
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null
    rm -f "$STATE/.initialised"
  fi
  (umask 077; cat >"$DIR/.fractal_server.env" <<EOF
JWT_SECRET_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
JWT_EXPIRE_SECONDS=${PULUMI_TESSERACT_FRACTAL_JWT_EXPIRE:-180}
POSTGRES_DB=$DB
POSTGRES_USER=postgres
POSTGRES_HOST=127.0.0.1
POSTGRES_PORT=$PULUMI_TESSERACT_PG_PORT
FRACTAL_RUNNER_BACKEND=local
FRACTAL_LOGGING_LEVEL=20
EOF
  )
  cd "$DIR"
  "$VENV/bin/fractalctl" set-db >"$STATE/set-db.log" 2>&1 || { cat "$STATE/set-db.log" >&2; return 1; }
  if [ ! -f "$STATE/.initialised" ]; then
    cat >"$STATE/resource.json" <<EOF
{"name": "Local resource", "type": "local", "jobs_local_dir": "$STATE/data-jobs",
 "tasks_local_dir": "$STATE/data-tasks", "tasks_python_config": $(python_versions_json),
 "jobs_poll_interval": 0, "jobs_runner_config": {}, "tasks_pixi_config": {}}
EOF
    echo '{"resource_type": "local", "name": "Local profile"}' >"$STATE/profile.json"
    "$VENV/bin/fractalctl" init-db-data --resource "$STATE/resource.json" --profile "$STATE/profile.json" \
      --admin-email "$EMAIL" --admin-pwd "$pwd_" --admin-project-dir "$STATE/project" >"$STATE/init-db-data.log" 2>&1 \
      || { cat "$STATE/init-db-data.log" >&2; return 1; }
    touch "$STATE/.initialised"
  fi
  say "start fractal-server $VERSION on $URL"
  # setsid: own process group, so that stop can end the server and its workers together.
  setsid "$VENV/bin/fractalctl" start --host 127.0.0.1 --port "$PORT" >"$DIR/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/server.pid"
  cd - >/dev/null
  for _ in $(seq 1 120); do
    alive && { write_credentials; say "alive"; echo "$DIR/credentials.json"; return 0; }
    pid_alive || break
    sleep 0.5
  done
  say "did not answer /api/alive/; log:"; tail -n 40 "$DIR/server.log" >&2; return 1
}

stop() {
  if pid_alive; then
    local pid; pid="$(cat "$DIR/server.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    say "stopped"
  fi
  rm -f "$DIR/server.pid"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) alive ;;
  env) write_credentials; printf 'FRACTAL_URL=%s\nFRACTAL_EMAIL=%s\nFRACTAL_PASSWORD=%s\n' "$URL" "$EMAIL" "$(password)" ;;
  reset)
    stop
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
    rm -rf "$DIR" ;;
  version) echo "$VERSION" ;;
  *) echo "usage: $0 start|stop|status|env|reset|version|versions" >&2; exit 2 ;;
esac
