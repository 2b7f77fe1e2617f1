#!/usr/bin/env bash
# The test setup (`npm test`, `npm run bench`): what `npm run up` needs (scripts/setup-up.sh) plus
# what only the tests need. Installs on Debian what is missing and starts what is not running;
# does nothing when all is there (seconds when warm).
# Usage: bash scripts/setup.sh [--no-python]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/node.sh"
source "$REPO_ROOT/scripts/lib/docker.sh"
source "$REPO_ROOT/scripts/lib/python.sh"
source "$REPO_ROOT/scripts/lib/postgres.sh"
source "$REPO_ROOT/scripts/lib/node24.sh"
source "$REPO_ROOT/scripts/lib/engines.sh"

t0=$SECONDS
step "node modules" ensure_node_modules
source "$REPO_ROOT/scripts/lib/pulumi.sh"
step "docker engine (docker.io started if none answers)" ensure_docker
step "base image $BASE_IMAGE" ensure_base_image
step "base image tarball for private test engines" ensure_base_image_tarball
step "pulumi cli v$PULUMI_VERSION" ensure_pulumi_cli
step "node v$NODE24_VERSION (npm: node-linux-*)" ensure_node24
step "node 24 dependencies with @pulumi/pulumi $PULUMI_NEWEST" ensure_node24_deps
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
