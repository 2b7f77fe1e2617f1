/**
 * Fractal faults, on a private PostgreSQL cluster and a private fractal-server (never the shared
 * ones): a TaskGroup (server backend, wheel of test/helpers/fixtures/fractal-tasks) in one real stack, then
 *   1. fractal-server stopped during a collection, then restarted;
 *   2. PostgreSQL restarted under a running fractal-server;
 *   3. `pulumi up` interrupted (SIGINT) mid-collection, then run again.
 * Each ends, after `pulumi up --refresh`, with exactly one task group of the package on the server,
 * collected (tasks listed, venv present) and matching the state; no unfinished activity. The admin
 * password (a Pulumi secret) must never appear in state or output; destroy must leave no group and
 * no task folder.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { FractalClient } from "../../provider/fractal/client";
import { engineError, settle, sleep, waitFor } from "../helpers/faults/outcome";
import { findSecrets, Report, secretContexts, toleratingMonitorTermination } from "../helpers/faults/report";
import { REPO_ROOT } from "../helpers/fractal-server";
import {
  describeLeaks,
  fractalLeaks,
  fractalTaskGroups,
  stackCheckpointText,
  withoutSecretValues,
} from "../helpers/leaks";
import { PrivateFractal, PrivatePostgres } from "../helpers/private-postgres";
import { createTestStack, type TestStack } from "../helpers/stack";
import { requireVenvBin } from "../helpers/venv";

const report = new Report("fractal-faults");
const PKG = "pt-fractal-tasks";

let pg: PrivatePostgres;
let fractal: PrivateFractal;
let wheel: string;
let ts: TestStack | undefined;
let destroyed = false;
const output: string[] = [];
const want = { group: true };

async function program() {
  const { TaskGroup } = await import("../../provider/resources/task-group");
  if (!want.group) return {};
  const c = fractal.credentials;
  const tg = new TaskGroup("tasks", {
    backend: "server",
    server: { url: c.url, email: c.email, password: pulumi.secret(c.password) },
    pip: { wheelFile: wheel },
    timeoutSeconds: 600,
  });
  return { taskGroupId: tg.taskGroupId, tasks: tg.tasks };
}

function up(opts: { refresh?: boolean; signal?: AbortSignal } = {}) {
  return (ts as TestStack).stack.up({
    onOutput: (s) => output.push(s),
    refresh: opts.refresh,
    signal: opts.signal,
    color: "never",
  });
}

const leakOptions = () => ({ ...fractal.credentials, pkgNames: [PKG] });

/** A collection of our package is running on the server. */
async function collecting(): Promise<boolean> {
  const client = new FractalClient(fractal.credentials);
  const acts = await client.activities({ pkg_name: PKG });
  return acts.some((a) => a.action === "collect" && (a.status === "ongoing" || a.status === "pending"));
}

async function scanSecrets(where: string): Promise<void> {
  // What is stored (secrets encrypted), plus the decrypted export minus the values held as secrets.
  const stack = (ts as TestStack).stack;
  const exported = withoutSecretValues(JSON.stringify(await stack.exportStack()));
  const state = `${stackCheckpointText("pulumi-tesseract-tests", stack.name)}\n${exported}`;
  report.add("stacksScanned");
  const pw = fractal.credentials.password;
  const inState = findSecrets(state, [pw]);
  const inOutput = findSecrets(output.join(""), [pw]);
  report.add("secretsFound", inState.length + inOutput.length);
  for (const c of [...secretContexts(state, pw), ...secretContexts(output.join(""), pw)]) report.note(`${where}: ${c}`);
  assert.deepEqual(
    { inState, inOutput },
    { inState: [], inOutput: [] },
    `${where}: the fractal password appears in plain text`,
  );
}

/** Declared state: one group of the package, collected, the state's id is that group, nothing unfinished. */
async function assertDeclared(where: string, outputs: Record<string, { value: unknown }>): Promise<void> {
  const groups = await fractalTaskGroups(leakOptions());
  assert.equal(groups.length, 1, `${where}: ${groups.length} task groups of ${PKG}: ${JSON.stringify(groups)}`);
  const id = outputs.taskGroupId?.value;
  assert.equal(groups[0].id, id, `${where}: state says group ${id}, server has ${groups[0].id}`);
  const tasks = outputs.tasks?.value as { name: string }[];
  assert.ok(tasks?.length >= 2, `${where}: the group has ${tasks?.length ?? 0} tasks`);
  const full = await new FractalClient(fractal.credentials).taskGroup(groups[0].id);
  assert.ok(
    full?.venv_path && existsSync(path.join(full.venv_path, "bin", "python")),
    `${where}: no venv at ${full?.venv_path}`,
  );
  assert.equal(full?.task_list.length, tasks.length, `${where}: server has ${full?.task_list.length} tasks`);
  const leaks = await fractalLeaks(leakOptions());
  assert.deepEqual(leaks.activeActivities, [], `${where}: unfinished activities`);
}

/** The fixture task package as a wheel, built in a folder of our own (removed in after()). */
const wheelWork = mkdtempSync(path.join(tmpdir(), "ptf-wheel-"));
function buildWheel(): string {
  const src = path.join(wheelWork, "src");
  cpSync(path.join(REPO_ROOT, "test/helpers/fixtures/fractal-tasks"), src, { recursive: true });
  const dist = path.join(wheelWork, "dist");
  mkdirSync(dist, { recursive: true });
  execFileSync(requireVenvBin("python"), ["-m", "build", "--wheel", "--outdir", dist, src], {
    stdio: "pipe",
    timeout: 300_000,
  });
  const whl = readdirSync(dist).find((f) => f.endsWith(".whl"));
  if (!whl) throw new Error(`no wheel built in ${dist}`);
  return path.join(dist, whl);
}

before(async () => {
  wheel = buildWheel();
  pg = await PrivatePostgres.start("faults");
  fractal = await PrivateFractal.start(pg);
  ts = await createTestStack("faults-fractal", program);
});

after(async () => {
  try {
    if (ts && !destroyed) await ts.stack.destroy({ onOutput: (s) => output.push(s) }).catch(() => undefined);
    await ts?.dispose();
  } finally {
    await fractal?.dispose();
    await pg?.dispose();
    rmSync(wheelWork, { recursive: true, force: true });
  }
});

describe("fractal faults on a private fractal-server and PostgreSQL", { concurrency: false }, () => {
  test("1. fractal-server stopped during a collection, then restarted", async () => {
    await report.fault("fractal-server stopped during a collection", async () => {
      const run = settle(up());
      await waitFor("a running collection", collecting, 120_000, 100);
      await sleep(1000);
      fractal.stop();
      const { error, value } = await run;
      report.note(
        `fractal-server stopped mid-collection: pulumi up ${error ? `failed with: ${engineError(error)}` : `${value?.summary.result}`}`,
      );
      fractal.startAgain();
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after fractal-server restart", res.outputs);
      await scanSecrets("after fault 1");
    });
  });

  test("2. PostgreSQL restarted under a running fractal-server", async () => {
    await report.fault("PostgreSQL restarted", async () => {
      if (!(await fractal.alive())) fractal.startAgain();
      await pg.restartServer();
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after PostgreSQL restart", res.outputs);
      assert.ok(await fractal.alive(), "fractal-server died with the database restart");
    });
  });

  test("3. pulumi up interrupted (SIGINT) mid-collection, then run again", async () => {
    await report.fault("SIGINT during pulumi up (collection)", async () => {
      if (!(await fractal.alive())) fractal.startAgain();
      want.group = false;
      let res = await up();
      assert.equal(res.summary.result, "succeeded");
      assert.equal((await fractalTaskGroups(leakOptions())).length, 0, "the group was not deleted");
      want.group = true;
      const r = await toleratingMonitorTermination(report, async () => {
        const ac = new AbortController();
        const run = settle(up({ signal: ac.signal }));
        await waitFor("a running collection", collecting, 120_000, 100);
        ac.abort();
        return run;
      });
      report.note(
        `up after SIGINT mid-collection: ${r.error ? `failed: ${engineError(r.error) || r.error.message.split("\n")[0]}` : `completed: ${r.value?.summary.result}`}`,
      );
      res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after SIGINT + up", res.outputs);
      await scanSecrets("after fault 3");
    });
  });

  test("destroy leaves no task group, activity or task folder", async () => {
    if (!(await fractal.alive())) fractal.startAgain();
    const res = await (ts as TestStack).stack.destroy({ onOutput: (s) => output.push(s) });
    destroyed = true;
    assert.equal(res.summary.result, "succeeded");
    const leaks = await fractalLeaks({ ...leakOptions(), tasksDir: fractal.credentials.tasksDir });
    report.add("leaksFound", leaks.total);
    assert.equal(leaks.total, 0, describeLeaks(leaks));
    await scanSecrets("after destroy");
  });
});
