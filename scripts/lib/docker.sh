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

# The image Tesseract configs default to. No registry is reachable, so it is bootstrapped
# from Debian's archive and cached compressed; `docker load` keeps its ID, so layer caches
# of images built on it stay valid across machines that share the cache.
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
  local want
  want="$(base_image_recipe_hash)"
  local cache="$CACHE_DIR/base-image-$want.tar.zst"
  local have
  have="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)"
  if [ -f "$cache" ] && [ -f "$cache.id" ] && [ "$have" = "$(cat "$cache.id")" ]; then return 0; fi
  if [ -f "$cache" ]; then
    log "loading $BASE_IMAGE from $cache"
    zstd -dc "$cache" | docker load >/dev/null
    return 0
  fi
  log "bootstrapping $BASE_IMAGE with mmdebstrap (about a minute)"
  build_base_image
  docker save "$BASE_IMAGE" | zstd -T0 -3 -q -o "$cache.tmp" && mv "$cache.tmp" "$cache"
  docker image inspect -f '{{.Id}}' "$BASE_IMAGE" >"$cache.id"
}
