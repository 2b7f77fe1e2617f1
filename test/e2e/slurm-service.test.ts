/**
 * TesseractService with `slurm` through the real Pulumi engine (Automation API, inline program,
 * file backend) on the two-node test cluster (scripts/slurm.sh), everything through the login node
 * over ssh: environment mode serving examples/tesseracts/vectoradd as two jobs pinned to node1 and
 * node2; `applyOutput` and `jacobianOutput` called from the stack through the service's `endpoint`
 * (a tunnel per call); one job cancelled by hand → `up --refresh` resubmits it (a new job id, the
 * other kept) and the calls still work; a preview then shows no change; the private key never in
 * state in plain text; destroy → no job, no ssh master or tunnel of the provider left.
 * Container mode: the hello image (`docker save`d to the shared file system, as a site without a
 * registry the nodes reach would) served by podman on node2 with a one-minute walltime: `apply`
 * answers, the walltime ends the job, `refresh` records it as TIMEOUT and a preview proposes the
 * update that resubmits it; destroy leaves no job and no container.
 * Run `npx tsc -p tsconfig.json` first (done in before()): the provider shim loads lib/.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { applyOutput, jacobianOutput } from "../../provider/functions";
import { TesseractService } from "../../provider/resources/tesseract-service";
import { ensureHelloImage } from "../helpers/service-fixture";
import {
  loginSsh,
  podmanJobOptions,
  removePodmanStorage,
  type SlurmCluster,
  slurmLeftovers,
  startSlurmCluster,
  until,
} from "../helpers/slurm";
import { testWorkspace } from "../helpers/stack";

const ROOT = path.resolve(__dirname, "../..");
const VECTORADD = path.join(ROOT, "examples/tesseracts/vectoradd");
const run = `slurme2e-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let testCluster: ReturnType<typeof startSlurmCluster> | undefined;
let env: SlurmCluster;
let workDir = "";
let stack: Stack | undefined;
let podmanStack: Stack | undefined;

/** ssh processes on this machine whose ControlPath is an SshLogin's (pt-ssh- temp folder): masters and tunnels. */
function ourSsh(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.startsWith("ssh ") && /pt-ssh-/.test(cmd) && cmd.includes(workDirTag())) out.push(`${entry}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
/** Other tests may run ssh to the same login node; ours are the ones of this login port (one cluster on the host). */
const workDirTag = () => `-p ${env.login.split(":").pop()}`;

/** Paths in `value` of the strings that hold `needle`. */
function pathsHolding(value: unknown, needle: string, at = ""): string[] {
  if (typeof value === "string") return value.includes(needle) ? [at] : [];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => pathsHolding(v, needle, `${at}.${k}`));
}

/** Job ids of this run's jobs still known to the queue (`squeue`: pending, running, completing). */
function queued(): string[] {
  return loginSsh(env, "squeue -h -o '%i %j'")
    .split("\n")
    .filter((l) => l.includes(run))
    .map((l) => l.split(" ")[0]);
}

before(async () => {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    // type errors elsewhere still emit lib/; the test fails clearly if the shim cannot load
  }
  testCluster = startSlurmCluster();
  env = testCluster.env;
  // The nodes share this machine's file system, as a cluster shares its home or scratch.
  workDir = mkdtempSync("/tmp/pt-slurm-e2e-");
});

after(async () => {
  try {
    for (const st of [stack, podmanStack]) {
      if (!st) continue;
      await st.destroy().catch(() => undefined);
      await st.workspace.removeStack(st.name).catch(() => undefined);
    }
    const left = queued();
    if (left.length) loginSsh(env, `scancel ${left.join(" ")}`);
  } finally {
    removePodmanStorage(workDir);
    rmSync(workDir, { recursive: true, force: true });
    testCluster?.stop();
    if (testCluster?.started) assert.deepEqual(slurmLeftovers(), [], "the Slurm cluster left on the host");
  }
});

test("slurm: up serves two jobs, calls through the endpoint, a cancelled job is resubmitted by up --refresh, destroy leaves nothing", {
  timeout: 900_000,
}, async () => {
  const key = readFileSync(env.sshKey, "utf8");
  const program = async () => {
    const svc = new TesseractService("va", {
      slurm: {
        login: {
          host: "127.0.0.1",
          port: Number(env.login.split(":").pop()),
          user: "root",
          privateKey: pulumi.secret(key),
          knownHosts: readFileSync(env.knownHosts, "utf8"),
        },
        partition: env.partition,
        workDir,
        mode: "environment",
        srcDir: VECTORADD,
        replicas: 2,
        nodes: ["node1", "node2"],
        cpusPerTask: 1,
        startTimeout: 300,
      },
    });
    const inputs = { a: [1, 2], b: [3, 4], s: 2 };
    const applied = applyOutput({ url: svc.endpoint, inputs });
    const jac = jacobianOutput({ url: svc.endpoint, inputs, jacInputs: ["a"], jacOutputs: ["result"] });
    return {
      jobIds: svc.jobIds,
      urls: svc.urls,
      result: applied.apply((r) => r.outputs.result),
      jacobian: jac.apply((r) => r.jacobian),
    };
  };
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName: run, projectName: "pt-slurm-e2e", program },
    testWorkspace("pt-slurm-e2e"),
  );
  const data = (r: unknown) => (r as { data: number[] }).data;

  let t = Date.now();
  const up = await stack.up();
  console.log(`slurm e2e: up (environment build, 2 jobs healthy, apply + jacobian) ${(Date.now() - t) / 1000} s`);
  const jobIds = up.outputs.jobIds.value as string[];
  assert.equal(jobIds.length, 2);
  assert.deepEqual(data(up.outputs.result.value), [5, 8]);
  const jac = up.outputs.jacobian.value as { result: { a: unknown } };
  assert.deepEqual(data(jac.result.a), [2, 0, 0, 2]);
  const urls = up.outputs.urls.value as string[];
  assert.ok(
    urls.every((u) => /^http:\/\/10\.231\.0\.1[12]:\d+$/.test(u)),
    urls.join(" "),
  );
  assert.deepEqual(queued().sort(), [...jobIds].sort());
  // The private key is a secret in state: never there in plain text.
  // `pulumi stack export` as a user runs it (the Automation API's exportStack adds --show-secrets).
  const state = JSON.parse(
    execFileSync("pulumi", ["stack", "export", "--stack", stack.name], {
      cwd: stack.workspace.workDir,
      encoding: "utf8",
      timeout: 60_000,
    }),
  );
  // A line from the middle of the key (an OpenSSH key's first lines are the same for every key).
  const lines = key.split("\n").filter((l) => l.length > 40);
  const keyLine = lines[Math.floor(lines.length / 2)] ?? key;
  assert.deepEqual(pathsHolding(state, keyLine), [], "the private key is in the state in plain text");

  // A job cancelled by hand: refresh sees it ended, up resubmits it (the other job kept).
  loginSsh(env, `scancel ${jobIds[0]}`);
  for (let i = 0; i < 30 && queued().includes(jobIds[0]); i++) await sleep(1_000);
  t = Date.now();
  const healed = await stack.up({ refresh: true });
  console.log(`slurm e2e: up --refresh (one job resubmitted) ${(Date.now() - t) / 1000} s`);
  const newIds = healed.outputs.jobIds.value as string[];
  assert.notEqual(newIds[0], jobIds[0]);
  assert.equal(newIds[1], jobIds[1]);
  assert.deepEqual(data(healed.outputs.result.value), [5, 8]);
  assert.deepEqual(queued().sort(), [...newIds].sort());

  // Nothing to do now.
  const preview = await stack.preview();
  const changes = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n);
  assert.deepEqual(changes, [], `preview after up: ${JSON.stringify(preview.changeSummary)}`);

  t = Date.now();
  await stack.destroy();
  console.log(`slurm e2e: destroy ${(Date.now() - t) / 1000} s`);
  assert.deepEqual(queued(), [], "jobs left after destroy");
  assert.deepEqual(ourSsh(), [], "ssh masters or tunnels left after destroy");
  assert.deepEqual(
    readdirSync(path.join(workDir, "jobs")).filter((f) => newIds.some((id) => f.startsWith(`${id}.`))),
    [],
    "job files left",
  );
});

test("slurm container mode: podman serves the image from an archive; the walltime's end is seen on refresh; destroy leaves nothing", {
  timeout: 600_000,
}, async () => {
  const archive = path.join(workDir, "hello.tar");
  execFileSync("docker", ["save", await ensureHelloImage(), "-o", archive], { timeout: 300_000 });
  const podman = podmanJobOptions(workDir);
  const program = async () => {
    const svc = new TesseractService("hp", {
      image: `docker-archive:${archive}`,
      slurm: {
        login: {
          host: "127.0.0.1",
          port: Number(env.login.split(":").pop()),
          user: "root",
          privateKey: pulumi.secret(readFileSync(env.sshKey, "utf8")),
          knownHosts: readFileSync(env.knownHosts, "utf8"),
        },
        partition: env.partition,
        workDir,
        mode: "podman",
        walltime: "1",
        nodes: ["node2"],
        ...podman,
        startTimeout: 300,
      },
    });
    const applied = applyOutput({ url: svc.endpoint, inputs: { name: "Slurm" } });
    return { jobs: svc.jobs, greeting: applied.apply((r) => r.outputs) };
  };
  podmanStack = await LocalWorkspace.createOrSelectStack(
    { stackName: `${run}-podman`, projectName: "pt-slurm-e2e-podman", program },
    testWorkspace("pt-slurm-e2e-podman"),
  );
  let t = Date.now();
  const up = await podmanStack.up();
  console.log(
    `slurm e2e: up in podman mode (image loaded from the archive, healthy, apply) ${(Date.now() - t) / 1000} s`,
  );
  assert.deepEqual(up.outputs.greeting.value, { greeting: "Hello, Slurm!" });
  const [job] = up.outputs.jobs.value as { jobId: string; status: string }[];
  assert.equal(job.status, "RUNNING");

  // The one-minute walltime ends the job; refresh records why, and the next up would resubmit it.
  t = Date.now();
  await until(
    `job ${job.jobId} ended by its walltime`,
    240_000,
    async () => (queued().includes(job.jobId) ? undefined : true),
    3_000,
  );
  await podmanStack.refresh();
  // The resource's state after refresh (the stack outputs stay what the last up computed).
  const exported = await podmanStack.exportStack();
  const resource = (exported.deployment.resources ?? []).find((r: { type: string }) =>
    r.type.endsWith("TesseractService"),
  ) as { outputs: { jobs: { jobId: string; status: string; text?: string }[] } };
  const [seen] = resource.outputs.jobs;
  console.log(`slurm e2e: walltime end seen on refresh ${(Date.now() - t) / 1000} s after up`);
  assert.equal(seen.status, "TIMEOUT", JSON.stringify(seen));
  assert.match(seen.text ?? "", /walltime/);
  const preview = await podmanStack.preview();
  assert.equal(preview.changeSummary.update, 1, `preview after the walltime: ${JSON.stringify(preview.changeSummary)}`);

  await podmanStack.destroy();
  assert.deepEqual(queued(), [], "jobs left after destroy");
  const left = execFileSync("podman", [...podman.runtimeOptions, "ps", "-a", "--format", "{{.Names}}"], {
    encoding: "utf8",
  });
  assert.equal(left.trim(), "", "the job's container went with it");
});
