# Container registries for the tests, on 127.0.0.1: Debian's docker-registry (distribution 2.8),
# extracted (its service never starts), run as private instances with their own config and storage.
#   tls      127.0.0.1:$REGISTRY_TLS_PORT   TLS from a test CA + htpasswd (bcrypt) auth
#   http     127.0.0.1:$REGISTRY_HTTP_PORT  plain HTTP, no auth (dockerd allows 127.0.0.0/8 without TLS)
#   readonly 127.0.0.1:$REGISTRY_RO_PORT    plain HTTP in read-only mode: refuses every push
# dockerd trusts the test CA through /etc/docker/certs.d/127.0.0.1:PORT/ca.crt (removed by
# registry_down); the cluster's containerd through hosts.toml (scripts/lib/kubernetes.sh).
# shellcheck shell=bash
REGISTRY_TLS_PORT="${PULUMI_TESSERACT_REGISTRY_TLS_PORT:-35443}"
REGISTRY_HTTP_PORT="${PULUMI_TESSERACT_REGISTRY_HTTP_PORT:-35080}"
REGISTRY_RO_PORT="${PULUMI_TESSERACT_REGISTRY_RO_PORT:-35081}"
REGISTRY_USER=tesseract
REGISTRY_DEBS="$CACHE_DIR/registry/debian-root"
REGISTRY_RUN="${PULUMI_TESSERACT_REGISTRY_DIR:-/var/tmp/pulumi-tesseract-registry}"
REGISTRY_INSTANCES=(tls http readonly)

registry_pki() { echo "$CACHE_DIR/registry/pki"; }
registry_port() { case "$1" in tls) echo "$REGISTRY_TLS_PORT" ;; http) echo "$REGISTRY_HTTP_PORT" ;; readonly) echo "$REGISTRY_RO_PORT" ;; esac; }
registry_docker_certs() { echo "/etc/docker/certs.d/127.0.0.1:$REGISTRY_TLS_PORT"; }

ensure_registry_deps() {
  need_apt apache2-utils openssl curl
  [ -x "$REGISTRY_DEBS/usr/bin/docker-registry" ] && return 0
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download docker-registry >/dev/null 2>&1) || {
    apt-get update -qq && (cd "$tmp" && apt-get download docker-registry >/dev/null)
  }
  rm -rf "$REGISTRY_DEBS"; mkdir -p "$REGISTRY_DEBS"
  dpkg-deb -x "$tmp"/docker-registry_*.deb "$REGISTRY_DEBS"
  rm -rf "$tmp"
  [ -x "$REGISTRY_DEBS/usr/bin/docker-registry" ]
}

# Test CA, the registry's serving certificate (127.0.0.1, localhost) and the user's password.
ensure_registry_certs() {
  local pki; pki="$(registry_pki)"
  [ -f "$pki/.done" ] && return 0
  rm -rf "$pki"; mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=pulumi-tesseract-test-registry-ca" \
      -days 3650 -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout registry.key -subj "/CN=127.0.0.1" -out registry.csr 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >registry.ext
    openssl x509 -req -in registry.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile registry.ext -out registry.crt 2>/dev/null
    rm -f registry.csr registry.ext
    openssl rand -hex 16 >password
    htpasswd -Bbn "$REGISTRY_USER" "$(cat password)" >htpasswd
    chmod 600 ca.key registry.key password htpasswd
  )
  touch "$pki/.done"
}

registry_answers() { # instance
  local scheme=http; [ "$1" = tls ] && scheme=https
  # /v2/ answers 200, or 401 when auth is on: either means the registry is up.
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$(registry_pki)/ca.crt" "$scheme://127.0.0.1:$(registry_port "$1")/v2/")"
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

registry_config() { # instance
  local pki port dir
  pki="$(registry_pki)"; port="$(registry_port "$1")"; dir="$REGISTRY_RUN/$1"
  cat <<YAML
version: 0.1
log: {level: warn, formatter: text}
storage:
  filesystem: {rootdirectory: $dir/storage}
  delete: {enabled: true}
$( [ "$1" = readonly ] && echo "  maintenance: {readonly: {enabled: true}, uploadpurging: {enabled: false}}" )
http:
  addr: 127.0.0.1:$port
  secret: $(cat "$pki/password")-$1
  headers: {X-Content-Type-Options: [nosniff]}
$( [ "$1" = tls ] && printf '  tls: {certificate: %s, key: %s}\n' "$pki/registry.crt" "$pki/registry.key" )
$( [ "$1" = tls ] && printf 'auth:\n  htpasswd: {realm: pulumi-tesseract-test, path: %s}\n' "$pki/htpasswd" )
YAML
}

registry_pid_alive() { [ -f "$REGISTRY_RUN/$1/pid" ] && kill -0 "$(cat "$REGISTRY_RUN/$1/pid")" 2>/dev/null; }

# Starts the three instances (missing ones only) and makes dockerd trust the test CA.
registry_up() {
  ensure_registry_deps
  ensure_registry_certs
  local i n
  for n in "${REGISTRY_INSTANCES[@]}"; do
    registry_pid_alive "$n" && registry_answers "$n" && continue
    mkdir -p "$REGISTRY_RUN/$n/storage"
    registry_config "$n" >"$REGISTRY_RUN/$n/config.yml"
    setsid "$REGISTRY_DEBS/usr/bin/docker-registry" serve "$REGISTRY_RUN/$n/config.yml" \
      >"$REGISTRY_RUN/$n/registry.log" 2>&1 </dev/null &
    echo $! >"$REGISTRY_RUN/$n/pid"
  done
  local certs; certs="$(registry_docker_certs)"
  if [ ! -f "$certs/ca.crt" ]; then
    # Remember the folders made here, so that registry_down removes exactly those.
    local d
    for d in /etc/docker/certs.d "$certs"; do [ -d "$d" ] || echo "$d" >>"$REGISTRY_RUN/made-dirs"; done
    mkdir -p "$certs" && cp "$(registry_pki)/ca.crt" "$certs/ca.crt"
  fi
  for n in "${REGISTRY_INSTANCES[@]}"; do
    for ((i = 0; i < 80; i++)); do registry_answers "$n" && break; sleep 0.25; done
    registry_answers "$n" || { log "registry $n did not answer"; tail -n 20 "$REGISTRY_RUN/$n/registry.log" >&2; return 1; }
  done
}

# Stops the instances and removes their storage and dockerd's trust of the test CA.
registry_down() {
  local n p i
  for n in "${REGISTRY_INSTANCES[@]}"; do
    [ -f "$REGISTRY_RUN/$n/pid" ] || continue
    p="$(cat "$REGISTRY_RUN/$n/pid")"
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 25; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  local certs; certs="$(registry_docker_certs)"
  if [ -f "$certs/ca.crt" ] && cmp -s "$certs/ca.crt" "$(registry_pki)/ca.crt"; then rm -f "$certs/ca.crt"; fi
  if [ -f "$REGISTRY_RUN/made-dirs" ]; then
    tac "$REGISTRY_RUN/made-dirs" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
  fi
  rm -rf "$REGISTRY_RUN"
  return 0
}

# Environment for the tests (sourced or eval'ed): addresses, CA and credentials.
registry_env() {
  local pki; pki="$(registry_pki)"
  echo "PULUMI_TESSERACT_REGISTRY_TLS=127.0.0.1:$REGISTRY_TLS_PORT"
  echo "PULUMI_TESSERACT_REGISTRY_HTTP=127.0.0.1:$REGISTRY_HTTP_PORT"
  echo "PULUMI_TESSERACT_REGISTRY_READONLY=127.0.0.1:$REGISTRY_RO_PORT"
  echo "PULUMI_TESSERACT_REGISTRY_CA=$pki/ca.crt"
  echo "PULUMI_TESSERACT_REGISTRY_USER=$REGISTRY_USER"
  echo "PULUMI_TESSERACT_REGISTRY_PASSWORD=$(cat "$pki/password")"
}
