#!/usr/bin/env bash
# The tests' single-node Kubernetes cluster and container registries on 127.0.0.1
# (scripts/lib/kubernetes.sh, scripts/lib/registry.sh). Every command is idempotent.
#   build            build (or find cached) Kubernetes binaries; waits for a background build
#   build-background start the build detached (npm test: the cluster's test file waits for it)
#   build-wait | build-stop   wait for (bounded) / stop a background build, if one runs
#   up | down        start / stop the cluster and the registries; down leaves nothing on the host
#   registry-up | registry-down | cluster-up | cluster-down   one half only
#   env              print the addresses, kubeconfig path and registry credentials (KEY=VALUE)
#   leftovers        print anything of the cluster still on the host; exit 1 if any
#   status           "registry up|down" and "cluster up|down"
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/kubernetes.sh"
case "${1:-}" in
  build) step "kubernetes $K8S_VERSION binaries" ensure_k8s_binaries && rm -f "$K8S_BUILD_FAILED" ;;
  build-background) k8s_build_background ;;
  build-wait) if k8s_build_running || { ! k8s_built && [ -f "$K8S_BUILD_FAILED" ]; }; then k8s_build_wait; fi ;;
  build-stop) if k8s_build_running; then kill -TERM -- "-$(cat "$K8S_BUILD_PID")" 2>/dev/null || true; fi ;;
  # The detached build itself (started by build-background in its own session).
  build-child)
    echo $$ >"$K8S_BUILD_PID"
    trap 'rc=$?; [ "$rc" = 0 ] || echo "$rc" >"$K8S_BUILD_FAILED"' EXIT
    step "kubernetes $K8S_VERSION binaries (background)" k8s_build_now
    ;;
  registry-up) step "test registries" registry_up ;;
  registry-down) step "test registries down" registry_down ;;
  cluster-up) step "kubernetes $K8S_VERSION cluster on 127.0.0.1:$K8S_API_PORT" k8s_up ;;
  cluster-down) step "kubernetes cluster down" k8s_down ;;
  up)
    step "test registries" registry_up
    step "kubernetes $K8S_VERSION cluster on 127.0.0.1:$K8S_API_PORT" k8s_up
    ;;
  down)
    step "kubernetes cluster down" k8s_down
    step "test registries down" registry_down
    ;;
  env)
    registry_env
    echo "PULUMI_TESSERACT_KUBECONFIG=$K8S_RUN/admin.kubeconfig"
    echo "PULUMI_TESSERACT_K8S_API=https://127.0.0.1:$K8S_API_PORT"
    echo "PULUMI_TESSERACT_KUBECTL=$(k8s_bin kubectl)"
    ;;
  leftovers) k8s_leftovers ;;
  status)
    ok=1; for n in "${REGISTRY_INSTANCES[@]}"; do registry_answers "$n" || ok=0; done
    [ $ok = 1 ] && echo "registry up" || echo "registry down"
    k8s_ready && echo "cluster up" || echo "cluster down"
    ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
