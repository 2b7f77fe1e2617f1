# The Pulumi CLI, built from the Go module proxy (Pulumi's download site is unreachable),
# cached by version. pulumi-resource-pulumi-nodejs comes from the npm @pulumi/pulumi package.
# shellcheck shell=bash
PULUMI_VERSION="$(node -p 'require(process.argv[1]).version' "$REPO_ROOT/node_modules/@pulumi/pulumi/package.json" 2>/dev/null || echo 3.248.0)"
PULUMI_BIN_DIR="$CACHE_DIR/pulumi-v$PULUMI_VERSION/bin"

ensure_pulumi_cli() {
  # A user's own CLI is used as is (its release bundles the dynamic-provider plugin).
  if command -v pulumi >/dev/null && [ "$(command -v pulumi)" != "$PULUMI_BIN_DIR/pulumi" ]; then return 0; fi
  [ -x "$PULUMI_BIN_DIR/pulumi" ] || build_pulumi_cli || return 1
  # The engine finds the dynamic-provider plugin next to the pulumi binary without warnings;
  # the script resolves @pulumi/pulumi from the program's directory, so one copy serves all.
  install -m 755 "$REPO_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$PULUMI_BIN_DIR/"
}

build_pulumi_cli() {
  command -v go >/dev/null || { log "Go is needed to build the Pulumi CLI"; return 1; }
  mkdir -p "$PULUMI_BIN_DIR"
  local mod; mod="$(mktemp -d)"
  cp "$REPO_ROOT/scripts/pulumi-cli/tools.go" "$mod/"
  printf 'module pulumi-tesseract/pulumi-cli\n\ngo 1.25.11\n' >"$mod/go.mod"
  (
    cd "$mod" || exit 1
    go_build_env # the shared cache and settings (scripts/lib/common.sh): the generator reuses this build
    go get "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" >/dev/null 2>&1 &&
    go build -trimpath -tags "$PULUMI_GO_TAGS" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$PULUMI_BIN_DIR/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  ) || return 1
  mv "$PULUMI_BIN_DIR/pulumi.tmp" "$PULUMI_BIN_DIR/pulumi"
  rm -rf "$mod"
}
