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
  # Its own go.mod (pulumi/pkg v3.206.0): shares the standard library and common modules' builds.
  (go_build_env && GOFLAGS= GOBIN="$YAML_HOST_DIR" go install -trimpath -tags "$PULUMI_GO_TAGS" -ldflags "-s -w" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v$YAML_HOST_VERSION")
}

# Python SDK: Pulumi's Python code generator (pkg/v3/codegen/python, the CLI's version) run on the
# plugin's schema, packaged as the wheel pulumi_tesseract and installed with the `pulumi` package
# (PyPI) in a venv. `pulumi package gen-sdk --language python` needs the Python language host,
# which the Go module proxy refuses, so a small wrapper module builds the generator.
PY_SDK_GEN="$CACHE_DIR/pulumi-codegen-python-v$PULUMI_VERSION-$(sha256sum <"$REPO_ROOT/scripts/plugin/python-sdk/main.go" | cut -c1-8)/gen-python-sdk"

python_sdk_dir() {
  echo "$CACHE_DIR/python-sdk-$( (cat "$REPO_ROOT/provider/plugin/schema.generated.ts" \
    "$REPO_ROOT/scripts/plugin/python-sdk/main.go" "$REPO_ROOT/scripts/lib/plugin.sh"; echo "$PULUMI_VERSION") |
    sha256sum | cut -c1-12)"
}

build_python_sdk_generator() {
  [ -x "$PY_SDK_GEN" ] && return 0
  command -v go >/dev/null || { log "Go is needed to build the Python SDK generator"; return 1; }
  local mod; mod="$(mktemp -d)"
  cp "$REPO_ROOT/scripts/plugin/python-sdk/main.go" "$mod/"
  printf 'module pulumi-tesseract/gen-python-sdk\n\ngo 1.25.11\n' >"$mod/go.mod"
  mkdir -p "$(dirname "$PY_SDK_GEN")"
  (
    cd "$mod" || exit 1
    # The CLI's module versions, cache and settings: only codegen/python and the link are new work.
    go_build_env
    go get "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" >/dev/null 2>&1 &&
      go build -trimpath -tags "$PULUMI_GO_TAGS" -ldflags "-s -w" -o "$PY_SDK_GEN.tmp" .
  ) || { rm -rf "$mod"; return 1; }
  mv "$PY_SDK_GEN.tmp" "$PY_SDK_GEN"
  rm -rf "$mod"
}

# The SDK's venv with the `pulumi` package from PyPI: network-bound, so scripts/setup.sh makes it
# while the generator compiles.
python_sdk_venv() {
  local dir; dir="$(python_sdk_dir)"
  [ -f "$dir/.complete" ] || [ -f "$dir/venv/.pulumi-installed" ] && return 0
  rm -rf "$dir/venv" && mkdir -p "$dir"
  python3 -m venv "$dir/venv" || return 1
  "$dir/venv/bin/pip" install -q --disable-pip-version-check "pulumi==$PULUMI_VERSION" &&
    touch "$dir/venv/.pulumi-installed"
}

ensure_python_sdk() {
  local dir; dir="$(python_sdk_dir)"
  [ -f "$dir/.complete" ] && return 0
  build_python_sdk_generator || return 1
  python_sdk_venv || return 1
  rm -rf "$dir/schema.json" "$dir/sdk" "$dir/dist"
  (cd "$REPO_ROOT" && node --import tsx -e \
    'process.stdout.write(JSON.stringify(require("./provider/plugin/schema.generated.ts").SCHEMA, null, 2))') \
    >"$dir/schema.json" || return 1
  "$PY_SDK_GEN" "$dir/schema.json" "$dir/sdk" || return 1
  "$dir/venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$dir/dist" "$dir/sdk" || return 1
  "$dir/venv/bin/pip" install -q --disable-pip-version-check "$dir"/dist/pulumi_tesseract-*.whl &&
    touch "$dir/.complete"
}
