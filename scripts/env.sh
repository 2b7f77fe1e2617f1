# source scripts/env.sh: puts `pulumi` (and the dynamic-provider plugin) on PATH and sets the
# local-backend defaults used by the tests and the root stack. Run scripts/setup.sh first.
# shellcheck shell=bash
_pt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$_pt_root/scripts/lib/common.sh"
source "$_pt_root/scripts/lib/pulumi.sh"
source "$_pt_root/scripts/lib/python.sh"
source "$_pt_root/scripts/lib/postgres.sh"
command -v pulumi >/dev/null || export PATH="$PULUMI_BIN_DIR:$PATH"
source "$_pt_root/scripts/lib/plugin.sh"
command -v pulumi-language-yaml >/dev/null || export PATH="$PATH:$YAML_HOST_DIR"
export PULUMI_TESSERACT_PYTHON_SDK="$(python_sdk_dir)"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_HOME="${PULUMI_HOME:-$CACHE_DIR/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$CACHE_DIR/state}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-pulumi-tesseract-local}"
export PULUMI_TESSERACT_VENV="$(venv_dir)"
# fractal-server 2.24 (Python >= 3.12) for scripts/fractal-server.sh; the shared venv (2.18.5) when none.
export PULUMI_TESSERACT_FRACTAL_VENV="$(fractal_venv_dir)"
export PULUMI_TESSERACT_PG_PORT="$PG_PORT"
export PULUMI_TESSERACT_CACHE="$CACHE_DIR"
mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
unset _pt_root
