#!/usr/bin/env bash
# Start/stop a real fractal-server (the version pinned in scripts/python-requirements.txt) on a
# loopback port, against the PostgreSQL cluster that scripts/setup.sh runs on
# 127.0.0.1:$PULUMI_TESSERACT_PG_PORT (user postgres, trust auth). Idempotent.
#
# Usage: bash scripts/fractal-server.sh start|stop|status|env|reset
#   start   create the database (once), env file, `fractalctl set-db`, `init-db-data`, start, wait
#           for /api/alive/; prints the credentials file path. A running server is reused.
#   stop    stop the server started by this script (by its pid file).
#   status  exit 0 when the server answers /api/alive/.
#   env     print FRACTAL_URL / FRACTAL_EMAIL / FRACTAL_PASSWORD lines (for `source <(...)`).
#   reset   stop, drop the database and the server folder.
# Env: PULUMI_TESSERACT_FRACTAL_PORT (default 18765), PULUMI_TESSERACT_FRACTAL_DIR
#      (default $PULUMI_TESSERACT_CACHE/fractal-server), PULUMI_TESSERACT_FRACTAL_JWT_EXPIRE (default 180).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh >/dev/null

PORT="${PULUMI_TESSERACT_FRACTAL_PORT:-18765}"
DIR="${PULUMI_TESSERACT_FRACTAL_DIR:-$PULUMI_TESSERACT_CACHE/fractal-server}"
DB="pulumi_tesseract_fractal_${PORT}"
URL="http://127.0.0.1:$PORT"
EMAIL="admin@example.org"
VENV="$PULUMI_TESSERACT_VENV"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PULUMI_TESSERACT_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)

say() { printf '[fractal-server %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
alive() { curl -fsS --max-time 3 "$URL/api/alive/" >/dev/null 2>&1; }
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
    "$URL" "$EMAIL" "$(password)" "$DIR/data-tasks" >"$DIR/credentials.json")
}

# Base interpreters for the resource: the venv's own base Python plus any pyenv 3.9-3.14.
python_versions_json() {
  "$VENV/bin/python" - <<'EOF'
import glob, json, os, sys
versions = {f"{sys.version_info.major}.{sys.version_info.minor}": sys._base_executable}
for minor in range(9, 15):
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
  if alive && pid_alive; then write_credentials; say "already running at $URL"; echo "$DIR/credentials.json"; return 0; fi
  pid_alive && stop
  mkdir -p "$DIR/data-tasks" "$DIR/data-jobs" "$DIR/project"
  local pwd_; pwd_="$(password)"
  if ! "${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    say "create database $DB"
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null
    rm -f "$DIR/.initialised"
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
  "$VENV/bin/fractalctl" set-db >"$DIR/set-db.log" 2>&1 || { cat "$DIR/set-db.log" >&2; return 1; }
  if [ ! -f "$DIR/.initialised" ]; then
    cat >"$DIR/resource.json" <<EOF
{"name": "Local resource", "type": "local", "jobs_local_dir": "$DIR/data-jobs",
 "tasks_local_dir": "$DIR/data-tasks", "tasks_python_config": $(python_versions_json),
 "jobs_poll_interval": 0, "jobs_runner_config": {}, "tasks_pixi_config": {}}
EOF
    echo '{"resource_type": "local", "name": "Local profile"}' >"$DIR/profile.json"
    "$VENV/bin/fractalctl" init-db-data --resource "$DIR/resource.json" --profile "$DIR/profile.json" \
      --admin-email "$EMAIL" --admin-pwd "$pwd_" --admin-project-dir "$DIR/project" >"$DIR/init-db-data.log" 2>&1 \
      || { cat "$DIR/init-db-data.log" >&2; return 1; }
    touch "$DIR/.initialised"
  fi
  say "start on $URL"
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
  reset) stop; "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|status|env|reset" >&2; exit 2 ;;
esac
