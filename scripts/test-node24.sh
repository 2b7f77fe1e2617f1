#!/usr/bin/env bash
# The unit tier on Node.js 24 with the newest @pulumi/pulumi (versions in scripts/lib/node24.sh;
# scripts/setup.sh installs both into the cache). It runs in a throwaway copy of the sources and
# the built lib/ whose node_modules links into the cached Node 24 install, so the repository's
# own node_modules (Node 20, @pulumi/pulumi 3.248.0) are untouched and both can run at once.
# Usage: bash scripts/test-node24.sh [node --test args]   (after the build)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/node24.sh"
deps="$(node24_deps_dir)"
[ -f "$deps/.complete" ] && [ -x "$(node24_dir)/bin/node" ] || { log "run bash scripts/setup.sh first"; exit 1; }
run="$(mktemp -d "${TMPDIR:-/tmp}/pt-node24-XXXXXX")"
trap 'rm -rf "$run"' EXIT
cd "$REPO_ROOT"
cp -r lib provider test scripts examples bench index.ts package.json package-lock.json LICENSE tsconfig.json tsconfig.check.json "$run/"
mkdir "$run/node_modules"
ln -s "$deps"/node_modules/* "$deps/node_modules/.bin" "$run/node_modules/"
ln -s .. "$run/node_modules/pulumi-tesseract"
cd "$run"
export PATH="$(node24_dir)/bin:$PATH"
log "unit tier on node $(node --version), @pulumi/pulumi $(node -p 'require("@pulumi/pulumi/package.json").version')"
source "$REPO_ROOT/scripts/lib/unit-files.sh"
# shellcheck disable=SC2046
node --import tsx --test --test-concurrency=2 --test-reporter=spec "$@" $(unit_files)
