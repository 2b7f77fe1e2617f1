/**
 * The test Slurm cluster itself (scripts/slurm.sh; the ground a Slurm serve target will stand on),
 * real daemons, no fakes: everything goes through the login node over ssh, as a user's tools would.
 * Two jobs (`sbatch --parsable -w <node>`) each serve HTTP with `python3 -m http.server` bound to
 * their node's address, in that node's network namespace; both answer through the node address and
 * through an `ssh -L` tunnel via the login node; `scancel` ends them and `squeue` is empty. A job
 * with a one-minute walltime ends by itself and `scontrol show job` says TIMEOUT (no accounting
 * here: job history comes from the controller). Nothing is left: no job, no tunnel, no session.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort } from "../helpers/private-sshd";
import {
  loginSessions,
  loginSsh,
  openTunnel,
  type SlurmCluster,
  type SshTunnel,
  slurmLeftovers,
  startSlurmCluster,
  until,
} from "../helpers/slurm";

/** Bound on the walltime job: its one minute, the controller's 30 s limit check, KillWait 5 s. */
const TIMEOUT_BOUND_MS = 150_000;

let cluster: ReturnType<typeof startSlurmCluster> | undefined;
let env: SlurmCluster;
let dir = "";
const jobs: string[] = [];
const tunnels: SshTunnel[] = [];
let walltimeJob = "";
let walltimeSubmitted = 0;
const servers: { node: string; addr: string; port: number; job: string }[] = [];

function sbatch(args: string): string {
  const id = loginSsh(env, `sbatch --parsable ${args}`).trim().split(";")[0];
  assert.match(id, /^\d+$/, `sbatch printed no job id: ${id}`);
  jobs.push(id);
  return id;
}

/** The job's state as the controller knows it (`scontrol show job`: no accounting here). */
function jobState(id: string): string {
  const out = loginSsh(env, `scontrol show job ${id}`);
  return /JobState=(\S+)/.exec(out)?.[1] ?? `no JobState in: ${out}`;
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, url);
  return (await res.text()).trim();
}

describe("the test Slurm cluster (two nodes, a login node)", { timeout: 400_000 }, () => {
  before(() => {
    cluster = startSlurmCluster();
    env = cluster.env;
    // Job scripts and outputs: the nodes share this machine's file system (as a cluster shares $HOME).
    dir = mkdtempSync("/tmp/pt-slurm-test-");
    const script = path.join(dir, "http-job.sh");
    writeFileSync(
      script,
      [
        "#!/bin/sh",
        "# http-job.sh ADDR PORT: serves a folder holding this node's name, bound to the node's address.",
        "set -e",
        'www="$PWD/www-$SLURM_JOB_ID"',
        'mkdir -p "$www" && printf "%s\\n" "$SLURMD_NODENAME" >"$www/who"',
        'exec python3 -m http.server "$2" --bind "$1" --directory "$www"',
        "",
      ].join("\n"),
    );
    chmodSync(script, 0o755);
    // First, so that its minute runs while the HTTP jobs are tested.
    walltimeSubmitted = Date.now();
    walltimeJob = sbatch(`-J pt-walltime -t 1 -o ${dir}/%j.out -D ${dir} --wrap 'exec sleep 600'`);
  });

  after(async () => {
    for (const t of tunnels) await t.close();
    try {
      const left = jobs.filter((id) => !/COMPLETED|CANCELLED|TIMEOUT|FAILED/.test(jobState(id)));
      if (left.length) loginSsh(env, `scancel ${left.join(" ")}`);
    } catch {
      // the cluster is gone already
    }
    cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // A cluster this file started must be gone (one that ran before stays up).
    if (cluster?.started) assert.deepEqual(slurmLeftovers(), [], "the Slurm cluster left on the host");
  });

  test("the login node runs the Slurm commands: both nodes idle in partition debug, no accounting", () => {
    const nodes = loginSsh(env, "sinfo -h -N -o '%N %P %T'").trim().split("\n").sort();
    assert.deepEqual(
      nodes.map((l) => l.split(" ").slice(0, 2).join(" ")),
      ["node1 debug*", "node2 debug*"],
    );
    assert.deepEqual(Object.keys(env.nodes).sort(), ["node1", "node2"]);
    let sacct = "";
    try {
      sacct = loginSsh(env, "sacct 2>&1");
    } catch (err) {
      sacct = String((err as { stdout?: string }).stdout ?? err);
    }
    assert.match(sacct, /accounting storage is disabled/);
  });

  test("one job per node serves HTTP on its node's address, reachable from the host and through ssh -L", async () => {
    for (const [node, addr] of Object.entries(env.nodes)) {
      const port = await freePort(); // free here, and the node's namespace has its own ports
      const job = sbatch(`-J pt-http-${node} -w ${node} -o ${dir}/%j.out -D ${dir} ${dir}/http-job.sh ${addr} ${port}`);
      servers.push({ node, addr, port, job });
    }
    for (const s of servers) {
      await until(`job ${s.job} running`, 60_000, () => (jobState(s.job) === "RUNNING" ? true : undefined));
      const nodeList = /\bNodeList=(\S+)/.exec(loginSsh(env, `scontrol show job ${s.job}`))?.[1];
      assert.equal(nodeList, s.node, `job ${s.job} runs on its node`);
      // Through the node's address (the host is on the nodes' bridge).
      const who = await until(`http://${s.addr}:${s.port}/who`, 30_000, () => get(`http://${s.addr}:${s.port}/who`));
      assert.equal(who, s.node);
    }
    // From "outside": a local port forwarded through the login node to each node's address.
    for (const s of servers) {
      const t = await openTunnel(env, await freePort(), s.addr, s.port);
      tunnels.push(t);
      assert.equal(await get(`http://127.0.0.1:${t.localPort}/who`), s.node);
    }
    const sessions = loginSessions(env);
    assert.ok(sessions.length >= 2, `the login node holds the tunnels' sessions (${sessions.length})`);
    for (const t of tunnels.splice(0)) {
      await t.close();
      assert.throws(() => process.kill(t.pid, 0), "the tunnel's ssh process is gone");
    }
    await until(
      "no session left on the login node",
      10_000,
      () => (loginSessions(env).length === 0 ? true : undefined),
      200,
    );
  });

  test("scancel ends both HTTP jobs: squeue no longer lists them, their ports close", async () => {
    assert.equal(servers.length, 2, "the HTTP jobs were started");
    loginSsh(env, `scancel ${servers.map((s) => s.job).join(" ")}`);
    const ids = new Set(servers.map((s) => s.job));
    await until("squeue without the HTTP jobs", 30_000, () => {
      const queued = loginSsh(env, "squeue -h -o %i")
        .split("\n")
        .filter((id) => ids.has(id.trim()));
      return queued.length === 0 ? true : undefined;
    });
    for (const s of servers) {
      assert.equal(jobState(s.job), "CANCELLED");
      await until(`${s.addr}:${s.port} closed`, 15_000, async () => {
        try {
          await fetch(`http://${s.addr}:${s.port}/who`, { signal: AbortSignal.timeout(2_000) });
          return undefined;
        } catch {
          return true;
        }
      });
    }
  });

  test("a job with a one-minute walltime ends by itself: scontrol show job says TIMEOUT", async () => {
    const left = TIMEOUT_BOUND_MS - (Date.now() - walltimeSubmitted);
    const state = await until(
      `job ${walltimeJob} (-t 1) ending`,
      Math.max(left, 1_000),
      () => {
        const s = jobState(walltimeJob);
        return /PENDING|RUNNING|COMPLETING|CONFIGURING/.test(s) ? undefined : s;
      },
      2_000,
    );
    assert.equal(state, "TIMEOUT", `job ${walltimeJob} ended as ${state}`);
    const elapsed = (Date.now() - walltimeSubmitted) / 1000;
    assert.ok(elapsed >= 55, `ended after its minute, not before (${elapsed} s)`);
    console.log(`walltime job ${walltimeJob}: TIMEOUT after ${elapsed.toFixed(0)} s`);
  });

  test("nothing is left: no job in squeue, no session on the login node", async () => {
    await until("squeue empty", 30_000, () => (loginSsh(env, "squeue -h -o %i").trim() === "" ? true : undefined));
    for (const id of jobs) assert.match(jobState(id), /^(CANCELLED|TIMEOUT)$/, `job ${id}`);
    // (The session of the last command above closes just after its ssh client exits.)
    await until(
      "no session on the login node",
      10_000,
      () => (loginSessions(env).length === 0 ? true : undefined),
      200,
    );
  });
});
