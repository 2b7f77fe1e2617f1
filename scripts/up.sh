#!/usr/bin/env bash
# npm run up [-- preview|refresh|destroy|--refresh]: the main job, the root stack, with the real engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-up.sh
source scripts/env.sh
npm run --silent build
exec npx tsx scripts/up.ts "$@"
