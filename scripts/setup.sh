#!/usr/bin/env bash
# Installs and starts what the tests and the root stack need; does nothing when all is there.
# On a machine that already runs Docker and has a Pulumi CLI, it touches neither.
# Usage: bash scripts/setup.sh [--no-python]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/docker.sh"
source "$REPO_ROOT/scripts/lib/python.sh"
source "$REPO_ROOT/scripts/lib/postgres.sh"
source "$REPO_ROOT/scripts/lib/engines.sh"

ensure_node_modules() {
  cd "$REPO_ROOT"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # npm 11 can write a lock that its own `npm ci` rejects (platform-specific optional packages
    # such as @biomejs/cli-* missing); `npm install` then installs the same pinned versions.
    npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
      npm install --no-audit --no-fund --loglevel=error
  fi
  # Provider shims require the implementation by package name; in this repository that
  # name must resolve to the repository itself.
  ln -sfn .. node_modules/pulumi-tesseract
}

t0=$SECONDS
step "node modules" ensure_node_modules
source "$REPO_ROOT/scripts/lib/pulumi.sh"
step "docker engine" ensure_docker
step "base image $BASE_IMAGE" ensure_base_image
step "pulumi cli v$PULUMI_VERSION" ensure_pulumi_cli
source "$REPO_ROOT/scripts/lib/plugin.sh"
step "pulumi yaml language host v$YAML_HOST_VERSION" ensure_yaml_host
if [ "${1:-}" != "--no-python" ]; then
  step "python peers (tesseract-core, build)" ensure_python_venv
  step "fractal-server venvs ($(fractal_versions | paste -sd " "))" ensure_fractal_venvs
  step "postgresql on 127.0.0.1:$PG_PORT" ensure_postgres
  # The test cluster's binaries (cached by version; cold ~10 min on 2 idle cores) and packages;
  # the registry and cluster test files start and stop the cluster themselves.
  source "$REPO_ROOT/scripts/lib/kubernetes.sh"
  step "kubernetes $K8S_VERSION binaries and packages (test cluster)" ensure_k8s_test_deps
  step "engine test packages (ssh, openssl, podman)" ensure_engine_test_packages
  step "python sdk of the tesseract plugin (pulumi_tesseract wheel)" ensure_python_sdk
fi
log "setup complete ($((SECONDS - t0)) s)"
