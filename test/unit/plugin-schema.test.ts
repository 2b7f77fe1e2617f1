// The tesseract plugin's schema and provider object, without an engine: its property names are the inputs the
// lifecycle functions validate; secrets and replace-on-change properties are declared; the
// provider answers with the lifecycle functions' own failures and keeps secrets secret. (That the
// committed schema is what the generator makes today runs the TypeScript compiler, ~10 s of CPU:
// test/integration/plugin-schema-fresh.test.ts, so that the unit tier stays fast.)
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { tesseractImageSchema } from "../../provider/build";
import { parseConfig } from "../../provider/plugin/config";
import { PLUGIN_FUNCTIONS } from "../../provider/plugin/functions";
import { parseImageImportId } from "../../provider/plugin/import";
import { DiffKind, detailedDiff, parseUrn, TesseractProvider } from "../../provider/plugin/provider";
import { SCHEMA } from "../../provider/plugin/schema.generated";
import { isSecretValue, reveal, secretValue } from "../../provider/plugin/secrets";
import { TaskGroupInputsSchema } from "../../provider/resources/definitions/task-group";
import * as taskGroupImpl from "../../provider/resources/task-group-impl";
import * as imageImpl from "../../provider/resources/tesseract-image-impl";
import * as serviceImpl from "../../provider/resources/tesseract-service-impl";
import { serviceSchema } from "../../provider/serve/args";

type Res = {
  inputProperties: Record<string, { secret?: boolean }>;
  properties: Record<string, { secret?: boolean; replaceOnChanges?: boolean }>;
};
const resources = SCHEMA.resources as unknown as Record<string, Res>;
const IMAGE = "tesseract:index:TesseractImage";
const SERVICE = "tesseract:index:TesseractService";
const TASK_GROUP = "tesseract:index:TaskGroup";
const urn = (type: string, name = "r") => `urn:pulumi:dev::proj::${type}::${name}`;
const keys = (o: object) => Object.keys(o).sort();

describe("plugin schema", () => {
  it("TesseractService inputs are the validated inputs (minus what the plugin fills in)", () => {
    const validated = Object.keys(serviceSchema.shape).filter((k) => !["serviceName", "stack", "project"].includes(k));
    assert.deepEqual(keys(resources[SERVICE].inputProperties), validated.sort());
  });

  it("TaskGroup inputs are the validated inputs", () => {
    assert.deepEqual(keys(resources[TASK_GROUP].inputProperties), keys(TaskGroupInputsSchema.shape));
  });

  it("TesseractImage inputs are the validated inputs", () => {
    assert.deepEqual(keys(resources[IMAGE].inputProperties), keys(tesseractImageSchema.shape));
  });

  it("TesseractImage inputs are all accepted by check, and only they", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pt-schema-"));
    try {
      const unrecognized = async (k: string) => {
        const r = await imageImpl.check({} as never, { srcDir: dir, [k]: k === "srcDir" ? dir : undefined } as never);
        return (r.failures ?? []).some((f) => /nrecognized/.test(f.reason));
      };
      for (const k of Object.keys(resources[IMAGE].inputProperties)) assert.equal(await unrecognized(k), false, k);
      const bogus = await imageImpl.check({} as never, { srcDir: dir, bogusInput: "x" } as never);
      assert.ok(
        bogus.failures?.some((f) => /nrecognized/.test(f.reason)),
        "the probe sees unknown keys",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("marks secrets: docker connections, the TaskGroup server, key and password config", () => {
    assert.equal(resources[IMAGE].inputProperties.docker.secret, true);
    assert.equal(resources[SERVICE].properties.docker.secret, true);
    assert.equal(resources[TASK_GROUP].inputProperties.server.secret, true);
    assert.equal(resources[TASK_GROUP].properties.server.secret, true);
    const vars = SCHEMA.config.variables as Record<string, { secret?: boolean }>;
    assert.equal(vars.dockerKeyPem.secret, true);
    assert.equal(vars.fractalPassword.secret, true);
    assert.equal(vars.dockerHost.secret, undefined);
  });

  it("TesseractService marks no property replaceOnChanges: none replaces on every target", () => {
    // The engine replaces on a replaceOnChanges property whatever the diff says; `image` replaces
    // containers but rolls a Deployment in place, so the per-target diff decides (next test).
    const declared = Object.entries(resources[SERVICE].properties)
      .filter(([, p]) => p.replaceOnChanges)
      .map(([k]) => k);
    assert.deepEqual(declared, []);
    assert.match(
      (SCHEMA.resources as Record<string, { description?: string }>)[SERVICE].description ?? "",
      /On Kubernetes .*only a change of cluster, context or namespace replaces.*`image` included, rolls the Deployment in place/s,
    );
  });

  it("through the plugin: an image change replaces containers on an engine, rolls in place on Kubernetes", async () => {
    const provider = new TesseractProvider("0.0.0-test");
    const docker = { image: "hello:1", replicas: 1, serviceName: "svc" };
    const onEngine = await provider.diffDetailed(
      "id",
      urn(SERVICE, "svc"),
      docker,
      { ...docker, image: "hello:2" },
      docker,
    );
    assert.ok(onEngine.replaces?.includes("image"), JSON.stringify(onEngine));
    assert.equal(onEngine.detailedDiff?.image, DiffKind.UPDATE_REPLACE);
    const kube = {
      image: "reg.example/hello@sha256:1",
      replicas: 3,
      serviceName: "svc",
      kubernetes: { kubeconfig: "/k/config", namespace: "tesseracts" },
    };
    const news = { ...kube, image: "reg.example/hello@sha256:2" };
    const onCluster = await provider.diffDetailed("id", urn(SERVICE, "svc"), kube, news, kube);
    assert.equal(onCluster.changes, true);
    assert.deepEqual(onCluster.replaces ?? [], [], JSON.stringify(onCluster));
    assert.equal(onCluster.detailedDiff?.image, DiffKind.UPDATE);
    const moved = await provider.diffDetailed(
      "id",
      urn(SERVICE, "svc"),
      kube,
      { ...kube, kubernetes: { ...kube.kubernetes, namespace: "other" } },
      kube,
    );
    assert.deepEqual(moved.replaces, ["kubernetes"]);
  });

  it("TaskGroup's replaceOnChanges properties are the ones its diff replaces", async () => {
    const declared = Object.entries(resources[TASK_GROUP].properties)
      .filter(([, p]) => p.replaceOnChanges)
      .map(([k]) => k);
    const olds = {
      pip: { package: "a" },
      active: true,
      backend: "local",
      resolvedBackend: "local",
      pkgName: "a",
      tasksDir: "/t/a",
    };
    const changed: Record<string, unknown> = {
      pip: { package: "b" },
      custom: { manifest: {}, pythonInterpreter: "/usr/bin/python3", label: "c", packageName: "c" },
      privateGroup: true,
      tasksDir: "/t/b",
      pythonInterpreters: { "3.12": "/usr/bin/python3" },
      pixi: { package: "p", version: "1.0" },
    };
    for (const k of declared) {
      const r = await taskGroupImpl.diff("id", olds as never, { ...olds, [k]: changed[k] } as never);
      assert.ok(r.replaces?.includes(k), `${k}: ${JSON.stringify(r)}`);
    }
    const inPlace = await taskGroupImpl.diff("id", olds as never, { ...olds, active: false } as never);
    assert.deepEqual(inPlace.replaces ?? [], []);
  });

  it("documents every property from the TypeScript JSDoc", () => {
    for (const [token, r] of Object.entries(resources))
      for (const [k, p] of Object.entries({ ...r.inputProperties, ...r.properties }))
        assert.ok((p as { description?: string }).description, `${token}.${k} has no description`);
    for (const token of [
      "apply",
      "jacobian",
      "jacobianVectorProduct",
      "vectorJacobianProduct",
      "abstractEval",
      "getOpenApiSchema",
    ])
      assert.ok((SCHEMA.functions as Record<string, unknown>)[`tesseract:index:${token}`], token);
  });
});

describe("plugin provider object", () => {
  const provider = new TesseractProvider("0.0.0-test");

  it("check fails with the lifecycle's own messages", async () => {
    const news = { image: "hello:1", replicas: 0, memory: "3m" };
    const viaPlugin = await provider.check(urn(SERVICE, "svc"), {}, news);
    const direct = await serviceImpl.check({}, { ...news, serviceName: "svc", stack: "dev", project: "proj" });
    assert.ok(viaPlugin.failures?.length);
    assert.deepEqual(viaPlugin.failures, direct.failures);
    const img = await provider.check(urn(IMAGE), {}, { srcDir: "/nonexistent/pt-plugin" });
    const imgDirect = await imageImpl.check({} as never, { srcDir: "/nonexistent/pt-plugin" });
    assert.deepEqual(img.failures, imgDirect.failures);
  });

  it("keeps secret inputs secret through check, and adds config defaults", async () => {
    await provider.configure({ "tesseract:config:dockerHost": "unix:///var/run/docker.sock" });
    const r = await provider.check(urn(SERVICE), {}, { image: "hello:1", environment: secretValue({ A: "b" }) });
    const inputs = r.inputs as Record<string, unknown>;
    assert.ok(isSecretValue(inputs.environment));
    assert.deepEqual(reveal(inputs.environment), { A: "b" });
    assert.deepEqual(inputs.docker, { host: "unix:///var/run/docker.sock" });
    assert.equal(inputs.serviceName, "r");
    await provider.configure({});
  });

  it("detailedDiff names each changed input and its kind", () => {
    const d = detailedDiff(
      { changes: true, replaces: ["port"] },
      { replicas: 1, port: "8000", memory: "1g" },
      { replicas: 2, port: "8001", hostIp: "0.0.0.0" },
      "image",
    );
    assert.deepEqual(d, {
      replicas: DiffKind.UPDATE,
      port: DiffKind.UPDATE_REPLACE,
      memory: DiffKind.DELETE,
      hostIp: DiffKind.ADD,
    });
    assert.deepEqual(detailedDiff({ changes: true }, { srcDir: "/a" }, { srcDir: "/a" }, "srcDir"), {
      srcDir: DiffKind.UPDATE,
    });
    assert.deepEqual(detailedDiff({ changes: false }, { a: 1 }, { a: 1 }, "a"), {});
  });

  it("invoke reports missing required arguments as failures", async () => {
    const r = await provider.invoke("tesseract:index:apply", { inputs: {} });
    assert.equal(r.failures?.[0].property, "url");
    await assert.rejects(provider.invoke("tesseract:index:nope", {}), /unknown function/);
  });

  it("serves every function of the table, each in the schema, and only those", () => {
    const tokens = PLUGIN_FUNCTIONS.map((f) => f.token);
    assert.deepEqual(Object.keys(SCHEMA.functions), tokens);
    for (const name of ["runTesseract", "getTesseractImages", "getTesseractContainers", "getTesseractServiceLogs"])
      assert.ok(tokens.includes(`tesseract:index:${name}`), name);
    const run = (SCHEMA.functions as Record<string, { inputs: { properties: Record<string, { secret?: boolean }> } }>)[
      "tesseract:index:runTesseract"
    ].inputs.properties;
    assert.equal(run.signal, undefined, "an AbortSignal cannot be sent");
    assert.equal(run.environment.secret, true);
    assert.equal(run.docker.secret, true);
  });

  it("invoke: a result computed from a secret argument is a secret; others stay plain", async () => {
    const server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ openapi: "3.1.0", paths: {}, components: { schemas: {} } }));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const plain = await provider.invoke("tesseract:index:getOpenApiSchema", { url });
      const schema = plain.outputs?.schema as { openapi: string };
      assert.equal(isSecretValue(schema), false);
      assert.equal(schema.openapi, "3.1.0");
      const secret = await provider.invoke("tesseract:index:getOpenApiSchema", {
        url,
        headers: { authorization: secretValue("Bearer s3cret") },
      });
      for (const v of Object.values(secret.outputs ?? {})) assert.ok(isSecretValue(v), JSON.stringify(v));
      assert.equal((reveal(secret.outputs) as { schema: { openapi: string } }).schema.openapi, "3.1.0");
    } finally {
      server.close();
    }
  });

  it("invoke: runTesseract's argument errors name the field and never show a secret", async () => {
    await assert.rejects(
      provider.invoke("tesseract:index:runTesseract", {
        image: "hello:x",
        command: "apply",
        user: secretValue("not a user!"),
      }),
      (err: Error) =>
        /runTesseract: user \(secret value not shown\)/.test(err.message) && !err.message.includes("not a user"),
    );
  });

  it("reads configuration keys in both engine forms", () => {
    assert.deepEqual(parseConfig({ "tesseract:config:dockerHost": "tcp://h:1", "tesseract:fractalUrl": "http://f" }), {
      dockerHost: "tcp://h:1",
      fractalUrl: "http://f",
    });
  });

  it("parses URNs and import IDs", () => {
    assert.deepEqual(parseUrn("urn:pulumi:dev::p::parent$tesseract:index:TaskGroup::a::b"), {
      stack: "dev",
      project: "p",
      type: "tesseract:index:TaskGroup",
      name: "a::b",
    });
    assert.deepEqual(parseImageImportId("hello:0.1.0#./hello"), { image: "hello:0.1.0", srcDir: "./hello" });
    assert.throws(() => parseImageImportId("hello:0.1.0"), /must be "<image>#<srcDir>"/);
  });

  it("serves the schema with the package version", async () => {
    const schema = JSON.parse(await provider.getSchema());
    assert.equal(schema.name, "tesseract");
    assert.equal(schema.version, "0.0.0-test");
  });
});
