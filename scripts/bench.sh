#!/usr/bin/env bash
# npm run bench [-- NAME...]: every benchmark (or the named ones: image service client client-large fractal build-installer build-parallel kubernetes slurm),
# each side by side with the upstream tool in one run; tables on stdout, JSON in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
npm run --silent build
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(image service client client-large fractal build-installer build-parallel kubernetes slurm)
mkdir -p bench/results
for name in "${names[@]}"; do
  echo "=== bench/$name.ts"
  npx tsx "bench/$name.ts"
done
npx tsx bench/summary.ts
