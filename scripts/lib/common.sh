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
