# Cached venvs with the Python peers:
#  - venv_dir: tesseract-core (SDK, CLI, runtime), build, and fractal-server 2.18.5 (the fallback
#    server on machines without Python >= 3.12), on `python3` (3.11 here);
#  - fractal_venv_dir: fractal-server 2.24.4 (scripts/fractal-requirements.txt) on the newest
#    Python >= 3.12 found (pyenv or PATH); falls back to venv_dir when there is none.
# shellcheck shell=bash
PY_REQS="$REPO_ROOT/scripts/python-requirements.txt"
FRACTAL_REQS="$REPO_ROOT/scripts/fractal-requirements.txt"
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

# Keyed by the requirements file and the interpreter's version; the shared venv when no Python >= 3.12.
fractal_venv_dir() {
  local py ver
  py="$(fractal_python)"
  if [ -z "$py" ]; then venv_dir; return 0; fi
  ver="$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo unknown)"
  echo "$CACHE_DIR/fractal-venv-$( (cat "$FRACTAL_REQS"; echo "$ver") | sha256sum | cut -c1-12)"
}

ensure_fractal_venv() {
  local py venv
  py="$(fractal_python)"
  if [ -z "$py" ]; then
    log "no Python >= 3.12 found (pyenv or PATH): the test fractal-server falls back to fractal-server 2.18.5 of $(venv_dir)"
    ensure_python_venv
    return
  fi
  venv="$(fractal_venv_dir)"
  if [ -f "$venv/.complete" ]; then log "fractal-server venv $venv (cached)"; return 0; fi
  log "fractal-server venv $venv on $py"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$FRACTAL_REQS" && touch "$venv/.complete"
}
