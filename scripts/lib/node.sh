# The repository's node modules, exactly as locked.
# shellcheck shell=bash

ensure_node_modules() {
  cd "$REPO_ROOT" || return 1
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # Provider shims require the implementation by package name; in this repository that
  # name must resolve to the repository itself.
  ln -sfn .. node_modules/pulumi-tesseract
}
