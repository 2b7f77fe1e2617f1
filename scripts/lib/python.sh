# Cached venvs with the Python peers:
#  - venv_dir: tesseract-core (SDK, CLI, runtime) and build on `python3` (3.11 here); it also holds
#    fractal-server 2.18.5, which the tests use only as an *unsupported* server (refused at preview);
#  - fractal_venv_dir VERSION: fractal-server VERSION (one per line of scripts/fractal-versions.txt)
#    on the newest Python >= 3.12 found (pyenv or PATH).
# shellcheck shell=bash
PY_REQS="$REPO_ROOT/scripts/python-requirements.txt"
FRACTAL_VERSIONS="$REPO_ROOT/scripts/fractal-versions.txt"
venv_dir() { echo "$CACHE_DIR/venv-$(sha256sum <"$PY_REQS" | cut -c1-12)"; }

ensure_python_venv() {
  local venv
  venv="$(venv_dir)"
  [ -f "$venv/.complete" ] && return 0
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$PY_REQS" && touch "$venv/.complete"
}

# The newest Python >= 3.12 (3.12-3.14, what fractal-server 2.24 supports): $PULUMI_TESSERACT_FRACTAL_PYTHON,
# else ~/.pyenv/versions/3.1[2-4].*, else python3.14 / python3.13 / python3.12 on PATH. Empty if none.
fractal_python() {
  if [ -n "${PULUMI_TESSERACT_FRACTAL_PYTHON:-}" ]; then echo "$PULUMI_TESSERACT_FRACTAL_PYTHON"; return 0; fi
  local d v
  for d in $(ls -d "$HOME"/.pyenv/versions/3.1[2-4].* 2>/dev/null | sort -V -r); do
    v="$(basename "$d")"; v="${v%.*}"
    [ -x "$d/bin/python$v" ] && { echo "$d/bin/python$v"; return 0; }
  done
  for v in 3.14 3.13 3.12; do
    command -v "python$v" >/dev/null 2>&1 && "python$v" -c 'import sys' >/dev/null 2>&1 \
      && { command -v "python$v"; return 0; }
  done
  return 0
}

# The fractal-server versions of the test matrix (newest first), and a version's default port.
fractal_versions() { sed -e 's/#.*//' "$FRACTAL_VERSIONS" | awk 'NF {print $1}'; }
fractal_port() { sed -e 's/#.*//' "$FRACTAL_VERSIONS" | awk -v v="$1" '$1 == v {print $2}'; }
# A version of the matrix (or 2.18.5, the shared venv's) from a full version or a prefix ("2.24").
fractal_resolve_version() {
  local want="$1" v
  [ -z "$want" ] && { fractal_versions | head -n1; return 0; }
  for v in $(fractal_versions) 2.18.5; do
    case "$v" in "$want" | "$want".*) echo "$v"; return 0 ;; esac
  done
  return 1
}

# Keyed by the fractal-server version and the interpreter's version; 2.18.5 is the shared venv's.
fractal_venv_dir() {
  local version="$1" py ver
  [ "$version" = 2.18.5 ] && { venv_dir; return 0; }
  py="$(fractal_python)"
  ver="$([ -n "$py" ] && "$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo none)"
  echo "$CACHE_DIR/fractal-venv-$version-py$ver"
}

ensure_fractal_venv() {
  local version="$1" py venv
  py="$(fractal_python)"
  if [ -z "$py" ]; then
    log "no Python >= 3.12 found (pyenv or PATH; or set PULUMI_TESSERACT_FRACTAL_PYTHON): fractal-server $version needs one"
    return 1
  fi
  venv="$(fractal_venv_dir "$version")"
  if [ -f "$venv/.complete" ]; then log "fractal-server $version venv $venv (cached)"; return 0; fi
  log "fractal-server $version venv $venv on $py"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "fractal-server==$version" && touch "$venv/.complete"
}

# Every version of the matrix, installed side by side (in parallel when cold: pip is network-bound).
ensure_fractal_venvs() {
  local v pids=() rc=0
  for v in $(fractal_versions); do ensure_fractal_venv "$v" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}
