# A single-node Kubernetes cluster for the tests, entirely on 127.0.0.1.
# Binaries: Kubernetes built from the Go module proxy (cached by version); etcd, containerd, runc and
# the CNI plugins from Debian's packages (etcd and CNI only extracted: no Debian service is started).
# The cluster runs its own containerd (own root, state and socket): Docker's containerd is untouched.
# shellcheck shell=bash
source "$REPO_ROOT/scripts/lib/registry.sh"
K8S_VERSION="${PULUMI_TESSERACT_K8S_VERSION:-v1.34.4}"
K8S_CACHE="$CACHE_DIR/kubernetes/$K8S_VERSION"   # bin/ (the built binaries), build/ (wrapper module)
K8S_DEBS="$CACHE_DIR/kubernetes/debian-root"      # extracted etcd-server, CNI plugins, nftables
# Runtime state lives outside $HOME (kubelet's mounts and pod logs) and is removed by `down`.
K8S_RUN="${PULUMI_TESSERACT_K8S_DIR:-/var/tmp/pulumi-tesseract-k8s}"
K8S_API_PORT="${PULUMI_TESSERACT_K8S_API_PORT:-36443}"
K8S_ETCD_PORT=36379
K8S_ETCD_PEER_PORT=36380
K8S_KUBELET_PORT=36250
K8S_KUBELET_HEALTHZ_PORT=36248
K8S_CM_PORT=36257
K8S_SCHED_PORT=36259
K8S_NODE=localhost        # the kubelet refuses a loopback node IP; the API server reaches it by name
K8S_BRIDGE=pt-k8s0
K8S_POD_SUBNET=10.245.0.0/24
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
K8S_SANDBOX_IMAGE=pulumi-tesseract.local/pause:1

k8s_bin() { echo "$K8S_CACHE/bin/$1"; }
k8s_kubectl() { "$(k8s_bin kubectl)" --kubeconfig "$K8S_RUN/admin.kubeconfig" "$@"; }
k8s_ctr() { ctr -a "$K8S_RUN/containerd/containerd.sock" -n k8s.io "$@"; }
k8s_log() { log "[k8s] $*"; }

k8s_built() {
  local b
  for b in "${K8S_BINS[@]}"; do [ -x "$K8S_CACHE/bin/$b" ] || return 1; done
  [ -x "$K8S_CACHE/bin/pause" ]
}

# Builds the control plane, kubelet, kubectl and a static pause binary for $K8S_VERSION.
# k8s.io/kubernetes cannot be `go install`ed directly (its go.mod replaces 31 staging modules with
# ./staging paths), so a wrapper module requires it and pins each staging module to its published
# k8s.io/X v0.MINOR.PATCH. One `go build` for the five commands (their shared packages compiled
# once, both cores busy through the links), in the setup's shared Go build cache (kept: a rebuild,
# e.g. after an interrupted build, reuses it). Cold: ~10 min on 2 idle cores, ~3 GB of build cache.
# A build started in the background (k8s_build_background) is waited for, not repeated.
ensure_k8s_binaries() {
  k8s_built && return 0
  if k8s_build_running; then k8s_build_wait; return; fi
  k8s_build_now
}

k8s_build_now() {
  k8s_built && return 0
  command -v go >/dev/null || { k8s_log "Go is needed to build Kubernetes $K8S_VERSION (not found on PATH)"; return 1; }
  local v="$K8S_VERSION" minor sv w="$K8S_CACHE/build" out="$K8S_CACHE/bin.partial"
  minor="$(echo "$v" | cut -d. -f2)"; sv="v0.${v#v1.}"
  mkdir -p "$w" "$out"
  go_build_env
  if [ ! -f "$w/go.sum" ]; then
    local kmod
    kmod="$(cd /tmp && GOFLAGS= go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    [ -f "$kmod" ] || { k8s_log "could not download k8s.io/kubernetes@$v's go.mod"; return 1; }
    {
      echo "module local/pulumi-tesseract-k8s"; echo
      grep -E '^go |^godebug ' "$kmod"; echo
      echo "require k8s.io/kubernetes $v"; echo
      echo "replace ("
      grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging' "$kmod" | awk -v sv="$sv" '{print "\t"$1" => "$1" "sv}'
      echo ")"
    } >"$w/go.mod"
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for b in "${K8S_BINS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"; done
      printf ')\n'
    } >"$w/tools.go"
    (cd "$w" && go mod tidy)
  fi
  local ldf="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1"
  ldf+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ldf+=" -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  local b t0=$SECONDS pkgs=()
  for b in "${K8S_BINS[@]}"; do [ -x "$out/$b" ] || pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  if [ ${#pkgs[@]} -gt 0 ]; then
    rm -rf "$out/tmp" && mkdir -p "$out/tmp"
    (cd "$w" && go build -trimpath -ldflags "$ldf" -o "$out/tmp/" "${pkgs[@]}") || return 1
    mv "$out"/tmp/* "$out/" && rmdir "$out/tmp"
    k8s_log "built ${pkgs[*]##*/} in $((SECONDS - t0)) s"
  fi
  # The pod sandbox ("pause") image: no registry is reachable, so a tiny static Go program.
  mkdir -p "$w/pause"
  cat >"$w/pause/main.go" <<'GO'
// The pod sandbox process: waits for SIGINT/SIGTERM and reaps orphaned children meanwhile.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range c {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
GO
  (cd "$w" && go build -trimpath -ldflags "-s -w" -o "$out/pause" ./pause) || return 1
  rm -rf "$K8S_CACHE/bin" && mv "$out" "$K8S_CACHE/bin"
  k8s_built
}

# The build in the background (`npm test`: the test files that need no cluster run meanwhile;
# test/e2e/kubernetes-service.test.ts runs last and waits for it through k8s_up). Detached in its
# own process group at low priority; PID in build.pid, output in build.log, exit code in
# build.failed when it fails.
K8S_BUILD_PID="$K8S_CACHE/build.pid"
K8S_BUILD_LOG="$K8S_CACHE/build.log"
K8S_BUILD_FAILED="$K8S_CACHE/build.failed"
k8s_build_running() {
  [ -f "$K8S_BUILD_PID" ] && kill -0 "$(cat "$K8S_BUILD_PID")" 2>/dev/null &&
    grep -qa "kubernetes.sh" "/proc/$(cat "$K8S_BUILD_PID")/cmdline" 2>/dev/null
}
k8s_build_background() {
  k8s_built && return 0
  k8s_build_running && return 0
  mkdir -p "$K8S_CACHE"
  rm -f "$K8S_BUILD_FAILED"
  setsid nice -n 10 bash "$REPO_ROOT/scripts/kubernetes.sh" build-child >"$K8S_BUILD_LOG" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 40; i++)); do k8s_build_running && break; sleep 0.25; done
  k8s_log "building $K8S_VERSION in the background (pid $(cat "$K8S_BUILD_PID" 2>/dev/null), log $K8S_BUILD_LOG)"
}
# Waits for the background build, at most $PULUMI_TESSERACT_K8S_BUILD_WAIT s (default 3000, under
# the test helper's one hour for `up`); fails naming the log when it failed or is still running.
k8s_build_wait() {
  local limit="${PULUMI_TESSERACT_K8S_BUILD_WAIT:-3000}" t0=$SECONDS next=0
  while k8s_build_running; do
    if ((SECONDS - t0 >= limit)); then
      k8s_log "the background build of Kubernetes $K8S_VERSION (pid $(cat "$K8S_BUILD_PID")) is still running after $limit s (PULUMI_TESSERACT_K8S_BUILD_WAIT); log: $K8S_BUILD_LOG"
      return 1
    fi
    if ((SECONDS - t0 >= next)); then
      k8s_log "waiting for the background build of Kubernetes $K8S_VERSION ($((SECONDS - t0)) s so far; log: $K8S_BUILD_LOG)"
      next=$((next + 60))
    fi
    sleep 2
  done
  k8s_built && { k8s_log "background build done (waited $((SECONDS - t0)) s)"; return 0; }
  k8s_log "the background build of Kubernetes $K8S_VERSION failed (exit $(cat "$K8S_BUILD_FAILED" 2>/dev/null || echo "unknown")); last lines of $K8S_BUILD_LOG:"
  tail -n 20 "$K8S_BUILD_LOG" >&2 2>/dev/null
  k8s_log "fix the cause and run: bash scripts/kubernetes.sh build"
  return 1
}

# Everything the test cluster and registries need installed (nothing started).
ensure_k8s_test_deps() {
  ensure_k8s_test_packages && ensure_k8s_binaries
}
# The same without the binaries (apt, Debian packages extracted, certificates: no compiling).
ensure_k8s_test_packages() {
  ensure_k8s_deps && ensure_registry_deps && ensure_k8s_certs && ensure_registry_certs
}

# etcd, the CNI plugins and nft come as extracted Debian packages (their services never start);
# containerd and runc are the host's (Debian's docker.io already depends on them).
ensure_k8s_deps() {
  need_apt containerd runc iptables openssl curl ca-certificates python3
  local want="etcd-server containernetworking-plugins nftables libnftables1"
  if [ -f "$K8S_DEBS/.done" ] && [ "$(cat "$K8S_DEBS/.done")" = "$want" ]; then return 0; fi
  local tmp; tmp="$(mktemp -d)"
  rm -rf "$K8S_DEBS"; mkdir -p "$K8S_DEBS"
  # shellcheck disable=SC2086
  (cd "$tmp" && apt-get download $want >/dev/null 2>&1) || {
    [ -f "$CACHE_DIR/.apt-updated" ] || apt-get update -qq
    (cd "$tmp" && apt-get download $want >/dev/null)
  }
  local d
  for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$K8S_DEBS"; done
  rm -rf "$tmp"
  "$K8S_DEBS/usr/bin/etcd" --version >/dev/null
  echo "$want" >"$K8S_DEBS/.done"
}

# A CA, serving and client certificates, service-account keys and kubeconfigs (admin's with the
# credentials embedded, so tests can pass it as content). Made once; valid for ten years.
k8s_pki() { echo "$CACHE_DIR/kubernetes/pki"; }
ensure_k8s_certs() {
  local pki; pki="$(k8s_pki)"
  [ -f "$pki/.done" ] && return 0
  rm -rf "$pki"; mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=pulumi-tesseract-test-cluster-ca" \
      -days 3650 -out ca.crt 2>/dev/null
    sign() { # name CN O extensions
      local subj="/CN=$2"; [ -n "$3" ] && subj="/O=$3/CN=$2"
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$subj" -out "$1.csr" 2>/dev/null
      printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$4" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$1.ext" \
        -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver kube-apiserver "" "extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.97.0.1"
    sign kubelet-serving "system:node:$K8S_NODE" system:nodes "extendedKeyUsage=serverAuth
subjectAltName=DNS:$K8S_NODE,IP:127.0.0.1"
    sign admin pulumi-tesseract-admin system:masters "extendedKeyUsage=clientAuth"
    sign controller-manager system:kube-controller-manager "" "extendedKeyUsage=clientAuth"
    sign scheduler system:kube-scheduler "" "extendedKeyUsage=clientAuth"
    sign kubelet "system:node:$K8S_NODE" system:nodes "extendedKeyUsage=clientAuth"
    sign apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  touch "$pki/.done"
}

# kubeconfig NAME: credentials embedded, server https://127.0.0.1:$K8S_API_PORT, context pulumi-tesseract-test.
k8s_write_kubeconfig() {
  local pki; pki="$(k8s_pki)"
  cat >"$K8S_RUN/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: pulumi-tesseract-test
  cluster:
    server: https://127.0.0.1:$K8S_API_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$pki/$1.crt")
    client-key-data: $(base64 -w0 "$pki/$1.key")
contexts:
- name: pulumi-tesseract-test
  context: {cluster: pulumi-tesseract-test, user: $1, namespace: default}
current-context: pulumi-tesseract-test
KC
  chmod 600 "$K8S_RUN/$1.kubeconfig"
}

# The pod sandbox image as a one-layer docker-archive imported with `ctr` (the only image that
# does not come from the test registry: the kubelet needs it before any pull).
k8s_pause_archive() {
  python3 - "$(k8s_bin pause)" "$K8S_SANDBOX_IMAGE" "$1" <<'PY'
import hashlib, io, json, sys, tarfile
binary, ref, out = sys.argv[1:4]
def entry(tf, name, data=None, mode=0o644, directory=False):
    info = tarfile.TarInfo(name); info.mtime = 0; info.mode = mode
    if directory: info.type = tarfile.DIRTYPE; tf.addfile(info); return
    info.size = len(data); tf.addfile(info, io.BytesIO(data))
layer_buf = io.BytesIO()
with tarfile.open(fileobj=layer_buf, mode="w", format=tarfile.USTAR_FORMAT) as layer:
    entry(layer, "etc", mode=0o755, directory=True)
    entry(layer, "pause", open(binary, "rb").read(), 0o755)
layer = layer_buf.getvalue(); diff_id = hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
    "config": {"Entrypoint": ["/pause"], "WorkingDir": "/"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}, sort_keys=True).encode()
config_id = hashlib.sha256(config).hexdigest()
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tf:
    entry(tf, config_id + ".json", config)
    entry(tf, diff_id + "/layer.tar", layer)
    entry(tf, "manifest.json", json.dumps([{"Config": config_id + ".json", "RepoTags": [ref],
        "Layers": [diff_id + "/layer.tar"]}]).encode())
PY
}

k8s_pid_alive() { [ -f "$K8S_RUN/run/$1.pid" ] && kill -0 "$(cat "$K8S_RUN/run/$1.pid")" 2>/dev/null; }

# k8s_start NAME CMD...: starts a component detached, logs in $K8S_RUN/logs, PID in $K8S_RUN/run.
k8s_start() {
  local name="$1"; shift
  k8s_pid_alive "$name" && return 0
  setsid "$@" >"$K8S_RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$K8S_RUN/run/$name.pid"
}

# k8s_wait WHAT SECONDS CMD...: polls CMD every 0.25 s; on timeout prints the component's log tail.
k8s_wait() {
  local what="$1" seconds="$2"; shift 2
  poll_quietly "$seconds" "$@" && return 0
  k8s_log "timed out after $seconds s waiting for $what"
  [ -f "$K8S_RUN/logs/$what.log" ] && tail -n 30 "$K8S_RUN/logs/$what.log" >&2
  return 1
}

k8s_ready() {
  [ -f "$K8S_RUN/admin.kubeconfig" ] && k8s_pid_alive kubelet &&
    [ "$(k8s_kubectl get node "$K8S_NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# Brings the cluster up (every missing piece; a running cluster is left as it is).
k8s_up() {
  k8s_ready && return 0
  ensure_k8s_deps
  if ! k8s_built && [ -f "$K8S_BUILD_FAILED" ] && ! k8s_build_running; then
    k8s_build_wait; return 1 # reports the failed background build, its exit code and log
  fi
  ensure_k8s_binaries
  ensure_k8s_certs
  local pki d="$K8S_DEBS"; pki="$(k8s_pki)"
  mkdir -p "$K8S_RUN"/{logs,run,etcd,containerd/certs.d,cni/net.d,cni/ipam,kubelet,pod-logs}
  for n in admin controller-manager scheduler kubelet; do k8s_write_kubeconfig "$n"; done
  # What the kubelet changes on the host, recorded once so that `down` restores it.
  if [ ! -f "$K8S_RUN/run/sysctl.orig" ]; then
    local s
    for s in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
      kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do echo "$s=$(sysctl -n "$s")"; done >"$K8S_RUN/run/sysctl.orig.tmp"
    mv "$K8S_RUN/run/sysctl.orig.tmp" "$K8S_RUN/run/sysctl.orig"
  fi
  [ -f "$K8S_RUN/run/iptables.before" ] || iptables-save >"$K8S_RUN/run/iptables.before"
  [ -f "$K8S_RUN/run/ip6tables.before" ] || ip6tables-save >"$K8S_RUN/run/ip6tables.before"
  [ -d /var/log/containers ] || touch "$K8S_RUN/run/made-var-log-containers"

  k8s_start etcd "$d/usr/bin/etcd" --name pulumi-tesseract --data-dir "$K8S_RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$K8S_ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$K8S_ETCD_PEER_PORT" \
    --initial-cluster "pulumi-tesseract=http://127.0.0.1:$K8S_ETCD_PEER_PORT" --listen-metrics-urls ""

  k8s_containerd_config
  k8s_start containerd /usr/bin/containerd --config "$K8S_RUN/containerd/config.toml"
  k8s_wait containerd 30 k8s_ctr version
  if ! k8s_ctr images ls -q | grep -qx "$K8S_SANDBOX_IMAGE"; then
    k8s_pause_archive "$K8S_RUN/run/pause.tar"
    k8s_ctr images import "$K8S_RUN/run/pause.tar" >/dev/null
    rm -f "$K8S_RUN/run/pause.tar"
  fi
  k8s_wait etcd 30 curl -sf "http://127.0.0.1:$K8S_ETCD_PORT/health"

  k8s_start kube-apiserver "$(k8s_bin kube-apiserver)" --etcd-servers="http://127.0.0.1:$K8S_ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$K8S_API_PORT" --advertise-address=127.0.0.1 \
    --endpoint-reconciler-type=none --service-cluster-ip-range=10.97.0.0/16 --allow-privileged=true \
    --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" --kubelet-certificate-authority="$pki/ca.crt" \
    --kubelet-preferred-address-types=Hostname,InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --profiling=false
  k8s_wait kube-apiserver 120 k8s_kubectl get --raw /readyz

  k8s_start kube-controller-manager "$(k8s_bin kube-controller-manager)" \
    --kubeconfig="$K8S_RUN/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$K8S_RUN/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$K8S_RUN/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$K8S_CM_PORT" --leader-elect=false \
    --use-service-account-credentials=true --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$pki/ca.crt" --cluster-signing-cert-file="$pki/ca.crt" \
    --cluster-signing-key-file="$pki/ca.key" --profiling=false
  k8s_start kube-scheduler "$(k8s_bin kube-scheduler)" --kubeconfig="$K8S_RUN/scheduler.kubeconfig" \
    --authentication-kubeconfig="$K8S_RUN/scheduler.kubeconfig" \
    --authorization-kubeconfig="$K8S_RUN/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$K8S_SCHED_PORT" --leader-elect=false --profiling=false

  k8s_kubelet_config
  k8s_start kubelet "$(k8s_bin kubelet)" --config="$K8S_RUN/kubelet-config.yaml" \
    --kubeconfig="$K8S_RUN/kubelet.kubeconfig" --root-dir="$K8S_RUN/kubelet" --hostname-override="$K8S_NODE"
  k8s_wait kubelet 60 curl -sf "http://127.0.0.1:$K8S_KUBELET_HEALTHZ_PORT/healthz"
  k8s_wait kubelet 120 k8s_ready
  # Pods of the `default` namespace need its service account (made by the controller-manager).
  k8s_wait kube-controller-manager 60 k8s_kubectl -n default get serviceaccount default
}

k8s_containerd_config() {
  cat >"$K8S_RUN/containerd/config.toml" <<TOML
version = 2
root = "$K8S_RUN/containerd/root"
state = "$K8S_RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$K8S_RUN/containerd/containerd.sock"
[ttrpc]
  address = "$K8S_RUN/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$K8S_RUN/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$K8S_SANDBOX_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # The sandbox this runs in lacks CAP_SYS_RESOURCE: without this runc cannot set a negative
  # oom_score_adj and every pod fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "$K8S_RUN/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$K8S_DEBS/usr/lib/cni"
    conf_dir = "$K8S_RUN/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    # Per-registry hosts.toml files (the test registries: plain HTTP and TLS with the test CA).
    config_path = "$K8S_RUN/containerd/certs.d"
TOML
  cat >"$K8S_RUN/cni/net.d/10-pulumi-tesseract.conflist" <<JSON
{ "cniVersion": "0.4.0", "name": "pulumi-tesseract-test",
  "plugins": [
    { "type": "bridge", "bridge": "$K8S_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{"subnet": "$K8S_POD_SUBNET"}]], "dataDir": "$K8S_RUN/cni/ipam" } },
    { "type": "portmap", "capabilities": {"portMappings": true} } ] }
JSON
  k8s_registry_hosts
}

# containerd pulls from the test registries: hosts.toml per registry (see scripts/lib/registry.sh).
k8s_registry_hosts() {
  local dir="$K8S_RUN/containerd/certs.d"
  mkdir -p "$dir/127.0.0.1:$REGISTRY_HTTP_PORT" "$dir/127.0.0.1:$REGISTRY_TLS_PORT"
  cat >"$dir/127.0.0.1:$REGISTRY_HTTP_PORT/hosts.toml" <<TOML
server = "http://127.0.0.1:$REGISTRY_HTTP_PORT"
[host."http://127.0.0.1:$REGISTRY_HTTP_PORT"]
  capabilities = ["pull", "resolve"]
TOML
  cat >"$dir/127.0.0.1:$REGISTRY_TLS_PORT/hosts.toml" <<TOML
server = "https://127.0.0.1:$REGISTRY_TLS_PORT"
[host."https://127.0.0.1:$REGISTRY_TLS_PORT"]
  capabilities = ["pull", "resolve"]
  ca = "$(registry_pki)/ca.crt"
TOML
}

k8s_kubelet_config() {
  local pki; pki="$(k8s_pki)"
  cat >"$K8S_RUN/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $K8S_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $K8S_KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$K8S_RUN/containerd/containerd.sock
failSwapOn: false
# cgroup v1 hosts (like these machines): 1.35+ refuses them unless told otherwise.
failCgroupV1: false
clusterDomain: cluster.local
podLogsDir: $K8S_RUN/pod-logs
maxPods: 40
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
YAML
}

k8s_stop() {
  local f="$K8S_RUN/run/$1.pid" p i
  [ -f "$f" ] || return 0
  p="$(cat "$f")"
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Stops everything `up` started (by PID) and removes every trace on the host: workloads, mounts,
# cgroups, the CNI bridge, iptables chains and tables the kubelet or CNI added, changed sysctls,
# /var/log/containers links. Never touches /run/containerd/s (shim sockets shared with Docker's
# containerd) or anything not recorded as ours.
k8s_down() {
  [ -d "$K8S_RUN" ] || return 0
  local i t
  if k8s_pid_alive kubelet && k8s_kubectl --request-timeout=10s get --raw /readyz >/dev/null 2>&1; then
    k8s_kubectl delete deploy,rs,ds,sts,job --all -A --wait=false >/dev/null 2>&1 || true
    k8s_kubectl delete pods --all -A --grace-period=0 --force >/dev/null 2>&1 || true
    for ((i = 0; i < 60; i++)); do [ -z "$(k8s_ctr tasks ls -q 2>/dev/null)" ] && break; sleep 0.5; done
    sleep 2 # the kubelet tears sandboxes down (CNI DEL) after their tasks
  fi
  k8s_stop kubelet
  if k8s_pid_alive containerd; then
    for t in $(k8s_ctr tasks ls -q 2>/dev/null); do k8s_ctr tasks kill -s SIGKILL "$t" 2>/dev/null || true; done
    sleep 1
    for t in $(k8s_ctr tasks ls -q 2>/dev/null); do k8s_ctr tasks rm -f "$t" >/dev/null 2>&1 || true; done
    for t in $(k8s_ctr containers ls -q 2>/dev/null); do k8s_ctr containers rm "$t" >/dev/null 2>&1 || true; done
  fi
  k8s_stop kube-scheduler; k8s_stop kube-controller-manager; k8s_stop kube-apiserver
  k8s_stop containerd; k8s_stop etcd
  # Shims of our containerd (their -address names our socket); matched exactly, killed by PID.
  local proc
  for proc in /proc/[0-9]*; do
    grep -qa -- "$K8S_RUN/containerd/containerd.sock" "$proc/cmdline" 2>/dev/null &&
      kill -KILL "${proc#/proc/}" 2>/dev/null || true
  done
  sleep 0.5
  # Mounts under our folder, deepest first (pod volumes, sandbox netns, rootfs overlays).
  awk -v p="$K8S_RUN/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # The kubelet's cgroups (cgroup v1 hierarchies and unified).
  local h
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ -d "${h}kubepods" ] && find "${h}kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  ip link del "$K8S_BRIDGE" 2>/dev/null || true
  k8s_restore_iptables
  if [ -f "$K8S_RUN/run/sysctl.orig" ]; then
    local k v
    while IFS='=' read -r k v; do sysctl -qw "$k=$v" || true; done <"$K8S_RUN/run/sysctl.orig"
  fi
  local l
  for l in /var/log/containers/*.log; do
    [ -L "$l" ] && case "$(readlink "$l")" in "$K8S_RUN"/*) rm -f "$l" ;; esac
  done
  [ -f "$K8S_RUN/run/made-var-log-containers" ] && rmdir /var/log/containers 2>/dev/null
  # Keep the last logs for post-mortems (in the cache, not on the host); everything else goes.
  rm -rf "$CACHE_DIR/kubernetes/last-logs"
  mv "$K8S_RUN/logs" "$CACHE_DIR/kubernetes/last-logs" 2>/dev/null || true
  rm -rf "$K8S_RUN"
  return 0
}

# Removes the KUBE-*/CNI-* chains (and the jumps to them) and the empty tables that were not there
# before `up`: the kubelet adds marker chains, the CNI portmap plugin adds DNAT chains.
k8s_restore_iptables() {
  local ipt tbl ch rule fam
  for ipt in iptables ip6tables; do
    [ -f "$K8S_RUN/run/$ipt.before" ] || continue
    for tbl in filter nat mangle; do
      for ch in $($ipt -t "$tbl" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ {print $2}'); do
        grep -q "^:$ch " "$K8S_RUN/run/$ipt.before" && continue
        $ipt -t "$tbl" -S 2>/dev/null | grep -E -- "-j $ch( |\$)" | grep '^-A' | sed 's/^-A/-D/' |
          while read -r rule; do eval "$ipt -t $tbl $rule" 2>/dev/null || true; done
        $ipt -t "$tbl" -F "$ch" 2>/dev/null || true
        $ipt -t "$tbl" -X "$ch" 2>/dev/null || true
      done
    done
  done
  local nft=(env "LD_LIBRARY_PATH=$K8S_DEBS/usr/lib/x86_64-linux-gnu" "$K8S_DEBS/usr/sbin/nft")
  [ -x "$K8S_DEBS/usr/sbin/nft" ] || return 0
  for fam in ip ip6; do
    ipt=iptables; [ $fam = ip6 ] && ipt=ip6tables
    [ -f "$K8S_RUN/run/$ipt.before" ] || continue
    for tbl in filter nat mangle; do
      grep -q "^\*$tbl" "$K8S_RUN/run/$ipt.before" && continue
      "${nft[@]}" list table "$fam" "$tbl" >/dev/null 2>&1 || continue
      [ -z "$($ipt -t "$tbl" -S 2>/dev/null | grep -v '^-P')" ] && "${nft[@]}" delete table "$fam" "$tbl" 2>/dev/null
    done
  done
  return 0
}

# What the host looks like for the leak check: anything of the cluster still present.
k8s_leftovers() {
  local found=()
  local n
  for n in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
    k8s_pid_alive "$n" && found+=("process $n")
  done
  grep -q " $K8S_RUN/" /proc/self/mounts && found+=("mounts under $K8S_RUN")
  ip link show "$K8S_BRIDGE" >/dev/null 2>&1 && found+=("bridge $K8S_BRIDGE")
  [ -d "$K8S_RUN" ] && found+=("folder $K8S_RUN")
  for proc in /proc/[0-9]*; do
    grep -qa -- "$K8S_RUN/containerd/containerd.sock" "$proc/cmdline" 2>/dev/null && found+=("shim ${proc#/proc/}")
  done
  [ ${#found[@]} -eq 0 ] || { printf '%s\n' "${found[@]}"; return 1; }
}
