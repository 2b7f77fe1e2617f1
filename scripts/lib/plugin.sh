# The provider plugin's test needs (issue 14): the Pulumi YAML language host (built from the Go
# module proxy; Pulumi's download site is unreachable) and the Python SDK wheel generated from the
# plugin's schema, each cached by version under ~/.cache/pulumi-tesseract.
# shellcheck shell=bash
YAML_HOST_VERSION=1.25.0
YAML_HOST_DIR="$CACHE_DIR/pulumi-language-yaml-v$YAML_HOST_VERSION/bin"

ensure_yaml_host() {
  [ -x "$YAML_HOST_DIR/pulumi-language-yaml" ] && return 0
  command -v go >/dev/null || { log "Go is needed to build pulumi-language-yaml"; return 1; }
  mkdir -p "$YAML_HOST_DIR"
  GOSUMDB=off GOBIN="$YAML_HOST_DIR" go install -trimpath -ldflags "-s -w" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v$YAML_HOST_VERSION"
}
