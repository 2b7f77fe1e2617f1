# Shared helpers for the setup scripts: timed, named steps that fail loudly.
# shellcheck shell=bash
CACHE_DIR="${PULUMI_TESSERACT_CACHE:-$HOME/.cache/pulumi-tesseract}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "$CACHE_DIR"

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# step NAME CMD...: runs CMD, prints its duration, and names the step if it fails.
step() {
  local name="$1"; shift
  local t0=$SECONDS
  log "$name ..."
  if "$@"; then
    log "$name: ok ($((SECONDS - t0)) s)"
  else
    local rc=$?
    log "FAILED step '$name' (exit $rc after $((SECONDS - t0)) s)"
    exit "$rc"
  fi
}

need_apt() {
  # need_apt PKG...: installs the Debian packages that are not installed yet.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ ! -f "$CACHE_DIR/.apt-updated" ] || [ -n "$(find "$CACHE_DIR/.apt-updated" -mmin +720)" ]; then
    apt-get update -qq && touch "$CACHE_DIR/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Every Go build of the setup (the Pulumi CLI, the YAML language host, the Python SDK generator,
# Kubernetes) uses one build cache, and the three Pulumi builds one set of build settings: a
# package compiled for one build is reused by the next only when its files (chosen by the build
# tags and CGO_ENABLED) and its dependencies are the same. (Before, the CLI's tags made grpc and
# everything above it differ, so the generator recompiled pulumi/pkg; Kubernetes deleted its cache.)
GO_BUILD_CACHE="${PULUMI_TESSERACT_GOCACHE:-$CACHE_DIR/go-build}"
PULUMI_GO_TAGS=osusergo,grpcnotrace
go_build_env() {
  export GOCACHE="$GO_BUILD_CACHE" CGO_ENABLED=0 GOFLAGS=-mod=mod GOSUMDB=off
}

# bg_start ID CMD...: runs CMD (a function or command) in the background, output to
# $CACHE_DIR/logs/ID.log (ID: letters, digits, _); bg_join ID waits for it, prints its step lines
# (with their times) and fails as it did, with the log's tail.
BG_LOGS="$CACHE_DIR/logs"
bg_start() {
  local id="$1"; shift
  mkdir -p "$BG_LOGS"
  log "$id: started in the background (log: $BG_LOGS/$id.log)"
  # Job control on for the launch only: the job gets its own process group, so that bg_stop can
  # stop it with every compiler it started.
  set -m
  ( "$@" ) >"$BG_LOGS/$id.log" 2>&1 </dev/null &
  printf -v "BG_PID_$id" %s "$!"
  set +m
}
# bg_stop ID: stops the job (its process group) if it still runs (a failed foreground step).
bg_stop() {
  local pid_var="BG_PID_$1"
  [ -n "${!pid_var:-}" ] && kill -0 "${!pid_var}" 2>/dev/null && kill -TERM -- "-${!pid_var}" 2>/dev/null
  return 0
}
bg_join() {
  local id="$1" rc=0 pid_var="BG_PID_$1"
  wait "${!pid_var}" || rc=$?
  grep '^\[setup ' "$BG_LOGS/$id.log" >&2 || true
  if [ "$rc" != 0 ]; then
    grep -v '^\[setup ' "$BG_LOGS/$id.log" | tail -n 30 >&2 || true
    log "FAILED background steps '$id' (exit $rc; log: $BG_LOGS/$id.log)"
  fi
  return "$rc"
}

# detach_start ID CMD...: runs the command CMD (a script, not a function) detached from the caller
# (its own session and process group, low priority) so that it outlives the calling script; PID in
# $CACHE_DIR/logs/ID.pid, output in ID.log, exit code in ID.failed when it fails. detach_wait ID
# waits for it (at most $2 s), prints its step lines and fails as it did; detach_stop ID stops it.
detach_running() {
  local f="$BG_LOGS/$1.pid"
  # Its command line names its own log path (a zombie's is empty; a reused PID's is another).
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$(cat "$f")/cmdline" 2>/dev/null | grep -qF "$BG_LOGS/$1 "
}
detach_start() {
  local id="$1"; shift
  mkdir -p "$BG_LOGS"; rm -f "$BG_LOGS/$id.failed"
  log "$id: started in the background (log: $BG_LOGS/$id.log)"
  setsid nice -n 5 bash -c 'echo $$ >"$1.pid"; shift; "$@" || { rc=$?; echo "$rc" >"${0}.failed"; exit "$rc"; }' \
    "$BG_LOGS/$id" "$BG_LOGS/$id" "$@" >"$BG_LOGS/$id.log" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 40; i++)); do detach_running "$id" && return 0; sleep 0.25; done
}
detach_wait() {
  local id="$1" limit="${2:-3600}" t0=$SECONDS
  while detach_running "$id"; do
    ((SECONDS - t0 < limit)) || { log "$id: still running after $limit s (log: $BG_LOGS/$id.log)"; return 1; }
    sleep 2
  done
  grep '^\[setup ' "$BG_LOGS/$id.log" >&2 || true
  if [ -f "$BG_LOGS/$id.failed" ]; then
    grep -v '^\[setup ' "$BG_LOGS/$id.log" | tail -n 30 >&2 || true
    log "FAILED background steps '$id' (exit $(cat "$BG_LOGS/$id.failed"); log: $BG_LOGS/$id.log)"
    return 1
  fi
  rm -f "$BG_LOGS/$id.pid"
  log "$id: done (waited $((SECONDS - t0)) s)"
}
detach_stop() {
  if detach_running "$1"; then kill -TERM -- "-$(cat "$BG_LOGS/$1.pid")" 2>/dev/null || true; fi
}

# poll_quietly SECONDS CMD...: runs CMD (output dropped) every 0.25 s until it succeeds (0) or
# SECONDS pass (1). The callers say what timed out and show their component's log.
poll_quietly() {
  local seconds="$1" i; shift
  for ((i = 0; i < seconds * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}
