#!/usr/bin/env bash
# The test setup (`npm test`, `npm run bench`): what `npm run up` needs (scripts/setup-up.sh) plus
# what only the tests need. Installs on Debian what is missing and starts what is not running;
# does nothing when all is there (seconds when warm).
# Cold, the Go builds (the Pulumi CLI, the YAML language host, the Python SDK generator: one build
# cache, one at a time) run in the background while the downloads (Node 24, npm, pip, apt) run in
# the foreground; each step prints its time, the background ones when they are joined.
# Kubernetes (the test cluster's binaries) is built last; with PULUMI_TESSERACT_K8S_BUILD=background
# (scripts/test.sh) it is only started, and the cluster's test file waits for it.
# Usage: bash scripts/setup.sh [--no-python]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/node.sh"
source "$REPO_ROOT/scripts/lib/docker.sh"
source "$REPO_ROOT/scripts/lib/python.sh"
source "$REPO_ROOT/scripts/lib/postgres.sh"
source "$REPO_ROOT/scripts/lib/node24.sh"
source "$REPO_ROOT/scripts/lib/engines.sh"
source "$REPO_ROOT/scripts/lib/slurm.sh"

python=1
[ "${1:-}" = "--no-python" ] && python=0
# PULUMI_TESSERACT_GO_BUILDS (scripts/test.sh): `detach` leaves the Go builds (then the Kubernetes
# build) running detached after the foreground steps, for the tiers that need neither (unit,
# integration); `join` waits for them (bounded) and fails with their log if they failed.
go_mode="${PULUMI_TESSERACT_GO_BUILDS:-}"
t0=$SECONDS
[ "${1:-}" = "--go-builds" ] || step "node modules" ensure_node_modules
source "$REPO_ROOT/scripts/lib/pulumi.sh"
source "$REPO_ROOT/scripts/lib/plugin.sh"
source "$REPO_ROOT/scripts/lib/kubernetes.sh"

go_builds() {
  step "pulumi cli v$PULUMI_VERSION" ensure_pulumi_cli
  step "pulumi yaml language host v$YAML_HOST_VERSION" ensure_yaml_host
  if [ "$python" = 1 ]; then step "python sdk generator (pulumi codegen v$PULUMI_VERSION)" build_python_sdk_generator; fi
}
if [ "${1:-}" = "--go-builds" ]; then # the detached job of `detach`
  go_builds
  [ "${PULUMI_TESSERACT_K8S_BUILD:-}" = background ] && step "kubernetes $K8S_VERSION binaries (background)" k8s_build_background
  exit 0
fi
if [ "$go_mode" = join ] && { detach_running go_builds || [ -f "$BG_LOGS/go_builds.failed" ]; }; then
  log "waiting for the detached go builds (log: $BG_LOGS/go_builds.log)"
  detach_wait go_builds "${PULUMI_TESSERACT_GO_BUILD_WAIT:-3600}" || exit 1
fi
if [ "$go_mode" = detach ]; then
  detach_start go_builds bash "$REPO_ROOT/scripts/setup.sh" --go-builds
else
  bg_start go_builds go_builds
  trap 'bg_stop go_builds' EXIT # a failed foreground step stops them
fi

step "docker engine (docker.io started if none answers)" ensure_docker
step "base image $BASE_IMAGE" ensure_base_image
step "base image tarball for private test engines" ensure_base_image_tarball
step "node v$NODE24_VERSION (npm: node-linux-*)" ensure_node24
step "node 24 dependencies with @pulumi/pulumi $PULUMI_NEWEST" ensure_node24_deps
if [ "$python" = 1 ]; then
  step "python peers (tesseract-core, build)" ensure_python_venv
  step "fractal-server venvs ($(fractal_versions | paste -sd " "))" ensure_fractal_venvs
  step "postgresql on 127.0.0.1:$PG_PORT" ensure_postgres
  # The registry and cluster test files start and stop the cluster themselves.
  step "kubernetes test packages and certificates (etcd, CNI, nft, docker-registry)" ensure_k8s_test_packages
  step "engine test packages (ssh, openssl, podman)" ensure_engine_test_packages
  # The Slurm test cluster's packages (nothing started: its test file runs scripts/slurm.sh up).
  step "slurm test packages (slurm-wlm 22.05, munge)" ensure_slurm_packages
  step "python sdk venv (pulumi $PULUMI_VERSION from PyPI)" python_sdk_venv
fi
if [ "$go_mode" = detach ]; then
  log "setup without the Go builds complete ($((SECONDS - t0)) s); they go on in the background"
  exit 0
fi
log "waiting for the background go builds (log: $BG_LOGS/go_builds.log)"
tw=$SECONDS
bg_join go_builds || { log "FAILED step 'go builds' (see above)"; exit 1; }
log "go builds joined (waited $((SECONDS - tw)) s)"
if [ "$python" = 1 ]; then
  step "python sdk of the tesseract plugin (pulumi_tesseract wheel)" ensure_python_sdk
  # The test cluster's binaries (cached by version; cold ~10 min on 2 idle cores).
  if [ "${PULUMI_TESSERACT_K8S_BUILD:-}" = background ]; then
    step "kubernetes $K8S_VERSION binaries (test cluster; background)" k8s_build_background
  else
    step "kubernetes $K8S_VERSION binaries (test cluster)" ensure_k8s_binaries
  fi
fi
log "setup complete ($((SECONDS - t0)) s)"
