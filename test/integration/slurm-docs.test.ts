/**
 * docs/slurm.md's "The test cluster" block, taken from the file and run with bash as a developer
 * would: up, a job on node2 answering over HTTP, squeue from the host, down. Skipped when the
 * cluster is already up (its `down` would take it from whoever started it).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { shellBlock } from "../helpers/docs";
import { REPO_ROOT } from "../helpers/stack";

const up = () =>
  /cluster up/.test(execFileSync("bash", ["scripts/slurm.sh", "status"], { cwd: REPO_ROOT, encoding: "utf8" }));

test("docs/slurm.md: the test cluster by hand, as written", {
  timeout: 300_000,
  skip: up() && "cluster already up",
}, () => {
  const block = shellBlock(path.join(REPO_ROOT, "docs/slurm.md"), "The test cluster");
  const r = spawnSync("bash", ["-e", "-c", block], { cwd: REPO_ROOT, encoding: "utf8", timeout: 240_000 });
  try {
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-4000));
    assert.match(r.stdout, /node1.*\n?.*node2|node\[1-2\]/, "sinfo lists both nodes");
    assert.match(r.stdout, /^answered$/m, "the job's server answered");
  } finally {
    if (up()) execFileSync("bash", ["scripts/slurm.sh", "down"], { cwd: REPO_ROOT, timeout: 120_000 });
  }
});
