/**
 * Engine faults, on a private dockerd (never the shared one): a TesseractImage and a
 * TesseractService in one real stack, then
 *   1. dockerd stopped during a (cold) build, restarted;
 *   2. `pulumi up` interrupted (SIGINT) mid-build;
 *   3. dockerd stopped during a service create, restarted;
 *   4. the container killed by hand;  5. removed by hand;  6. the image removed by hand;
 *   7. the service's network removed by hand.
 * After each fault `pulumi up --refresh` must end in the declared state: the image present once,
 * exactly the declared containers running and healthy, nothing duplicated. Every state export is
 * scanned for the secret environment value; `destroy` must leave nothing of ours on the engine.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { TesseractClient, TesseractConnectionError, TesseractServerError } from "../../provider/client";
import { loadTest } from "../helpers/faults/load";
import { engineError, settle, sleep, waitFor } from "../helpers/faults/outcome";
import { findSecrets, Report, secretContexts, toleratingMonitorTermination } from "../helpers/faults/report";
import { describeLeaks, dockerLeaks, stackCheckpointText, withoutSecretValues } from "../helpers/leaks";
import { PrivateDockerd } from "../helpers/private-dockerd";
import { createTestStack, type TestStack } from "../helpers/stack";

const report = new Report("docker-faults");
const FAULTY = path.join(__dirname, "../helpers/fixtures/faulty");
const TAG = "pt-faults";
const IMAGE = `pt-faults-faulty:${TAG}`;
const SECRET_TOKEN = `pt-secret-token-${process.pid}-c0ffee`;

/** What the program declares; tests change it between runs. */
const want = {
  description: "faults run 1",
  service: false,
  network: undefined as string | undefined,
  /** Also declare an image built against a password-protected index that refuses connections. */
  secretIndex: false,
};
const INDEX_PASSWORD = `pt-index-pw-${process.pid}`;

let dockerd: PrivateDockerd;
let ts: TestStack | undefined;
let destroyed = false;
const output: string[] = [];

async function program() {
  const { TesseractImage } = await import("../../provider/resources/tesseract-image");
  const { TesseractService } = await import("../../provider/resources/tesseract-service");
  const docker = dockerd.connection;
  const image = new TesseractImage("faulty", {
    srcDir: FAULTY,
    tag: TAG,
    buildNetwork: "host",
    configOverride: { description: want.description },
    docker,
  });
  if (want.secretIndex) {
    new TesseractImage("secret-index", {
      srcDir: FAULTY,
      tag: "pt-faults-secret-index",
      buildNetwork: "host",
      configOverride: { name: "pt-faults-secret-index" },
      pipIndexUrl: pulumi.secret(`http://pt-user:${INDEX_PASSWORD}@127.0.0.1:9/simple`),
      docker,
    });
  }
  if (!want.service) return { imageId: image.imageId };
  const svc = new TesseractService("svc", {
    image: image.imageName,
    docker,
    environment: { PT_TOKEN: pulumi.secret(SECRET_TOKEN) },
    network: want.network,
    startupTimeout: 60,
  });
  return { imageId: image.imageId, url: svc.url, containerIds: svc.containerIds };
}

const errorTexts: Record<string, string> = {};

async function up(opts: { refresh?: boolean; signal?: AbortSignal } = {}) {
  const stack = (ts as TestStack).stack;
  return stack.up({ onOutput: (s) => output.push(s), refresh: opts.refresh, signal: opts.signal, color: "never" });
}

/** Secrets in the exported state and in everything Pulumi printed so far. */
async function scanSecrets(where: string): Promise<void> {
  // What is stored (secrets encrypted), plus the decrypted export minus the values held as secrets.
  const stack = (ts as TestStack).stack;
  const exported = withoutSecretValues(JSON.stringify(await stack.exportStack()));
  const state = `${stackCheckpointText("pulumi-tesseract-tests", stack.name)}\n${exported}`;
  report.add("stacksScanned");
  const text = output.join("");
  const inState = findSecrets(state, [SECRET_TOKEN, INDEX_PASSWORD]);
  const inOutput = findSecrets(text, [SECRET_TOKEN, INDEX_PASSWORD]);
  report.add("secretsFound", inState.length + inOutput.length);
  for (const s of [SECRET_TOKEN, INDEX_PASSWORD]) {
    for (const c of [...secretContexts(state, s), ...secretContexts(text, s)]) report.note(`${where}: ${c}`);
  }
  assert.deepEqual({ inState, inOutput }, { inState: [], inOutput: [] }, `${where}: a secret appears in plain text`);
}

/** The declared state: the image once (by tag), and when a service is declared, one healthy container. */
async function assertDeclared(where: string, outputs?: Record<string, { value: unknown }>): Promise<void> {
  const client = dockerd.client;
  const images = (await client.listImages()).filter((i) => (i.RepoTags ?? []).includes(IMAGE));
  assert.equal(images.length, 1, `${where}: ${IMAGE} present ${images.length} times`);
  const containers = await client.listContainers({ label: ["pulumi-tesseract.managed"] }, true);
  if (!want.service) {
    assert.equal(containers.length, 0, `${where}: unexpected containers ${containers.map((c) => c.Id)}`);
    return;
  }
  assert.equal(
    containers.length,
    1,
    `${where}: ${containers.length} service containers (duplicates): ${containers.map((c) => `${c.Id.slice(0, 12)} ${c.State}`).join(", ")}`,
  );
  assert.equal(containers[0].State, "running", `${where}: container is ${containers[0].State}`);
  const url = outputs?.url?.value as string | undefined;
  assert.ok(url, `${where}: no url output`);
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e);
  assert.ok(res instanceof Response && res.ok, `${where}: ${url}/health does not answer: ${res}`);
  const ids = outputs?.containerIds?.value as string[];
  assert.deepEqual(ids, [containers[0].Id], `${where}: state's containerIds do not match the engine`);
}

/** Removes service containers that the state does not list; returns them as `id status`. */
async function removeStrays(outputs: Record<string, { value: unknown }>): Promise<string[]> {
  const known = new Set((outputs.containerIds?.value as string[] | undefined) ?? []);
  const strays = (await dockerd.client.listContainers({ label: ["pulumi-tesseract.service"] }, true)).filter(
    (c) => !known.has(c.Id),
  );
  for (const c of strays) await dockerd.client.removeContainer(c.Id);
  return strays.map((c) => `${c.Id.slice(0, 12)} ${c.State}`);
}

before(async () => {
  dockerd = await PrivateDockerd.start({ name: "faults" });
  ts = await createTestStack("faults-docker", program);
});

after(async () => {
  try {
    if (ts && !destroyed) {
      await ts.stack.destroy({ onOutput: (s) => output.push(s) }).catch((e) => output.push(`destroy: ${e}`));
      const leaks = await dockerLeaks(dockerd.client).catch(() => undefined);
      if (leaks) report.add("leaksFound", leaks.total);
    }
    await ts?.dispose();
  } finally {
    await dockerd?.dispose();
  }
});

describe("engine faults on a private dockerd", { concurrency: false }, () => {
  test("1. dockerd stopped during a build, then restarted", async () => {
    await report.fault("dockerd stopped during a build", async () => {
      const run = settle(up());
      // A RUN step runs in an intermediate container: that is "during the build".
      await waitFor(
        "a build step container",
        async () => (await dockerd.client.listContainers({}, false)).length > 0,
        120_000,
      );
      await sleep(1500);
      await dockerd.stopDaemon();
      const { error } = await run;
      assert.ok(error, "pulumi up succeeded although dockerd was stopped mid-build");
      errorTexts.build = engineError(error);
      report.note(`dockerd stopped mid-build: pulumi up failed with: ${errorTexts.build}`);
      await dockerd.startDaemon();
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after dockerd restart", res.outputs);
      // The classic builder's intermediate container of the interrupted step stays behind (Exited):
      // dockerd died before its `forcerm`. It carries no label, so the provider cannot tell it from
      // anyone else's; recorded, not counted as a leak of ours.
      const leftovers = await dockerd.client.listContainers({}, true);
      report.metric("unlabelled build containers left by the interrupted build", leftovers.length);
      await scanSecrets("after fault 1");
    });
  });

  test("2. pulumi up interrupted (SIGINT) mid-build, then run again", async () => {
    await report.fault("SIGINT during pulumi up (build)", async () => {
      want.description = "faults run 2";
      await dockerd.startDaemon();
      const r = await toleratingMonitorTermination(report, async () => {
        const ac = new AbortController();
        const run = settle(up({ signal: ac.signal }));
        await waitFor(
          "a build step container",
          async () => (await dockerd.client.listContainers({}, false)).length > 0,
          120_000,
          50,
        );
        ac.abort();
        return run;
      });
      const outcome = r.error
        ? `failed: ${engineError(r.error) || r.error.message.split("\n")[0]}`
        : `completed: ${r.value?.summary.result}`;
      report.note(`up after SIGINT mid-build: ${outcome}`);
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after SIGINT + up", res.outputs);
      const dangling = (await dockerd.client.listImages()).filter((i) => !(i.RepoTags ?? []).length);
      report.metric("untagged images after fault 2", dangling.length);
    });
  });

  test("3. dockerd stopped during a service create, then restarted", async () => {
    await report.fault("dockerd stopped during a service create", async () => {
      want.service = true;
      await dockerd.startDaemon();
      const run = settle(up());
      await waitFor(
        "the service container",
        async () => (await dockerd.client.listContainers({ label: ["pulumi-tesseract.service"] }, true)).length > 0,
        120_000,
        50,
      );
      await dockerd.stopDaemon();
      // The stop (SIGTERM: dockerd stops its containers first) races with the health check: the
      // create either fails (engine gone) or completes just before. Both must recover.
      const { error, value } = await run;
      if (error) errorTexts.service = engineError(error);
      report.note(
        `dockerd stopped during service create: pulumi up ${error ? `failed with: ${errorTexts.service}` : value?.summary.result}`,
      );
      await dockerd.startDaemon();
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      // Containers of ours that the state does not know (left by the failed create) are
      // duplicates: counted, then removed so that the later faults are judged on their own.
      const strays = await removeStrays(res.outputs);
      report.metric("duplicate containers after dockerd stop during service create", strays.length);
      await scanSecrets("after fault 3");
      await assertDeclared("after dockerd restart (service)", res.outputs);
      assert.deepEqual(strays, [], "the failed create left containers that the next up did not remove");
    });
  });

  test("4. the container killed by hand", async () => {
    await dockerd.startDaemon();
    await report.fault("container killed by hand", async () => {
      const [c] = await dockerd.client.listContainers({ label: ["pulumi-tesseract.service"] }, true);
      await dockerd.client.call("POST", `/containers/${c.Id}/kill`, { query: { signal: "SIGKILL" } });
      await waitFor(
        "the container to stop",
        async () => !(await dockerd.client.inspectContainer(c.Id))?.State.Running,
        20_000,
      );
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after kill", res.outputs);
    });
  });

  test("5. the container removed by hand", async () => {
    await report.fault("container removed by hand", async () => {
      const [c] = await dockerd.client.listContainers({ label: ["pulumi-tesseract.service"] }, true);
      await dockerd.client.removeContainer(c.Id);
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after rm", res.outputs);
    });
  });

  test("6. the image removed by hand", async () => {
    await report.fault("image removed by hand", async () => {
      await dockerd.client.removeImage(IMAGE, { force: true });
      const res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after rmi", res.outputs);
    });
  });

  test("the service binds 127.0.0.1, runs with debug off, survives 1,000 calls at concurrency 32", async () => {
    await dockerd.startDaemon();
    const res = await up({ refresh: true });
    const url = res.outputs.url?.value as string;
    const [c] = await dockerd.client.listContainers({ label: ["pulumi-tesseract.service"] }, true);
    const info = await dockerd.client.inspectContainer(c.Id);
    const bindings = Object.values(info?.HostConfig?.PortBindings ?? {}).flat() as { HostIp: string }[];
    assert.ok(bindings.length > 0, "no published port");
    for (const b of bindings) assert.equal(b.HostIp, "127.0.0.1", `published on ${b.HostIp}`);
    const env = info?.Config?.Env ?? [];
    assert.ok(!env.includes("TESSERACT_DEBUG=1"), "debug is on by default");
    assert.ok(
      !Object.keys(info?.HostConfig?.PortBindings ?? {}).includes("5678/tcp"),
      "debugpy port published by default",
    );
    // A raising apply: 500 without traceback (debug off).
    const client = new TesseractClient(url, { connections: 32, timeoutMs: 60_000 });
    try {
      const err = await client.apply({ mode: "raise", marker: "pt-svc-marker" }).then(
        () => undefined,
        (e: unknown) => e as TesseractServerError,
      );
      assert.ok(err instanceof TesseractServerError && err.status === 500, `expected a 500, got ${err}`);
      assert.doesNotMatch(err.body, /Traceback|pt-svc-marker/, "debug off, yet the 500 body has the traceback");
      const load = await loadTest(
        async (i) => {
          const out = await client.apply({ mode: "ok", x: i });
          if (out.y !== 2 * i) throw new Error(`call ${i}: y=${out.y}`);
        },
        1000,
        32,
      );
      report.metric("service.load.calls", 1000);
      report.metric("service.load.errors", load.errors.length);
      report.metric("service.load.seconds", load.seconds);
      report.metric("service.load.rss_start_mb", load.startRssMb);
      report.metric("service.load.rss_peak_mb", load.peakRssMb);
      report.metric("service.load.rss_end_mb", load.endRssMb);
      assert.deepEqual(load.errors, []);
      assert.ok(load.peakRssMb - load.startRssMb < 150, `RSS grew ${load.startRssMb} -> ${load.peakRssMb} MB`);
    } finally {
      await client.close();
    }
  });

  test("a served Tesseract that crashes mid-request comes back (restart policy), then up --refresh is clean", async () => {
    await report.fault("served Tesseract crashes mid-request", async () => {
      let res = await up({ refresh: true });
      const url = res.outputs.url?.value as string;
      const client = new TesseractClient(url, { timeoutMs: 30_000 });
      try {
        const t0 = Date.now();
        await assert.rejects(client.apply({ mode: "crash" }), (err: unknown) => {
          assert.ok(err instanceof TesseractConnectionError || err instanceof TesseractServerError, `got ${err}`);
          return true;
        });
        assert.ok(Date.now() - t0 < 15_000, "the crash was not reported within 15 s");
        // unless-stopped: dockerd restarts the process; the same container answers again.
        await waitFor(
          "the container to answer again",
          async () => (await client.apply({ mode: "ok", x: 2 }, { timeoutMs: 3000 })).y === 4,
          60_000,
          500,
        );
      } finally {
        await client.close();
      }
      res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("after the crash", res.outputs);
    });
  });

  test("7. the service's network removed by hand", async () => {
    await report.fault("network removed by hand", async () => {
      want.network = `ptf-net-${process.pid}`;
      let res = await up();
      assert.equal(res.summary.result, "succeeded");
      await assertDeclared("on a user network", res.outputs);
      const net = await dockerd.client.inspectNetwork(want.network);
      assert.ok(net, "the service did not create its network");
      // A network with containers cannot be removed: disconnect them (force), then remove it.
      const [c] = await dockerd.client.listContainers({ label: ["pulumi-tesseract.service"] }, true);
      await dockerd.client.json("POST", `/networks/${want.network}/disconnect`, {
        json: { Container: c.Id, Force: true },
      });
      await dockerd.client.removeNetwork(want.network);
      res = await up({ refresh: true });
      assert.equal(res.summary.result, "succeeded");
      await scanSecrets("after fault 7");
      const recreated = Boolean(await dockerd.client.inspectNetwork(want.network));
      const served = await assertDeclared("after network rm", res.outputs).then(
        () => "serving",
        (e: Error) => e.message.split("\n")[0],
      );
      assert.ok(
        recreated && served === "serving",
        `after up --refresh: network ${recreated ? "recreated" : "NOT recreated"}; service: ${served}`,
      );
    });
  });

  test("8. a build against a password-protected index fails without showing the password", async () => {
    await report.fault("build fails with a secret index URL", async () => {
      want.secretIndex = true;
      const out: string[] = [];
      const r = await settle((ts as TestStack).stack.up({ onOutput: (s) => out.push(s), color: "never" }));
      want.secretIndex = false;
      output.push(...out);
      assert.ok(r.error, "the build against a closed index succeeded");
      const text = `${out.join("")}\n${r.error}`;
      assert.match(text, /secret-index/, "the failure names the resource");
      const leaked = findSecrets(text, [INDEX_PASSWORD]);
      report.add("secretsFound", leaked.length);
      assert.deepEqual(leaked, [], "the index password appears in the failure output");
      const left = (await dockerd.client.listImages()).filter((i) =>
        (i.RepoTags ?? []).some((t) => t.startsWith("pt-faults-secret-index")),
      );
      assert.equal(left.length, 0, "the failed build left a tagged image");
      await scanSecrets("after the failed secret-index build");
    });
  });

  test("errors of an engine that went away name the engine and the fix", () => {
    for (const [k, text] of Object.entries(errorTexts)) {
      assert.match(text, /Docker engine|dockerd|docker\.host/i, `${k}: the error does not name the engine: ${text}`);
    }
  });

  test("destroy leaves nothing of ours on the engine", async () => {
    const res = await (ts as TestStack).stack.destroy({ onOutput: (s) => output.push(s) });
    destroyed = true;
    assert.equal(res.summary.result, "succeeded");
    const leaks = await dockerLeaks(dockerd.client);
    report.add("leaksFound", leaks.total);
    const untagged = (await dockerd.client.listImages()).filter(
      (i) => !(i.RepoTags ?? []).some((t) => t === "debian:bookworm-slim"),
    );
    report.metric("images left after destroy (any, besides the base)", untagged.length);
    const all = await dockerd.client.listContainers({ label: ["pulumi-tesseract.managed"] }, true);
    assert.equal(all.length, 0, `containers left: ${all.map((c) => c.Id).join(", ")}`);
    assert.equal(leaks.total, 0, describeLeaks(leaks));
    await scanSecrets("after destroy");
  });
});
