/**
 * The Slurm serve target's domain layer without a cluster: the `slurm` input's rules (walltime
 * formats, sizes, refused sbatch options, secrets never echoed), the parsing of `scontrol show job
 * -o` and `sacct -P`, what a job's state tells a user, the job scripts of the three modes (also
 * `bash -n`), environment hashing and the build script, and starting replicas against the fake
 * cluster (healthy, ended early with its output's tail, never scheduled), with nothing left.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { jobFromScontrol, parseSacct, parseScontrolJob, viewJob } from "../../provider/serve/slurm/cluster";
import { buildScript, environmentHash, sourceFiles } from "../../provider/serve/slurm/environment";
import {
  checkSlurmTarget,
  type SlurmInputs,
  sbatchOptionProblem,
  walltimeSeconds,
} from "../../provider/serve/slurm/inputs";
import {
  containerImageRef,
  endpointPath,
  jobName,
  jobOutputPath,
  jobScript,
  parseEndpoint,
  parseJobName,
} from "../../provider/serve/slurm/job-script";
import {
  readReplicas,
  resubmitEnded,
  SlurmReplicaError,
  startReplicas,
  stopReplicas,
} from "../../provider/serve/slurm/replicas";
import { SshLogin, shQuote } from "../../provider/serve/slurm/ssh";
import type { Reach } from "../../provider/serve/slurm/tunnel";
import { FakeSlurmCluster } from "../helpers/fake-slurm-cluster";

const LOGIN = { host: "login.hpc.example.org", user: "alice" };
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-very-secret-bytes\n-----END OPENSSH PRIVATE KEY-----\n";
const DIGEST = `registry.example.org/hello@sha256:${"a".repeat(64)}`;

function failures(raw: unknown): { property: string; reason: string }[] {
  const r = checkSlurmTarget(raw);
  return r.ok ? [] : r.failures;
}
function valid(raw: Record<string, unknown>): SlurmInputs {
  const r = checkSlurmTarget({ login: LOGIN, ...raw });
  assert.ok(r.ok, `expected valid: ${JSON.stringify(r.ok ? "" : r.failures)}`);
  return r.value;
}

describe("slurm input", () => {
  test("a full input parses", () => {
    const v = valid({
      login: {
        ...LOGIN,
        port: 2222,
        privateKey: KEY,
        knownHosts: "login.hpc.example.org ssh-ed25519 AAAA",
        hostKeyChecking: "strict",
      },
      partition: "gpu",
      account: "proj-42",
      walltime: "1-12:00:00",
      cpusPerTask: 4,
      memory: "16G",
      gpus: 2,
      gpuType: "a100",
      replicas: 2,
      nodes: ["node1", "node2"],
      constraint: "avx2&ib",
      sbatchOptions: ["--qos=normal", "--exclusive", "--mail-type=END"],
      workDir: "/scratch/alice/tesseracts",
      mode: "environment",
      python: "/opt/python/3.11/bin/python3",
      setup: ["module load python/3.11"],
      startTimeout: 900,
    });
    assert.equal(v.gpus, 2);
  });

  test("walltime: every Slurm format, and what is not one", () => {
    const ok: [string, number][] = [
      ["30", 1800],
      ["5:30", 330],
      ["02:00:00", 7200],
      ["1-12", 129600],
      ["1-12:30", 131400],
      ["2-00:00:01", 172801],
      ["90", 5400],
    ];
    for (const [t, s] of ok) assert.equal(walltimeSeconds(t), s, t);
    for (const t of [
      "",
      "0",
      "00:00",
      "1:60",
      "1:00:60",
      "1:60:00",
      "1-24",
      "1-",
      "-1",
      "1h",
      "1.5",
      "1-2:3:4:5",
      "UNLIMITED",
    ])
      assert.equal(walltimeSeconds(t), undefined, t);
    const f = failures({ login: LOGIN, walltime: "2h" });
    assert.equal(f.length, 1);
    assert.equal(f[0].property, "slurm.walltime");
    assert.match(f[0].reason, /"MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS"/);
    assert.match(f[0].reason, /got "2h"/);
    assert.match(f[0].reason, /fix: e\.g\./);
  });

  test("memory, gpus, cpus, replicas, names: field, value and fix", () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ memory: "4GB" }, "slurm.memory", /K, M, G or T.*got "4GB"/],
      [{ memory: "0" }, "slurm.memory", /got "0"/],
      [{ gpus: -1 }, "slurm.gpus", /0 or more.*got -1/],
      [{ gpus: 1.5 }, "slurm.gpus", /whole number/],
      [{ cpusPerTask: 0 }, "slurm.cpusPerTask", /at least 1/],
      [{ replicas: 0 }, "slurm.replicas", /at least 1/],
      [{ partition: "gpu queue" }, "slurm.partition", /sinfo/],
      [{ nodes: [] }, "slurm.nodes", /at least one node/],
      [{ gpuType: "a100" }, "slurm.gpuType", /needs gpus/],
      [{ workDir: "scratch/x" }, "slurm.workDir", /absolute path/],
      [{ mode: "docker" }, "slurm.mode", /"environment", "podman" or "apptainer"/],
      [{ mode: "podman", python: "python3" }, "slurm.python", /environment mode only/],
      [{ runtimeOptions: ["--root=/x"] }, "slurm.runtimeOptions", /podman.*apptainer/],
      [{ setup: ["a\nb"] }, "slurm.setup[0]", /one line/],
      [{ login: { host: "-oProxyCommand=x" } }, "slurm.login.host", /host name/],
      [{ login: { host: "h", port: 70000 } }, "slurm.login.port", /1-65535/],
      [{ login: { host: "h", hostKeyChecking: "no" } }, "slurm.login.hostKeyChecking", /"strict" or "accept-new"/],
      [{ surprise: 1 }, "slurm", /surprise.*fix: remove it/],
    ];
    for (const [raw, property, reason] of cases) {
      const f = failures({ login: LOGIN, ...raw });
      assert.ok(f.length >= 1, `${JSON.stringify(raw)} refused`);
      assert.equal(f[0].property, property, JSON.stringify(raw));
      assert.match(f[0].reason, reason, JSON.stringify(raw));
    }
  });

  test("sbatchOptions: typed --key=value, and the ones the target sets are refused with the input to use", () => {
    for (const ok of [
      "--qos=normal",
      "--exclusive",
      "--mail-type=END,FAIL",
      "--reservation=maint_1",
      "--signal=B:TERM@60",
    ])
      assert.equal(sbatchOptionProblem(ok), undefined, ok);
    assert.match(sbatchOptionProblem("--time=10") ?? "", /set by the target.*slurm\.walltime/);
    assert.match(sbatchOptionProblem("--gres=gpu:1") ?? "", /slurm\.gpus/);
    assert.match(sbatchOptionProblem("--job-name=x") ?? "", /set by the target itself \(fix: remove it\)/);
    assert.match(sbatchOptionProblem("--nodes=2") ?? "", /slurm\.replicas/);
    assert.match(sbatchOptionProblem("-t 5") ?? "", /-t is set by the target/);
    assert.match(sbatchOptionProblem("-q normal") ?? "", /long option/);
    assert.match(sbatchOptionProblem("--qos normal") ?? "", /"--key=value"/);
    assert.match(sbatchOptionProblem("--comment=a b") ?? "", /no spaces/);
    assert.match(sbatchOptionProblem("--comment=$(rm -rf ~)") ?? "", /no spaces or quotes/);
    const f = failures({ login: LOGIN, sbatchOptions: ["--qos=normal", "--mem=4G"] });
    assert.equal(f[0].property, "slurm.sbatchOptions[1]");
    assert.match(f[0].reason, /slurm\.memory.*got "--mem=4G"/);
  });

  test("the private key is never echoed, and key content and key file exclude each other", () => {
    const bad = failures({ login: { ...LOGIN, privateKey: "not-a-key-but-secret-42" } });
    assert.equal(bad[0].property, "slurm.login.privateKey");
    assert.doesNotMatch(JSON.stringify(bad), /secret-42/);
    const both = failures({ login: { ...LOGIN, privateKey: KEY, identityFile: "~/.ssh/id_ed25519" } });
    assert.equal(both[0].property, "slurm.login.identityFile");
    assert.doesNotMatch(JSON.stringify(both), /very-secret-bytes/);
    const other = failures({ login: { ...LOGIN, privateKey: KEY }, walltime: "x" });
    assert.doesNotMatch(JSON.stringify(other), /very-secret-bytes/);
  });
});

const RUNNING_LINE =
  "JobId=1 JobName=pt.dev.x.0 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:02 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-07T06:50:55 EligibleTime=2026-12-07T06:50:55 AccrueTime=2026-12-07T06:50:55 StartTime=2026-12-07T06:50:55 EndTime=2026-12-07T06:51:55 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-07T06:50:55 Scheduler=Main Partition=debug AllocNode:Sid=localhost:18606 ReqNodeList=node2 ExcNodeList=(null) NodeList=node2 BatchHost=node2 NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/root StdErr=/tmp/pt-scontrol-1.out StdIn=/dev/null StdOut=/tmp/pt-scontrol-1.out Power= ";

describe("job states", () => {
  test("scontrol show job -o (Slurm 22.05) parses into id, name, state, node, exit, output", () => {
    const fields = parseScontrolJob(RUNNING_LINE);
    assert.equal(fields["AllocNode:Sid"], "localhost:18606");
    assert.equal(fields["Socks/Node"], "*");
    const job = jobFromScontrol(fields);
    assert.deepEqual(
      { ...job },
      {
        id: "1",
        name: "pt.dev.x.0",
        state: "RUNNING",
        reason: undefined,
        node: "node2",
        exitCode: "0:0",
        stdout: "/tmp/pt-scontrol-1.out",
        timeLimit: "00:01:00",
        startTime: "2026-12-07T06:50:55",
      },
    );
    const spaced = jobFromScontrol(
      parseScontrolJob("JobId=7 JobName=my job JobState=PENDING Reason=Resources NodeList=(null)"),
    );
    assert.equal(spaced.name, "my job");
    assert.equal(spaced.reason, "Resources");
    assert.equal(spaced.node, undefined);
  });

  test("sacct -P lines (older jobs, where accounting runs)", () => {
    const jobs = parseSacct(
      "12|pt.s.r.0|CANCELLED by 1000|None|node3|0:15|01:00:00|2026-12-07T06:00:00\n13|x|TIMEOUT|TimeLimit|node1|0:0|00:01:00|2026-12-07T06:00:00\ngarbage\n",
    );
    assert.equal(jobs.get("12")?.state, "CANCELLED");
    assert.equal(jobs.get("12")?.node, "node3");
    assert.equal(jobs.get("13")?.state, "TIMEOUT");
    assert.equal(jobs.size, 2);
  });

  test("each state says what it means and what to do", () => {
    const v = (state: string, more: object = {}) => viewJob({ id: "5", state, node: "node1", ...more });
    assert.deepEqual(v("RUNNING"), { phase: "running", text: "RUNNING on node1" });
    assert.deepEqual(viewJob({ id: "5", state: "PENDING", reason: "Resources" }), {
      phase: "pending",
      text: "PENDING (Resources)",
    });
    assert.match(v("TIMEOUT", { timeLimit: "00:01:00" }).text, /walltime \(00:01:00\).*raise slurm\.walltime/);
    assert.match(v("CANCELLED").text, /^CANCELLED on node1: scancel/);
    assert.match(v("NODE_FAIL").text, /node node1 failed/);
    assert.match(v("PREEMPTED").text, /higher priority/);
    assert.match(
      v("FAILED", { exitCode: "1:0", reason: "NonZeroExitCode" }).text,
      /FAILED on node1 with exit code 1 \(NonZeroExitCode\)/,
    );
    assert.match(v("OUT_OF_MEMORY").text, /raise slurm\.memory/);
    assert.equal(v("UNKNOWN").phase, "ended");
    assert.equal(viewJob({ id: "5", state: "CONFIGURING" }).phase, "pending");
  });
});

describe("job scripts", () => {
  const base = (raw: Record<string, unknown>) => valid(raw);

  test("environment mode: #SBATCH lines from the inputs, the runtime from the environment, endpoint written", () => {
    const slurm = base({
      partition: "debug",
      account: "proj",
      walltime: "1:00:00",
      cpusPerTask: 2,
      memory: "4G",
      gpus: 1,
      nodes: ["node1", "node2"],
      sbatchOptions: ["--qos=normal"],
    });
    const script = jobScript({
      slurm,
      workDir: "/work/alice/pt",
      name: jobName("dev", "hello", 1),
      replica: 1,
      serve: { mode: "environment", envDir: "/work/alice/pt/envs/0123456789abcdef" },
      env: { TESSERACT_OUTPUT_FORMAT: "json" },
    });
    const sbatch = script.split("\n").filter((l) => l.startsWith("#SBATCH"));
    assert.deepEqual(sbatch, [
      "#SBATCH --job-name=pt.dev.hello.1",
      "#SBATCH --output=/work/alice/pt/jobs/%j.out",
      "#SBATCH --chdir=/work/alice/pt",
      "#SBATCH --nodes=1",
      "#SBATCH --ntasks=1",
      "#SBATCH --cpus-per-task=2",
      "#SBATCH --partition=debug",
      "#SBATCH --account=proj",
      "#SBATCH --time=1:00:00",
      "#SBATCH --mem=4G",
      "#SBATCH --gres=gpu:1",
      "#SBATCH --nodelist=node2",
      "#SBATCH --qos=normal",
    ]);
    assert.match(
      script,
      /^export TESSERACT_API_PATH=\/work\/alice\/pt\/envs\/0123456789abcdef\/src\/tesseract_api\.py$/m,
    );
    assert.match(
      script,
      /^exec \/work\/alice\/pt\/envs\/0123456789abcdef\/bin\/tesseract-runtime serve --host 0\.0\.0\.0 --port "\$port"$/m,
    );
    assert.match(script, /^export TESSERACT_OUTPUT_FORMAT=json$/m);
    assert.match(script, /endpoint=\/work\/alice\/pt\/jobs\/"\$SLURM_JOB_ID"\.endpoint/);
    execFileSync("bash", ["-n"], { input: script });
  });

  test("podman and apptainer modes run the image by digest; GPUs and runtime options reach them", () => {
    const podman = jobScript({
      slurm: base({ mode: "podman", gpus: 2, gpuType: "a100", runtimeOptions: ["--root=/scratch/c"] }),
      workDir: "/w",
      name: "pt.s.r.0",
      replica: 0,
      serve: { mode: "podman", image: DIGEST },
    });
    assert.match(podman, /^#SBATCH --gres=gpu:a100:2$/m);
    assert.match(podman, /podman --root=\/scratch\/c run --rm --name "\$name" --network host/);
    assert.match(podman, /--device nvidia\.com\/gpu=all/);
    assert.match(podman, new RegExp(`docker://${DIGEST.replace(/[.]/g, "\\.")} serve --host 0\\.0\\.0\\.0`));
    assert.match(podman, /trap 'pt_stop; exit 143' TERM INT/);
    execFileSync("bash", ["-n"], { input: podman });
    const apptainer = jobScript({
      slurm: base({ mode: "apptainer", gpus: 1 }),
      workDir: "/w",
      name: "pt.s.r.0",
      replica: 0,
      serve: { mode: "apptainer", image: DIGEST },
    });
    assert.match(apptainer, /exec apptainer run --writable-tmpfs --nv/);
    assert.match(
      apptainer,
      /docker:\/\/registry\.example\.org\/hello@sha256:a{64} serve --host 0\.0\.0\.0 --port "\$port"/,
    );
    execFileSync("bash", ["-n"], { input: apptainer });
    assert.equal(containerImageRef("podman", "docker-archive:/shared/hello.tar"), "docker-archive:/shared/hello.tar");
    assert.equal(containerImageRef("apptainer", "/shared/hello.sif"), "/shared/hello.sif");
    assert.throws(() => containerImageRef("podman", "hello:latest"), /not a pushed image by digest.*docker-archive/);
    assert.throws(
      () => containerImageRef("apptainer", "docker-archive:/x.tar"),
      (e: Error & { property?: string }) => e.property === "image",
    );
  });

  test("names, paths and the endpoint line", () => {
    assert.equal(jobName("my stack", "svc/a", 3), "pt.my-stack.svc-a.3");
    assert.deepEqual(parseJobName("pt.dev.hello.12"), { stack: "dev", resource: "hello", replica: 12 });
    assert.equal(parseJobName("someone-else"), undefined);
    assert.equal(jobOutputPath("/w", "42"), "/w/jobs/42.out");
    assert.deepEqual(parseEndpoint("10.231.0.11 41234\n"), { host: "10.231.0.11", port: 41234 });
    assert.equal(parseEndpoint("10.231.0.11"), undefined);
    assert.equal(parseEndpoint("10.0.0.1 99999\n"), undefined);
  });
});

describe("environment mode", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pt-slurm-env-"));
    writeFileSync(path.join(dir, "tesseract_api.py"), "x = 1\n");
    writeFileSync(path.join(dir, "tesseract_config.yaml"), "name: t\n");
    mkdirSync(path.join(dir, "__pycache__"));
    writeFileSync(path.join(dir, "__pycache__", "a.pyc"), "junk");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the content hash covers the source, the runtime version and python; caches do not count", () => {
    const spec = { srcDir: dir, runtimeVersion: "1.15.0" };
    const h = environmentHash(spec);
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.deepEqual(sourceFiles(dir), ["tesseract_api.py", "tesseract_config.yaml"]);
    writeFileSync(path.join(dir, "__pycache__", "b.pyc"), "more junk");
    assert.equal(environmentHash(spec), h);
    assert.notEqual(environmentHash({ ...spec, runtimeVersion: "1.14.0" }), h);
    assert.notEqual(environmentHash({ ...spec, python: "python3.12" }), h);
    writeFileSync(path.join(dir, "tesseract_api.py"), "x = 2\n");
    assert.notEqual(environmentHash(spec), h);
  });

  test("the build script locks, builds aside, publishes by rename and cleans up on failure", () => {
    const script = buildScript({
      workDir: "/w",
      hash: "0123456789abcdef",
      size: 10240,
      python: "python3",
      runtimeVersion: "1.15.0",
      lockWaitSeconds: 60,
    });
    execFileSync("bash", ["-n"], { input: script });
    assert.match(script, /flock -w 60 9/);
    assert.match(script, /mktemp -d "\$envs\/\.env-\$hash-XXXXXX"/);
    assert.match(script, /'tesseract-core\[runtime\]==1\.15\.0'/);
    assert.match(script, /mv -T "\$envs\/\.\$hash\.link" "\$final"/);
    assert.match(script, /rm -rf "\$tmp"/);
    assert.match(script, /kill -TERM 0/);
  });
});

describe("replicas on the fake cluster", () => {
  let server: Server;
  let port = 0;
  const fake = () => new FakeSlurmCluster();
  const reach: Reach = async (host, p) => ({
    url: `http://${host}:${p}`,
    connections: () => 0,
    lastError: () => undefined,
    close: async () => undefined,
  });
  before(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const specs = (n: number, slurm: SlurmInputs) =>
    Array.from({ length: n }, (_, i) => ({
      slurm,
      workDir: "/w",
      name: jobName("dev", "hello", i),
      replica: i,
      serve: { mode: "environment" as const, envDir: "/w/envs/h" },
    }));

  test("two replicas: submitted, running, endpoint read, healthy; read and stop", async () => {
    const c = fake();
    c.onSubmit = (job) => {
      setTimeout(() => {
        c.set(job.id, { state: "RUNNING", reason: undefined, node: `node${Number(job.id) - 99}` });
        c.files.set(endpointPath("/w", job.id), `127.0.0.1 ${port}\n`);
      }, 50);
    };
    const replicas = await startReplicas(c, reach, specs(2, valid({ nodes: ["node1", "node2"] })), {
      timeoutMs: 10_000,
    });
    assert.deepEqual(
      replicas.map((r) => [r.jobId, r.node, r.url]),
      [
        ["100", "node1", `http://127.0.0.1:${port}`],
        ["101", "node2", `http://127.0.0.1:${port}`],
      ],
    );
    assert.match(c.jobsById.get("101")?.script ?? "", /--nodelist=node2/);
    c.set("100", { state: "TIMEOUT", timeLimit: "00:01:00" });
    const read = await readReplicas(c, replicas);
    assert.deepEqual(
      read.map((r) => [r.running, r.job.state]),
      [
        [false, "TIMEOUT"],
        [true, "RUNNING"],
      ],
    );
    assert.match(read[0].text, /walltime/);
    await stopReplicas(c, "/w", ["100", "101"]);
    assert.equal(c.active().length, 0);
    assert.ok(c.commands.some((cmd) => cmd.startsWith("rm -rf /w/jobs/100.endpoint")));
  });

  test("up after jobs ended: the ended replica gets a new job, the running one is kept", async () => {
    const c = fake();
    c.onSubmit = (job) => {
      c.set(job.id, { state: "RUNNING", reason: undefined, node: "node1" });
      c.files.set(endpointPath("/w", job.id), `127.0.0.1 ${port}\n`);
    };
    const s = valid({});
    const replicas = await startReplicas(c, reach, specs(2, s), { timeoutMs: 5_000 });
    c.set("101", { state: "PREEMPTED" });
    const all = specs(2, s);
    const out = await resubmitEnded(c, reach, replicas, (i) => all[i], { timeoutMs: 5_000 });
    assert.deepEqual(
      out.replicas.map((r) => [r.replica, r.jobId]),
      [
        [0, "100"],
        [1, "102"],
      ],
    );
    assert.equal(out.replaced.length, 1);
    assert.equal(out.replaced[0].oldJobId, "101");
    assert.match(out.replaced[0].was, /^PREEMPTED/);
    const again = await resubmitEnded(c, reach, out.replicas, (i) => all[i]);
    assert.deepEqual(again.replaced, []);
  });

  test("a job that fails before serving: its state, exit code and output tail; every job cancelled", async () => {
    const c = fake();
    c.onSubmit = (job) => {
      if (job.id === "101") {
        c.set(job.id, { state: "FAILED", exitCode: "1:0", reason: "NonZeroExitCode", node: "node2" });
        c.files.set(
          jobOutputPath("/w", job.id),
          "Traceback (most recent call last):\nModuleNotFoundError: No module named 'numpy'\n",
        );
      }
    };
    await assert.rejects(
      startReplicas(c, reach, specs(2, valid({})), { timeoutMs: 5_000 }),
      (err: SlurmReplicaError) => {
        assert.ok(err instanceof SlurmReplicaError);
        assert.equal(err.state, "FAILED");
        assert.match(err.message, /Slurm job 101 \(pt\.dev\.hello\.1\).*FAILED on node2 with exit code 1/);
        assert.match(err.message, /No module named 'numpy'/);
        return true;
      },
    );
    assert.deepEqual(c.cancelled.sort(), ["100", "101"]);
    assert.equal(c.active().length, 0);
  });

  test("a job never scheduled: PENDING with its reason after the start timeout, and cancelled", async () => {
    const c = fake();
    c.onSubmit = (job) => c.set(job.id, { reason: "Resources" });
    await assert.rejects(startReplicas(c, reach, specs(1, valid({})), { timeoutMs: 700 }), (err: SlurmReplicaError) => {
      assert.match(err.message, /did not answer GET \/health within 0\.7 s: PENDING \(Resources\)/);
      assert.match(err.hint ?? "", /no free resources/);
      return true;
    });
    assert.equal(c.active().length, 0);
  });
});

describe("ssh to the login node", () => {
  test("argv: batch mode, strict host keys, the key in a private 0600 file removed on close, known_hosts of the input", async () => {
    const login = new SshLogin(
      { host: "login.hpc", port: 2222, user: "alice", privateKey: KEY, knownHosts: "login.hpc ssh-ed25519 AAAAC3" },
      false,
    );
    const o = login.options();
    const at = (flag: string) => o[o.indexOf(flag) + 1];
    assert.ok(o.includes("BatchMode=yes"));
    assert.ok(o.includes("StrictHostKeyChecking=yes"));
    assert.ok(o.includes("IdentitiesOnly=yes"));
    assert.equal(at("-p"), "2222");
    assert.equal(at("-l"), "alice");
    const key = at("-i");
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(readFileSync(key, "utf8"), KEY);
    assert.equal(statSync(path.dirname(key)).mode & 0o777, 0o700);
    const known = o.find((x) => x.startsWith("UserKnownHostsFile="))?.split("=")[1] ?? "";
    assert.equal(readFileSync(known, "utf8"), "login.hpc ssh-ed25519 AAAAC3\n");
    assert.ok(!o.some((x) => x.includes("very-secret-bytes")), "the key's content is never an argument");
    assert.equal(login.address, "alice@login.hpc:2222");
    await login.close();
    assert.equal(existsSync(path.dirname(key)), false, "the private folder is gone");
    const accept = new SshLogin({ host: "h", hostKeyChecking: "accept-new", identityFile: "/k" }, false);
    assert.ok(accept.options().includes("StrictHostKeyChecking=accept-new"));
    assert.ok(accept.options().includes("/k"));
    await accept.close();
  });

  test("remote words are quoted for the shell", () => {
    assert.equal(shQuote("/w/envs/abc"), "/w/envs/abc");
    assert.equal(shQuote("a b"), "'a b'");
    assert.equal(shQuote("it's"), "'it'\\''s'");
  });
});
