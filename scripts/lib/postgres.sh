# A PostgreSQL cluster of our own on 127.0.0.1 for fractal-server (never the system one).
# shellcheck shell=bash
PG_PORT="${PULUMI_TESSERACT_PG_PORT:-55432}"
# Outside $HOME: the server runs as the postgres user, which cannot enter /root.
PG_DIR="${PULUMI_TESSERACT_PG_DIR:-/var/tmp/pulumi-tesseract-postgres}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
pg_answers() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

ensure_postgres() {
  [ -n "$(pg_bin)" ] || need_apt postgresql
  pg_answers && return 0
  local bin; bin="$(pg_bin)"
  mkdir -p "$PG_DIR"; chown postgres:postgres "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >"$PG_DIR/initdb.log"
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp" start >/dev/null
  pg_answers
}
