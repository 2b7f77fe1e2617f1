#!/usr/bin/env bash
# Larger differential-fuzzing run of our zod schemas against upstream's own models
# (tesseract-core's TesseractConfig; fractal-server's TaskCollectPip, TaskCollectCustom, ManifestV2).
# Usage: bash scripts/fuzz-schemas.sh [documents per kind, default 20000] [seed, default fresh]
# `npm test` runs 2,000 per kind with a fixed seed (test/unit/*-fuzz.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
exec node --import tsx test/helpers/fuzz/run.ts "$@"
