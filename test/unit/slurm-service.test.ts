// The `slurm` input of TesseractService at check (refusals naming the fields, the source folder,
// the key never echoed), the target's selection, and its diff rules (pure: no cluster here; the
// real cluster is in test/e2e/slurm-service.test.ts).
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { validateInputs } from "../../provider/serve/args";
import { inputsTargetKind, stateTargetKind, targetInputs } from "../../provider/serve/select";
import { slurmServeTarget } from "../../provider/serve/slurm/slurm-target";
import type { SlurmServiceState } from "../../provider/serve/slurm/state";

const ROOT = path.resolve(__dirname, "../..");
const HELLO = path.join(ROOT, "examples/tesseracts/hello");
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5LXRoYXQtbXVzdC1ub3QtbGVhaw==\n-----END OPENSSH PRIVATE KEY-----\n";
const slurm = (extra: Record<string, unknown> = {}) => ({
  login: { host: "login.hpc.example.org", user: "alice", privateKey: KEY },
  srcDir: HELLO,
  ...extra,
});

function check(raw: Record<string, unknown>) {
  return validateInputs({ serviceName: "svc", stack: "dev", ...raw }, new Set(), ROOT);
}

describe("TesseractService slurm input at check", () => {
  test("environment mode: no image needed, srcDir made absolute; the target is Slurm", () => {
    const { inputs, failures } = check({ slurm: slurm({ srcDir: "examples/tesseracts/hello" }) });
    assert.deepEqual(failures, []);
    assert.equal(inputs?.slurm?.srcDir, HELLO);
    assert.ok(inputs && targetInputs(inputs).slurm);
    assert.equal(inputsTargetKind({ slurm: {} }), "slurm");
  });

  test("Docker and Kubernetes inputs are refused by name, with the field to use instead", () => {
    const { failures } = check({
      slurm: slurm(),
      kubernetes: { namespace: "x" },
      docker: { host: "tcp://127.0.0.1:2375" },
      replicas: 2,
      memory: "1g",
    });
    const props = failures.map((f) => f.property).sort();
    assert.deepEqual(props, ["docker", "kubernetes", "memory", "replicas"]);
    assert.match(failures.find((f) => f.property === "replicas")!.reason, /slurm\.replicas/);
    assert.match(failures.find((f) => f.property === "kubernetes")!.reason, /not both/);
  });

  test("environment mode needs a source folder holding tesseract_api.py, and no image", () => {
    const missing = check({ slurm: slurm({ srcDir: undefined }) });
    assert.deepEqual(
      missing.failures.map((f) => f.property),
      ["slurm.srcDir"],
    );
    const bad = check({ slurm: slurm({ srcDir: "/nonexistent/src" }) });
    assert.match(bad.failures[0].reason, /tesseract_api\.py/);
    const image = check({ slurm: slurm(), image: "hello:latest" });
    assert.deepEqual(
      image.failures.map((f) => f.property),
      ["image"],
    );
  });

  test("podman mode needs an image by digest; srcDir is refused there", () => {
    const tag = check({ slurm: slurm({ srcDir: undefined, mode: "podman" }), image: "hello:latest" });
    assert.match(tag.failures[0].reason, /by digest/);
    const digest = `registry.example.org/hello@sha256:${"a".repeat(64)}`;
    assert.deepEqual(check({ slurm: slurm({ srcDir: undefined, mode: "podman" }), image: digest }).failures, []);
    const src = check({ slurm: slurm({ mode: "podman" }), image: digest });
    assert.match(src.failures[0].reason, /srcDir/);
  });

  test("files on the cluster's shared file system: a docker-archive for podman, a .sif for apptainer, neither elsewhere", () => {
    const podman = slurm({ srcDir: undefined, mode: "podman" });
    const apptainer = slurm({ srcDir: undefined, mode: "apptainer" });
    assert.deepEqual(check({ slurm: podman, image: "docker-archive:/shared/hello.tar" }).failures, []);
    assert.deepEqual(check({ slurm: apptainer, image: "/shared/hello.sif" }).failures, []);
    assert.match(check({ slurm: apptainer, image: "docker-archive:/shared/hello.tar" }).failures[0].reason, /\.sif/);
    assert.match(check({ slurm: podman, image: "/shared/hello.sif" }).failures[0].reason, /docker-archive/);
    // A Docker engine or Kubernetes cannot serve them: refused by name, with what to give instead.
    const docker = check({ image: "docker-archive:/shared/hello.tar" }).failures;
    assert.deepEqual(
      docker.map((f) => f.property),
      ["image"],
    );
    assert.match(docker[0].reason, /only a Slurm container mode serves/);
    const several = check({ images: ["hello:1", "/shared/hello.sif"], kubernetes: {} }).failures;
    assert.ok(
      several.some((f) => f.property === "images[1]"),
      JSON.stringify(several),
    );
  });

  test("a bad field names slurm.<field>; the private key is never echoed", () => {
    const { failures } = check({
      slurm: slurm({ walltime: "soon", login: { host: "h", privateKey: "not a key but a secret value" } }),
    });
    const text = JSON.stringify(failures);
    assert.match(text, /slurm\.walltime/);
    assert.match(text, /slurm\.login\.privateKey/);
    assert.ok(!text.includes("secret value"), text);
  });
});

describe("slurm target diff", () => {
  const inputs = check({ slurm: slurm({ replicas: 2 }) }).inputs!;
  const base = (): SlurmServiceState =>
    ({
      ...(inputs as SlurmServiceState),
      serviceId: "pt.dev.svc",
      engine: "alice@login.hpc.example.org:22",
      url: "http://n1:1",
      urls: ["http://n1:1", "http://n2:2"],
      jobIds: ["11", "12"],
      jobs: [11, 12].map((id, i) => ({
        replica: i,
        jobId: String(id),
        name: `pt.dev.svc.${i}`,
        host: `n${i + 1}`,
        port: i + 1,
        url: `http://n${i + 1}:${i + 1}`,
        startSeconds: 1,
        status: "RUNNING",
        text: "RUNNING",
      })),
      slurmServed: { workDir: "/w", mode: "environment" },
    }) as SlurmServiceState;
  const hashed = async () => {
    // The diff compares the source's hash: take it from a diff against itself.
    const { environmentHash } = await import("../../provider/serve/slurm/environment");
    const s = base();
    s.slurmServed.envHash = environmentHash({
      srcDir: HELLO,
      runtimeVersion: (await import("../../provider/build-context/context")).DEFAULT_RUNTIME_VERSION,
      python: "python3",
    });
    return s;
  };

  test("the state says Slurm; nothing changed: no change", async () => {
    const olds = await hashed();
    assert.equal(stateTargetKind(olds), "slurm");
    const d = await slurmServeTarget.diff(olds, { ...inputs });
    assert.deepEqual(d, { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  test("replicas and the key change in place; mode, workDir, host and job settings replace", async () => {
    const olds = await hashed();
    const with_ = (s: Record<string, unknown>) => ({ ...inputs, slurm: { ...inputs.slurm, ...s } });
    const inPlace = await slurmServeTarget.diff(olds, with_({ replicas: 3 }));
    assert.deepEqual([inPlace.changes, inPlace.replaces], [true, []]);
    const key = await slurmServeTarget.diff(olds, with_({ login: { ...inputs.slurm!.login, privateKey: `${KEY}\n` } }));
    assert.deepEqual([key.changes, key.replaces], [true, []]);
    for (const change of [
      { workDir: "/other" },
      { mode: "podman" },
      { login: { host: "other.example.org" } },
      { walltime: "10" },
      { nodes: ["node2"] },
    ]) {
      const d = await slurmServeTarget.diff(olds, with_(change));
      assert.deepEqual(d.replaces, ["slurm"], JSON.stringify(change));
    }
  });

  test("a job read as ended makes a change (up resubmits it)", async () => {
    const olds = await hashed();
    olds.jobs[0].status = "CANCELLED";
    const d = await slurmServeTarget.diff(olds, { ...inputs });
    assert.deepEqual([d.changes, d.replaces], [true, []]);
  });
});
