# Docker engine and the locally built base image.
# shellcheck shell=bash
DOCKER_SOCK="${DOCKER_HOST:-unix:///var/run/docker.sock}"
DOCKER_SOCK="${DOCKER_SOCK#unix://}"

docker_answers() {
  if [[ "${DOCKER_HOST:-}" == tcp://* ]]; then
    curl -sf "http://${DOCKER_HOST#tcp://}/_ping" >/dev/null 2>&1
  else
    curl -sf --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1
  fi
}

# The test setup's engine: the one that answers, else Debian's docker.io, started here.
ensure_docker() {
  docker_answers && return 0
  [[ "${DOCKER_HOST:-}" == tcp://* ]] && { log "DOCKER_HOST=$DOCKER_HOST does not answer"; return 1; }
  command -v dockerd >/dev/null || need_apt docker.io iptables ca-certificates curl
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  echo $! >/run/dockerd.pid
  for _ in $(seq 1 120); do docker_answers && return 0; sleep 0.5; done
  tail -n 30 /var/log/dockerd.log >&2
  return 1
}

# The main job's engine: the user's own, found by the docker CLI as the package finds it
# (DOCKER_HOST, the current context, the default socket). Nothing is installed or started.
require_docker() {
  command -v docker >/dev/null && docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
  log "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}, docker CLI: $(command -v docker || echo missing))."
  log "Start Docker (Docker Engine, Docker Desktop, rootless or Podman with its docker socket) and run again;"
  log "\`npm run up\` installs and starts nothing. (\`npm test\`'s setup installs and starts Debian's docker.io.)"
  return 1
}

# The image Tesseract configs default to. The engine's own copy is used whatever its ID, never
# replaced; when absent it is pulled; when the pull fails (no registry, as on the test machines)
# it is bootstrapped from Debian's archive with mmdebstrap and cached compressed, and later
# machines sharing the cache `docker load` it (same ID, so layer caches stay valid).
BASE_IMAGE="debian:bookworm-slim"
base_image_recipe_hash() {
  { declare -f build_base_image; cat /usr/local/share/ca-certificates/*.crt 2>/dev/null; } | sha256sum | cut -c1-16
}
build_base_image() {
  set -o pipefail
  need_apt mmdebstrap zstd ca-certificates
  local mirror
  mirror="$(grep -rhoE '^(URIs:|deb) +http[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  mmdebstrap --variant=apt --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include=ca-certificates \
    --aptopt='Acquire::Languages "none"' --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ 2>/dev/null || true; chroot "$1" update-ca-certificates >/dev/null' \
    --customize-hook='rm -f "$1"/etc/hostname; : > "$1"/etc/resolv.conf; rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/* "$1"/var/cache/ldconfig/aux-cache' \
    bookworm - "$mirror" 2>"$CACHE_DIR/mmdebstrap.log" \
  | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
}

ensure_base_image() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  log "pulling $BASE_IMAGE"
  if timeout 600 docker pull -q "$BASE_IMAGE" >/dev/null 2>"$CACHE_DIR/pull.log"; then return 0; fi
  log "pull failed: $(tail -n 1 "$CACHE_DIR/pull.log")"
  local cache
  cache="$CACHE_DIR/base-image-$(base_image_recipe_hash).tar.zst"
  if [ -f "$cache" ]; then
    log "loading $BASE_IMAGE from $cache"
    need_apt zstd
    zstd -dc "$cache" | docker load >/dev/null
    return
  fi
  log "bootstrapping $BASE_IMAGE from Debian's archive with mmdebstrap (about a minute)"
  build_base_image
  docker save "$BASE_IMAGE" | zstd -T0 -3 -q -o "$cache.tmp" && mv "$cache.tmp" "$cache"
}

# Test setup only: private dockerds of the tests load the base image from a tarball in the cache;
# save the engine's own image when no bootstrapped one is cached.
ensure_base_image_tarball() {
  compgen -G "$CACHE_DIR/base-image-*.tar.zst" >/dev/null && return 0
  need_apt zstd
  local id
  id="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"
  docker save "$BASE_IMAGE" | zstd -T0 -3 -q -o "$CACHE_DIR/base-image.tmp" &&
    mv "$CACHE_DIR/base-image.tmp" "$CACHE_DIR/base-image-$(echo "${id#sha256:}" | cut -c1-16).tar.zst"
}
