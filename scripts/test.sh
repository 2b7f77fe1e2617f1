#!/usr/bin/env bash
# npm test: setup (idempotent), lint, build, then every test tier with node's test runner (the
# unit tier on Node 20 and on Node 24). `unit` alone (npm run test:unit) needs only `npm ci`.
# Usage: bash scripts/test.sh [unit|integration|e2e|faults|all|fractal-matrix] [extra node --test args]
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:-all}"; shift || true
# When the run started (setup included), for the summary step's "last full run" line.
export PT_RUN_STARTED="${PT_RUN_STARTED:-$(date +%s)}"
if [ "$tier" = unit ]; then
  # `npm run test:unit`: pure logic, so it needs only `npm ci`: no setup, lint or build (what needs
  # the built lib/ is in test/integration). The Python peers, when scripts/setup.sh has made them,
  # let the upstream cross-checks run; without them those few tests skip. The unit files run in one
  # process (scripts/lib/unit-files.sh), beside the few that need their own. `npm test` runs them
  # the same way after its setup, and again on Node 24.
  source scripts/env.sh 2>/dev/null || true
  source scripts/lib/unit-files.sh
  # shellcheck disable=SC2046
  exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "$@" $(unit_files)
fi
# Cold, the Go builds are the longest part of the setup. `all` runs the tiers that need no Pulumi CLI
# (unit, integration) while they go on in the background (scripts/setup.sh with
# PULUMI_TESSERACT_GO_BUILDS=detach, then =join before e2e); every tier leaves the Kubernetes build
# (the test cluster's binaries) in the background, runs the files that start the cluster last, and
# those wait for it (scripts/lib/kubernetes.sh: k8s_build_wait, bounded, failing with its log).
export PULUMI_TESSERACT_K8S_BUILD=background
stop_builds() {
  bash scripts/kubernetes.sh build-stop
  bash -c 'source scripts/lib/common.sh && detach_stop go_builds'
}
# The run's hold on the shared runtime base image (test/helpers/warm-runtime.ts): taken after the
# setup, given back before the leak check and on any exit.
release_runtime() { node --import tsx test/helpers/warm-runtime.ts release >/dev/null 2>&1 || true; }
# Interrupted or failed: stop the background builds (own process groups; the Go cache keeps their
# progress). Passed: wait for them (a tier without the cluster), so that no process stays behind.
trap 'trap - EXIT; stop_builds; release_runtime; exit 130' INT TERM
trap 'rc_=$?; release_runtime; if [ "$rc_" = 0 ]; then bash scripts/kubernetes.sh build-wait || rc_=1; else stop_builds; fi; exit "$rc_"' EXIT
if [ "$tier" = all ]; then PULUMI_TESSERACT_GO_BUILDS=detach bash scripts/setup.sh; else bash scripts/setup.sh; fi
source scripts/env.sh
npm run --silent lint
npm run --silent build
# Tests, benchmarks and the root stack import the built package by name, so check them after the build.
npx tsc -p tsconfig.check.json
final=0
case "$tier" in
  all)
    files=$(for t in unit integration e2e faults; do find "test/$t" -name '*.test.ts' | sort; done)
    # The whole suite ran one file at a time: anything of ours left unreferenced is a leak.
    export PT_LEAKS_STRICT="${PT_LEAKS_STRICT:-1}" PT_LEAKS_GRACE_SECONDS="${PT_LEAKS_GRACE_SECONDS:-0}"
    # The summary step writes its tables into docs/reliability.md ("Last full run") only for this tier.
    export PT_FULL_RUN=1
    final=1
    ;;
  # The server-backend suite (integration and e2e) once per fractal-server version of the matrix
  # (scripts/fractal-versions.txt); `all` runs it on the newest only, plus fractal-versions.test.ts
  # (the version differences) on every version.
  fractal-matrix)
    files=$(ls test/integration/fractal-*.test.ts test/e2e/task-group*.test.ts test/e2e/fractal-server-example.test.ts)
    rc=0
    for v in $PULUMI_TESSERACT_FRACTAL_VERSIONS; do
      echo "== fractal-server $v"
      # shellcheck disable=SC2086
      PULUMI_TESSERACT_FRACTAL_SERVER_VERSION="$v" node --import tsx --test --test-concurrency=1 \
        --test-reporter=spec "$@" $files || rc=1
    done
    exit "$rc"
    ;;
  faults) files=$(find "test/faults" -name '*.test.ts' | sort); final=1 ;;
  *) files=$(find "test/$tier" -name '*.test.ts' | sort) ;;
esac
[ -n "$files" ] || { echo "no test files for tier '$tier'"; exit 1; }
# Files that need the test cluster last, in their own run (node's runner orders the files of one
# run itself): the background Kubernetes build has the rest of the run. (The Slurm test cluster,
# scripts/slurm.sh, needs no build and is up in seconds: its file runs with the integration tier.)
# shellcheck disable=SC2086
cluster_files=$(grep -l 'startTestInfra("cluster")' $files || true)
files="$(for f in $files; do grep -qxF "$f" <<<"$cluster_files" || echo "$f"; done)"
# The fault files write their counters here; the summary step reads them (test/helpers/faults/report.ts).
export PT_FAULTS_DIR="${PT_FAULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pulumi-tesseract-faults-XXXXXX")}"
# What of this package is on the shared engine before the first test: the leak check leaves it out
# (an earlier, interrupted run's objects are not this run's leaks).
export PT_LEAKS_BASELINE="${PT_LEAKS_BASELINE:-$PT_FAULTS_DIR/leaks-baseline.ids}"
node --import tsx test/helpers/leaks-baseline.ts "$PT_LEAKS_BASELINE"
# The runtime base image the tests' builds share, built once and held for the run: every test's
# stack removes it on destroy when nothing else holds it, and the next would build it again.
node --import tsx test/helpers/warm-runtime.ts hold || echo "(not held: the tests build the runtime base image themselves)"
rc=0
# One file at a time: the files share one dockerd, one fractal-server and two cores. A TAP copy of
# each run (run-<name>.tap) gives the summary step the test and failure counts.
reporters() { echo --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap "--test-reporter-destination=$PT_FAULTS_DIR/run-$1.tap"; }
if [ "$tier" = all ]; then
  # unit and integration need no Pulumi CLI: they run while the Go builds finish; then the rest of
  # the setup (joins them, the Python SDK wheel), then e2e and faults.
  # (The unit files in one process, as in `npm run test:unit`.)
  early=$(for f in $files; do case "$f" in test/unit/* | test/integration/*) echo "$f" ;; esac; done)
  source scripts/lib/unit-files.sh
  # shellcheck disable=SC2046
  node --import tsx --test --test-concurrency=2 $(reporters unit) "$@" $(unit_files) || rc=$?
  # shellcheck disable=SC2046
  node --import tsx --test --test-concurrency=1 $(reporters early) "$@" $(grep -v '^test/unit/' <<<"$early") || rc=$?
  PULUMI_TESSERACT_GO_BUILDS=join bash scripts/setup.sh
  files=$(for f in $files; do grep -qxF "$f" <<<"$early" || echo "$f"; done)
fi
# shellcheck disable=SC2086,SC2046
[ -z "${files//[[:space:]]/}" ] || node --import tsx --test --test-concurrency=1 $(reporters main) "$@" $files || rc=$?
# shellcheck disable=SC2086,SC2046
[ -z "${cluster_files//[[:space:]]/}" ] || node --import tsx --test --test-concurrency=1 $(reporters cluster) "$@" $cluster_files || rc=$?
# The unit tier again on Node 24 LTS with the newest @pulumi/pulumi (test/e2e/readme-quickstart.test.ts runs
# the README quick start on both itself). Part of `npm test`; `npm run test:unit` stays on the repo's Node.
if [ "$tier" = all ]; then bash scripts/test-node24.sh "$@" || rc=$?; fi
release_runtime
if [ "$final" = 1 ]; then
  # The explicit last step, after every file of the tier(s): the shared-engine leak check, then
  # the faults summary table (fails on leaks, secrets in plain text, or accepted bad inputs).
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" \
    test/final/shared-leaks.test.ts test/final/summary.test.ts || rc=$?
fi
exit "$rc"
