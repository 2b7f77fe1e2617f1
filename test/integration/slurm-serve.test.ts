/**
 * The Slurm serve target's domain layer (provider/serve/slurm/) on the real two-node test cluster
 * (scripts/slurm.sh), everything through the login node over ssh as a user's tools would do it:
 * - environment mode: the environment of examples/tesseracts/hello built on the login node (cold),
 *   a second request reuses it (warm), two concurrent requests for one new hash build once, and a
 *   build that fails (a requirement that does not exist) says pip's tail and leaves no folder;
 * - two replicas pinned to node1 and node2, healthy through `ssh -W` tunnels, `apply` with the
 *   package's client through a per-call tunnel → "Hello, Slurm!"; their in-cluster `url` answers
 *   from the host (it sits on the nodes' bridge);
 * - one replica cancelled by hand (scancel) reads as CANCELLED and is resubmitted (a new job on
 *   its node, answering apply), a replica with a one-minute walltime reads as TIMEOUT; stopping
 *   cancels and waits;
 * - podman mode: one replica from a `docker save` archive on the shared file system, answering
 *   `apply` (podman with its own storage in the work folder, rlimits within the hard limits);
 * - nothing left: no job, no ssh process of ours, no session on the login node, no temp folder.
 * Measured times are printed (environment cold/warm, submit→healthy per mode).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { DEFAULT_RUNTIME_VERSION } from "../../provider/build-context/context";
import { apply, closeTesseractFunctionClients } from "../../provider/functions";
import { probeHealth } from "../../provider/serve/health";
import { isActive, viewJob } from "../../provider/serve/slurm/cluster";
import { EnvironmentBuildError, ensureEnvironment } from "../../provider/serve/slurm/environment";
import { checkSlurmTarget, type SlurmInputs } from "../../provider/serve/slurm/inputs";
import { type JobScriptSpec, jobName } from "../../provider/serve/slurm/job-script";
import {
  prepareWorkDir,
  readReplicas,
  resubmitEnded,
  type SlurmReplica,
  SlurmReplicaError,
  startReplicas,
  stopReplicas,
} from "../../provider/serve/slurm/replicas";
import { SshSlurmCluster } from "../../provider/serve/slurm/ssh-cluster";
import { openSlurmTunnel, type Reach, withSlurmTunnel } from "../../provider/serve/slurm/tunnel";
import { ensureHelloImage } from "../helpers/service-fixture";
import {
  loginSessions,
  podmanJobOptions,
  removePodmanStorage,
  slurmLeftovers,
  startSlurmCluster,
  type SlurmCluster as TestCluster,
  until,
} from "../helpers/slurm";

const ROOT = path.resolve(__dirname, "../..");
const HELLO = path.join(ROOT, "examples/tesseracts/hello");
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

let testCluster: ReturnType<typeof startSlurmCluster> | undefined;
let env: TestCluster;
let cluster: SshSlurmCluster;
let slurm: SlurmInputs;
let workDir = "";
let envDir = "";
const submitted = new Set<string>();
const timings: string[] = [];
let replicas: SlurmReplica[] = [];
let helloSpecs: JobScriptSpec[] = [];
let walltimeReplica: SlurmReplica | undefined;
let walltimeStart: Promise<SlurmReplica[]> | undefined;

function inputs(extra: Record<string, unknown> = {}): SlurmInputs {
  const r = checkSlurmTarget({
    login: {
      host: "127.0.0.1",
      port: Number(env.login.split(":").pop()),
      user: "root",
      privateKey: readFileSync(env.sshKey, "utf8"),
      knownHosts: readFileSync(env.knownHosts, "utf8"),
    },
    partition: env.partition,
    workDir,
    cpusPerTask: 1,
    ...extra,
  });
  assert.ok(r.ok, JSON.stringify(r.ok ? "" : r.failures));
  return r.value;
}

/** Jobs get recorded for after() whatever happens in between. */
function tracked(c: SshSlurmCluster): SshSlurmCluster {
  const submit = c.submit.bind(c);
  c.submit = async (script: string) => {
    const id = await submit(script);
    submitted.add(id);
    return id;
  };
  return c;
}

function specs(s: SlurmInputs, resource: string, n: number, serve: JobScriptSpec["serve"]): JobScriptSpec[] {
  return Array.from({ length: n }, (_, replica) => ({
    slurm: s,
    workDir,
    name: jobName("it", resource, replica),
    replica,
    serve,
  }));
}

/** ssh processes whose parent is this test process (commands, tunnels' -W children). */
function ourSsh(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (ppid === process.pid && comm === "ssh") out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** ssh ControlMasters of SshLogin connections (their ControlPath is in a pt-ssh- temp folder). */
function controlMasters(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.startsWith("ssh ") && /ControlPath=\S*pt-ssh-/.test(cmd)) out.push(`${entry}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe("Slurm serve domain layer on the test cluster", { timeout: 900_000 }, () => {
  const reach: Reach = (host, port) => openSlurmTunnel(cluster.ssh, host, port);

  before(async () => {
    testCluster = startSlurmCluster();
    env = testCluster.env;
    // The nodes share this machine's file system, as a cluster shares its home or scratch.
    workDir = mkdtempSync("/tmp/pt-slurm-serve-");
    slurm = inputs();
    cluster = tracked(SshSlurmCluster.for(slurm.login));
    workDir = await prepareWorkDir(cluster, workDir);
  });

  after(async () => {
    try {
      await closeTesseractFunctionClients();
      if (submitted.size) await cluster.cancel([...submitted], { timeoutMs: 60_000 });
    } finally {
      await cluster?.close();
      if (workDir) removePodmanStorage(workDir);
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      testCluster?.stop();
      if (testCluster?.started) assert.deepEqual(slurmLeftovers(), [], "the Slurm cluster left on the host");
      console.log(`slurm serve timings:\n  ${timings.join("\n  ")}`);
    }
  });

  test("environment mode: built once per content hash on the login node (cold), then reused (warm)", async () => {
    const spec = { srcDir: HELLO, workDir, runtimeVersion: DEFAULT_RUNTIME_VERSION };
    const cold = await ensureEnvironment(cluster, spec);
    assert.equal(cold.reused, false);
    timings.push(
      `environment (hello, tesseract-core[runtime]==${DEFAULT_RUNTIME_VERSION}) cold: ${cold.seconds.toFixed(1)} s`,
    );
    const warm = await ensureEnvironment(cluster, spec);
    assert.equal(warm.reused, true);
    assert.equal(warm.dir, cold.dir);
    timings.push(`environment warm (reused): ${warm.seconds.toFixed(2)} s`);
    envDir = cold.dir;
    // The hash's name is a symlink to the folder the build made; no other build folder is left.
    const envs = readdirSync(path.join(workDir, "envs"));
    assert.deepEqual(envs.filter((n) => n.startsWith(".env-")).length, 1, `one build folder: ${envs.join(" ")}`);
    assert.ok(existsSync(path.join(envDir, "bin/tesseract-runtime")));
    assert.ok(existsSync(path.join(envDir, "src/tesseract_api.py")));
    // Started now, so its minute passes while the other replicas are tested.
    walltimeStart = startReplicas(
      cluster,
      reach,
      specs(inputs({ walltime: "1" }), "walltime", 1, { mode: "environment", envDir }),
      {
        timeoutMs: 120_000,
      },
    );
    walltimeStart.catch(() => undefined);
  });

  test("a failed build says pip's tail and leaves no folder; two concurrent builds of one hash build once", async () => {
    const bad = mkdtempSync("/tmp/pt-slurm-bad-src-");
    const twin = mkdtempSync("/tmp/pt-slurm-twin-src-");
    try {
      for (const f of ["tesseract_api.py", "tesseract_config.yaml"]) {
        writeFileSync(path.join(bad, f), readFileSync(path.join(HELLO, f)));
        writeFileSync(path.join(twin, f), readFileSync(path.join(HELLO, f)));
      }
      writeFileSync(path.join(bad, "tesseract_requirements.txt"), "pulumi-tesseract-no-such-package-xyz==0.0.1\n");
      const t0 = Date.now();
      await assert.rejects(
        ensureEnvironment(cluster, { srcDir: bad, workDir, runtimeVersion: DEFAULT_RUNTIME_VERSION }),
        (err: EnvironmentBuildError) => {
          assert.ok(err instanceof EnvironmentBuildError, String(err));
          assert.match(err.message, /failed at pip install/);
          assert.match(err.logTail, /pulumi-tesseract-no-such-package-xyz/);
          assert.match(err.hint ?? "", /tesseract_requirements\.txt/);
          return true;
        },
      );
      timings.push(`failed environment build (unknown requirement): ${secs(Date.now() - t0)}`);
      // Two at once for a new hash (a comment makes it new): one builds, the other waits and reuses.
      writeFileSync(
        path.join(twin, "tesseract_api.py"),
        `${readFileSync(path.join(HELLO, "tesseract_api.py"), "utf8")}\n# twin\n`,
      );
      const t1 = Date.now();
      const both = await Promise.all([
        ensureEnvironment(cluster, { srcDir: twin, workDir, runtimeVersion: DEFAULT_RUNTIME_VERSION }),
        ensureEnvironment(cluster, { srcDir: twin, workDir, runtimeVersion: DEFAULT_RUNTIME_VERSION }),
      ]);
      timings.push(`two concurrent builds of one new hash: ${secs(Date.now() - t1)}`);
      assert.deepEqual(both.map((b) => b.reused).sort(), [false, true]);
      const envs = readdirSync(path.join(workDir, "envs"));
      assert.equal(
        envs.filter((n) => n.startsWith(".env-")).length,
        2,
        `only the two good builds' folders: ${envs.join(" ")}`,
      );
      assert.ok(!envs.some((n) => n.endsWith(".link")), "no half-published name");
    } finally {
      rmSync(bad, { recursive: true, force: true });
      rmSync(twin, { recursive: true, force: true });
    }
  });

  test("a build cut short (its time limit) stops on the login node and leaves no folder", async () => {
    const src = mkdtempSync("/tmp/pt-slurm-cut-src-");
    try {
      for (const f of ["tesseract_api.py", "tesseract_config.yaml"])
        writeFileSync(path.join(src, f), readFileSync(path.join(HELLO, f)));
      writeFileSync(
        path.join(src, "tesseract_api.py"),
        `${readFileSync(path.join(HELLO, "tesseract_api.py"), "utf8")}\n# cut\n`,
      );
      await assert.rejects(
        ensureEnvironment(cluster, { srcDir: src, workDir, runtimeVersion: DEFAULT_RUNTIME_VERSION, timeoutMs: 6_000 }),
        /took longer than 6 s and was stopped/,
      );
      // The watchdog on the channel ends the build; its trap removes the folder.
      await until(
        "the cut build's folder removed and its pip gone",
        30_000,
        async () => {
          const left = readdirSync(path.join(workDir, "envs")).filter((n) => n.startsWith(".env-"));
          // "[.]": the pattern must not match the shell running pgrep itself.
          const pips = await cluster.run(`pgrep -f '${workDir}/envs/[.]env-' || true`);
          return left.length === 2 && pips.trim() === "" ? true : undefined;
        },
        500,
      );
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test("a replica that fails at start: its state and output's tail in the error, its job cancelled", async () => {
    const before = new Set(submitted);
    await assert.rejects(
      startReplicas(
        cluster,
        reach,
        specs(inputs({ walltime: "5" }), "broken", 1, { mode: "environment", envDir: `${workDir}/envs/missing` }),
        {
          timeoutMs: 60_000,
        },
      ),
      (err: SlurmReplicaError) => {
        assert.ok(err instanceof SlurmReplicaError, String(err));
        assert.match(err.message, /ended before it served: FAILED on node\d with exit code 1/);
        assert.match(err.outputTail, /envs\/missing\/src: No such file or directory/);
        return true;
      },
    );
    const ids = [...submitted].filter((id) => !before.has(id));
    assert.equal(ids.length, 1);
    assert.ok(!isActive((await cluster.jobs(ids)).get(ids[0]) ?? { id: ids[0], state: "UNKNOWN" }));
  });

  test("two replicas (node1, node2) healthy through tunnels; apply through a per-call tunnel says Hello", async () => {
    assert.ok(envDir, "the environment was built");
    const s = inputs({ nodes: ["node1", "node2"], walltime: "10" });
    const t0 = Date.now();
    helloSpecs = specs(s, "hello", 2, { mode: "environment", envDir });
    replicas = await startReplicas(cluster, reach, helloSpecs, { timeoutMs: 180_000 });
    timings.push(
      `environment mode, 2 replicas submit→healthy: ${secs(Date.now() - t0)} (${replicas.map((r) => `${r.node} ${r.startSeconds.toFixed(1)} s`).join(", ")})`,
    );
    assert.deepEqual(
      replicas.map((r) => r.node),
      ["node1", "node2"],
    );
    assert.deepEqual(
      replicas.map((r) => r.host),
      [env.nodes.node1, env.nodes.node2],
    );
    for (const r of replicas) {
      // From the deploying machine: the package's client through a tunnel opened for this call.
      const t = Date.now();
      const out = await withSlurmTunnel({ kind: "slurm", login: s.login, host: r.host, port: r.port }, (url) =>
        apply({ url, inputs: { name: "Slurm" } }),
      );
      assert.deepEqual(out.outputs, { greeting: "Hello, Slurm!" });
      timings.push(`apply through a per-call tunnel (${r.node}): ${secs(Date.now() - t)}`);
      // `url` is the in-cluster address; this host is on the nodes' bridge, so it answers here too.
      assert.ok(await probeHealth(r.url, 5_000), `${r.url}/health`);
    }
    await closeTesseractFunctionClients();
  });

  test("scancel by hand reads as CANCELLED, the other replica as RUNNING; resubmitting heals it", async () => {
    assert.equal(replicas.length, 2, "the replicas were started");
    await cluster.run(`scancel ${replicas[0].jobId}`);
    const read = await until("the cancelled job ended", 30_000, async () => {
      const r = await readReplicas(cluster, replicas);
      // COMPLETING first (the job's processes are being ended), then CANCELLED.
      return isActive(r[0].job) ? undefined : r;
    });
    assert.equal(read[0].job.state, "CANCELLED");
    assert.match(read[0].text, /^CANCELLED on node1/);
    assert.equal(read[1].job.state, "RUNNING");
    assert.equal(read[1].running, true);
    // What `up` does next: a new job for the cancelled replica (pinned to node1 again), the other kept.
    const t0 = Date.now();
    const healed = await resubmitEnded(cluster, reach, replicas, (i) => helloSpecs[i], { timeoutMs: 120_000 });
    timings.push(`resubmit of the cancelled replica → healthy: ${secs(Date.now() - t0)}`);
    assert.deepEqual(
      healed.replaced.map((r) => [r.replica, r.oldJobId]),
      [[0, replicas[0].jobId]],
    );
    assert.notEqual(healed.replicas[0].jobId, replicas[0].jobId);
    assert.equal(healed.replicas[0].node, "node1");
    assert.equal(healed.replicas[1].jobId, replicas[1].jobId);
    const r0 = healed.replicas[0];
    const out = await withSlurmTunnel({ kind: "slurm", login: slurm.login, host: r0.host, port: r0.port }, (url) =>
      apply({ url, inputs: { name: "again" } }),
    );
    assert.deepEqual(out.outputs, { greeting: "Hello, again!" });
    await closeTesseractFunctionClients();
    replicas = healed.replicas;
  });

  test("a replica whose one-minute walltime runs out reads as TIMEOUT", async () => {
    assert.ok(walltimeStart, "the walltime replica was started");
    [walltimeReplica] = await walltimeStart;
    const t0 = Date.now();
    const read = await until(
      `job ${walltimeReplica.jobId} (walltime 1) ending`,
      150_000,
      async () => {
        const [r] = await readReplicas(cluster, [walltimeReplica as SlurmReplica]);
        return isActive(r.job) ? undefined : r;
      },
      3_000,
    );
    assert.equal(read.job.state, "TIMEOUT", viewJob(read.job).text);
    assert.match(read.text, /walltime.*slurm\.walltime/);
    timings.push(`walltime replica seen as TIMEOUT ${secs(Date.now() - t0)} after this test began`);
  });

  test("podman mode: one replica from a docker-archive on the shared file system answers apply", async () => {
    const image = await ensureHelloImage();
    const archive = path.join(workDir, "hello.tar");
    let t0 = Date.now();
    execFileSync("docker", ["save", image, "-o", archive], { timeout: 300_000 });
    timings.push(`docker save of ${image}: ${secs(Date.now() - t0)}`);
    const podman = podmanJobOptions(workDir);
    const s = inputs({ mode: "podman", walltime: "10", nodes: ["node2"], ...podman });
    t0 = Date.now();
    const [r] = await startReplicas(
      cluster,
      reach,
      specs(s, "hello-podman", 1, { mode: "podman", image: `docker-archive:${archive}` }),
      {
        timeoutMs: 400_000,
      },
    );
    timings.push(`podman mode submit→healthy (image loaded from the archive): ${secs(Date.now() - t0)}`);
    const out = await withSlurmTunnel({ kind: "slurm", login: s.login, host: r.host, port: r.port }, (url) =>
      apply({ url, inputs: { name: "Podman" } }),
    );
    assert.deepEqual(out.outputs, { greeting: "Hello, Podman!" });
    await closeTesseractFunctionClients();
    t0 = Date.now();
    await stopReplicas(cluster, workDir, [r.jobId]);
    timings.push(`podman replica stop (scancel, container removed): ${secs(Date.now() - t0)}`);
    const left = execFileSync("podman", [...podman.runtimeOptions, "ps", "-a", "--format", "{{.Names}}"], {
      encoding: "utf8",
    });
    assert.equal(left.trim(), "", "the job's container went with it");
  });

  test("stopping cancels and waits; nothing is left: no job, no ssh process, no login session", async () => {
    const ids = [...submitted];
    const t0 = Date.now();
    await stopReplicas(cluster, workDir, ids);
    timings.push(`stop (scancel + wait) of ${ids.length} jobs: ${secs(Date.now() - t0)}`);
    const jobs = await cluster.jobs(ids);
    for (const id of ids)
      assert.ok(!["RUNNING", "PENDING", "COMPLETING"].includes(jobs.get(id)?.state ?? ""), `job ${id}`);
    assert.equal((await cluster.run("squeue -h -o %i")).trim(), "");
    assert.ok(!existsSync(path.join(workDir, "jobs", `${ids[0]}.endpoint`)));
    await cluster.close();
    await until("no ssh process of this test", 10_000, async () => (ourSsh().length === 0 ? true : undefined), 200);
    // The ControlMaster daemonizes (its parent is no longer this process): found by its socket path.
    await until("no ControlMaster left", 10_000, async () => (controlMasters().length === 0 ? true : undefined), 200);
    await until(
      "no session on the login node",
      15_000,
      async () => (loginSessions(env).length === 0 ? true : undefined),
      250,
    );
    const envs = readdirSync(path.join(workDir, "envs"));
    assert.ok(!envs.some((n) => n.endsWith(".link")), "no half-published environment");
  });
});
