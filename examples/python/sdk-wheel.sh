#!/usr/bin/env bash
# Prints the path of the pulumi_tesseract wheel (the Python SDK generated from this checkout's plugin
# schema by Pulumi's own code generator; it is not on PyPI). Made once and cached under
# ~/.cache/pulumi-tesseract/python-sdk-<hash>/dist (`bash scripts/setup.sh` makes the same one);
# making it needs Go >= 1.25, `npm install` done, and the Go module proxy and PyPI reachable.
set -euo pipefail
# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "$0")/../../scripts/lib/common.sh"
# shellcheck source=../../scripts/lib/pulumi.sh
source "$REPO_ROOT/scripts/lib/pulumi.sh"
# shellcheck source=../../scripts/lib/plugin.sh
source "$REPO_ROOT/scripts/lib/plugin.sh"
ensure_python_sdk >&2 || { log "could not make the pulumi_tesseract wheel (see above)"; exit 1; }
ls "$(python_sdk_dir)"/dist/pulumi_tesseract-*.whl
