/**
 * TesseractImage against the real engine: the examples build; the real tesseract-core CLI lists,
 * serves and runs the images; bad input fails at check (before any build) and failed builds leave
 * nothing behind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { DockerClient } from "../../provider/docker";
import * as impl from "../../provider/resources/tesseract-image-impl";
import { buildTesseractImage } from "../../provider/resources/tesseract-image-impl";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../helpers/tesseract-image";
import { venvBin } from "../helpers/venv";

const exec = promisify(execFile);
const run = `ti-${process.pid}`;
const tag = `it-${process.pid}`;
const docker = new DockerClient();
const tmp = mkdtempSync(path.join(tmpdir(), "pt-ti-"));
const tesseract = venvBin("tesseract");
const served: string[] = [];
const builtAll: impl.BuiltTesseractImage[] = [];
process.env.PULUMI_TESSERACT_QUIET = "1";

before(async () => {
  await docker.version();
});
after(async () => {
  if (tesseract)
    for (const name of served) await exec(tesseract, ["teardown", name], { timeout: 60_000 }).catch(() => undefined);
  for (const b of builtAll) await impl.removeTesseractImage(b).catch(() => undefined);
  await cleanupRun(docker, run);
  await docker.close();
  rmSync(tmp, { recursive: true, force: true });
});

function copyExample(name: string): string {
  const dir = path.join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(path.join(EXAMPLES, name), dir, { recursive: true });
  return dir;
}

describe("examples build and run with the real tesseract-core CLI", { concurrency: false }, () => {
  const built: Record<string, Awaited<ReturnType<typeof buildTesseractImage>>> = {};
  for (const ex of ["hello", "vectoradd", "packaged"]) {
    test(`builds ${ex}`, { timeout: 900_000 }, async () => {
      const res = await buildTesseractImage(path.join(EXAMPLES, ex), {
        ...hostBuildOptions(run),
        tag,
        onLine: () => {},
      });
      built[ex] = res;
      builtAll.push(res);
      assert.match(res.cacheTag ?? "", new RegExp(`^pulumi-tesseract-cache/${ex}:[0-9a-f]{16}$`));
      assert.ok(await docker.inspectImage(res.cacheTag!), "the build stage is tagged, not dangling");
      assert.match(res.imageId, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(res.tags, [`${ex}:${tag}`]);
      assert.equal(res.imageName, `${ex}:${tag}`);
      const info = await docker.inspectImage(res.imageName);
      assert.equal(info?.Id, res.imageId);
      assert.equal(info?.Config.Labels?.["pulumi-tesseract.managed"], "true");
      assert.equal(info?.Config.Labels?.["pulumi-tesseract.context-hash"], res.contextHash);
      assert.ok(info?.Config.Labels?.["ai.pasteurlabs.tesseract.metadata"] !== undefined);
      assert.ok(info?.Config.Env?.includes(`TESSERACT_NAME=${ex}`));
      assert.equal(info?.Config.User, "9999:9999");
      assert.deepEqual(info?.Config.Entrypoint, ["/tesseract/entrypoint.sh", "tesseract-runtime"]);
      assert.deepEqual(Object.keys(info?.Config.Volumes ?? {}).sort(), [
        "/tesseract/input_data",
        "/tesseract/output_data",
      ]);
      assert.ok(
        !info?.Config.Env?.some((e) => /^(PIP_CERT|PIP_INDEX_URL|SSL_CERT_FILE)=/.test(e)),
        "no build-only settings in the image",
      );
    });
  }

  test("vectoradd reports its endpoints", () => {
    assert.deepEqual(built.vectoradd?.endpoints, ["apply", "jacobian"]);
  });

  test("tesseract list shows the images", { skip: !tesseract }, async () => {
    const { stdout } = await exec(tesseract!, ["list"], { timeout: 60_000, env: { ...process.env, COLUMNS: "400" } });
    for (const ex of ["hello", "vectoradd", "packaged"]) assert.ok(stdout.includes(`${ex}:${tag}`), stdout);
  });

  test("tesseract run applies each example", { skip: !tesseract, timeout: 120_000 }, async () => {
    const runApply = async (image: string, payload: unknown) =>
      JSON.parse(
        (await exec(tesseract!, ["run", image, "apply", JSON.stringify(payload)], { timeout: 60_000 })).stdout,
      );
    assert.deepEqual(await runApply(`hello:${tag}`, { inputs: { name: "Pulumi" } }), { greeting: "Hello, Pulumi!" });
    const v = await runApply(`vectoradd:${tag}`, { inputs: { a: [1, 2, 3], b: [4, 5, 6], s: 2 } });
    assert.deepEqual(v.result.data.buffer, [6, 9, 12]);
    assert.deepEqual(await runApply(`packaged:${tag}`, { inputs: { x: 2 } }), { y: 0.5, degree: 2 });
    const jac = JSON.parse(
      (
        await exec(
          tesseract!,
          [
            "run",
            `vectoradd:${tag}`,
            "jacobian",
            JSON.stringify({ inputs: { a: [1, 2], b: [3, 4], s: 3 }, jac_inputs: ["a"], jac_outputs: ["result"] }),
          ],
          { timeout: 60_000 },
        )
      ).stdout,
    );
    assert.deepEqual(jac.result.a.data.buffer, [
      [3, 0],
      [0, 3],
    ]);
  });

  test("tesseract serve + /health + teardown", { skip: !tesseract, timeout: 120_000 }, async () => {
    const { stdout } = await exec(tesseract!, ["serve", `hello:${tag}`], { timeout: 90_000 });
    const info = JSON.parse(stdout) as { container_name: string; containers: { port: string; ip: string }[] };
    served.push(info.container_name);
    const port = info.containers[0].port;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const applied = await fetch(`http://127.0.0.1:${port}/apply`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: { name: "HTTP" } }),
    });
    assert.deepEqual(await applied.json(), { greeting: "Hello, HTTP!" });
    const mounts = (await docker.inspectContainer(info.container_name))?.Mounts ?? [];
    await exec(tesseract!, ["teardown", info.container_name], { timeout: 60_000 });
    served.pop();
    // Upstream's teardown (`docker rm -f`, no `-v`) leaves the image's anonymous VOLUMEs behind;
    // remove them so this cross-check leaks nothing (TesseractService removes them itself).
    for (const m of mounts) if (m.Type === "volume" && m.Name) await docker.removeVolume(m.Name);
  });

  test("a rebuild of unchanged sources is a full cache hit; editing only the API re-runs only the tail (and extraTags tag it)", {
    timeout: 600_000,
  }, async () => {
    const dir = copyExample("vectoradd");
    const opts = { ...hostBuildOptions(run), tag: `${tag}-edit` };
    const first = await buildTesseractImage(dir, { ...opts, onLine: () => {} });
    writeFileSync(path.join(dir, "tesseract_api.py"), "\n# an edit\n", { flag: "a" });
    const lines: string[] = [];
    const t0 = Date.now();
    // `extraTags` (one field in the definition) tags the rebuild once more, and goes with it
    const extra = `pt-extra/vectoradd:${tag}-x`;
    const second = await buildTesseractImage(dir, { ...opts, extraTags: [extra], onLine: (l) => lines.push(l) });
    const secs = (Date.now() - t0) / 1000;
    assert.notEqual(second.imageId, first.imageId);
    assert.ok(second.tags.includes(extra), second.tags.join(" "));
    assert.equal((await docker.inspectImage(extra))?.Id, second.imageId);
    const steps = lines.filter((l) => /^Step \d+/.test(l));
    const cachedUntil = lines.findIndex((l) => /^Step \d+\/\d+ : COPY __tesseract_source__\/tesseract_api.py/.test(l));
    assert.ok(cachedUntil > 0, "the API copy step ran");
    const before = lines.slice(0, cachedUntil);
    for (const s of before.filter((l) => /^Step \d+\/\d+ : (RUN|COPY)/.test(l))) {
      const i = lines.indexOf(s);
      assert.match(lines[i + 1], /Using cache/, `${s} should be cached`);
    }
    assert.ok(steps.length > 10);
    assert.ok(secs < 60, `rebuild took ${secs}s`);
    await impl.removeTesseractImage(first);
    assert.deepEqual(
      await docker.listImages({ label: [`pulumi-tesseract.context-hash=${first.contextHash}`] }),
      [],
      "no leftover (dangling) layers of the removed image",
    );
    await impl.removeTesseractImage(second);
    assert.deepEqual(await docker.listImages({ label: [`pulumi-tesseract.context-hash=${second.contextHash}`] }), []);
    assert.equal(await docker.inspectImage(second.cacheTag!), undefined, "the cache tag is removed too");
    assert.equal(await docker.inspectImage(extra), undefined, "the extra tag is removed too");
  });
});

describe("bad input is refused at check, before any build", () => {
  const failuresFor = async (inputs: Record<string, unknown>) =>
    (await impl.check({} as never, inputs as never)).failures ?? [];
  const cases: [string, () => Record<string, unknown>, RegExp, string][] = [
    ["missing folder", () => ({ srcDir: path.join(tmp, "does-not-exist") }), /does not exist/, "srcDir"],
    [
      "missing tesseract_api.py",
      () => {
        const d = copyExample("hello");
        rmSync(path.join(d, "tesseract_api.py"));
        return { srcDir: d };
      },
      /tesseract_api\.py: file not found/,
      "srcDir",
    ],
    [
      "invalid YAML",
      () => {
        const d = copyExample("hello");
        writeFileSync(path.join(d, "tesseract_config.yaml"), "name: [unclosed\n");
        return { srcDir: d };
      },
      /tesseract_config\.yaml: invalid YAML at line/,
      "srcDir",
    ],
    [
      "unknown key",
      () => {
        const d = copyExample("hello");
        writeFileSync(path.join(d, "tesseract_config.yaml"), "name: hello\nbuild_config:\n  extra_pakages: [x]\n");
        return { srcDir: d };
      },
      /field build_config: unknown key\(s\) "extra_pakages" \(fix: remove or rename; allowed here: .*extra_packages/,
      "srcDir",
    ],
    [
      "bad version",
      () => {
        const d = copyExample("hello");
        writeFileSync(path.join(d, "tesseract_config.yaml"), 'name: hello\nversion: "v1"\n');
        return { srcDir: d };
      },
      /field version: is not a valid version number/,
      "srcDir",
    ],
    [
      "bad tag",
      () => ({ srcDir: path.join(EXAMPLES, "hello"), tag: "no:colons" }),
      /tag: tag "no:colons" may only contain/,
      "tag",
    ],
    [
      "bad override",
      () => ({ srcDir: path.join(EXAMPLES, "hello"), configOverride: { "build_config.nope": 1 } }),
      /is not a known config option/,
      "configOverride",
    ],
    [
      "uppercase name",
      () => ({ srcDir: path.join(EXAMPLES, "hello"), configOverride: { name: "Hello" } }),
      /not a valid Docker repository name.*fix: set `name: hello`/,
      "srcDir",
    ],
    [
      "syntax error",
      () => {
        const d = copyExample("hello");
        writeFileSync(path.join(d, "tesseract_api.py"), "def apply(inputs:\n    pass\n");
        return { srcDir: d };
      },
      /tesseract_api\.py: syntax error at line 1/,
      "srcDir",
    ],
    [
      "wrong argument names",
      () => {
        const d = copyExample("vectoradd");
        writeFileSync(path.join(d, "tesseract_api.py"), "\ndef jacobian(inputs, wrt, of):\n    pass\n", { flag: "a" });
        return { srcDir: d };
      },
      /second argument of jacobian must be named jac_inputs, not wrt/,
      "srcDir",
    ],
    [
      "bad input type",
      () => ({ srcDir: path.join(EXAMPLES, "hello"), runtimeVersion: "latest" }),
      /runtimeVersion: must be a tesseract-core release/,
      "runtimeVersion",
    ],
  ];
  for (const [label, inputsOf, reason, property] of cases) {
    test(label, async () => {
      const failures = await failuresFor(inputsOf());
      assert.ok(failures.length > 0, "expected a check failure");
      assert.ok(
        failures.some((f) => f.property === property && reason.test(f.reason)),
        JSON.stringify(failures, null, 1),
      );
    });
  }
  test("preview unknowns are tolerated", async () => {
    const failures = await failuresFor({ srcDir: impl.UNKNOWN, tag: "x" });
    assert.deepEqual(failures, []);
  });
});

describe("failed builds leave nothing behind", { concurrency: false }, () => {
  async function failBuild(dir: string, extra: Record<string, unknown> = {}) {
    const lines: string[] = [];
    const err = await buildTesseractImage(dir, {
      ...hostBuildOptions(run),
      tag: `${tag}-fail`,
      onLine: (l) => lines.push(l),
      ...extra,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err, "the build should fail");
    // every image this build created (a step's result not taken from the cache) is gone
    const created: string[] = [];
    let cached = false;
    let from = false;
    for (const l of lines) {
      if (/^Step \d+\/\d+ : /.test(l)) {
        from = /: FROM /.test(l);
        cached = false;
      } else if (/---> Using cache/.test(l)) cached = true;
      else {
        const m = /^\s*---> ([0-9a-f]{12})\s*$/.exec(l);
        if (m && !cached && !from) created.push(m[1]);
      }
    }
    for (const id of created) assert.equal(await docker.inspectImage(id), undefined, `image ${id} left behind`);
    assert.deepEqual(await docker.listImages({ label: [`pulumi-tesseract.test=${run}`], dangling: ["true"] }), []);
    assert.equal(
      (await docker.inspectImage(`hello:${tag}-fail`)) ?? (await docker.inspectImage(`vectoradd:${tag}-fail`)),
      undefined,
    );
    const containers = await docker.listContainers({
      status: ["exited", "created"],
      ancestor: ["debian:bookworm-slim"],
    });
    assert.ok(!containers.some((c) => c.Labels?.["pulumi-tesseract.test"] === run));
    return err!;
  }

  test("pip install failure names the step and the fix", { timeout: 600_000 }, async () => {
    const dir = copyExample("vectoradd");
    writeFileSync(
      path.join(dir, "tesseract_requirements.txt"),
      `pulumi-tesseract-no-such-package-${process.pid}==0.0.1\n`,
    );
    const err = await failBuild(dir);
    assert.match(err.message, /failed \(fix: check the requirements/);
    assert.match(err.message, /pip install --no-cache-dir -r tesseract_requirements.txt/);
    assert.match(err.message, /No matching distribution found for pulumi-tesseract-no-such-package/);
  });

  test("an absent base image with no registry is a clear error", { timeout: 120_000 }, async () => {
    const err = await failBuild(path.join(EXAMPLES, "hello"), {
      configOverride: { "build_config.base_image": `pulumi-tesseract-absent/base:${process.pid}` },
    });
    assert.match(
      err.message,
      /base image pulumi-tesseract-absent\/base:\d+ is not available locally and cannot be pulled/,
    );
  });

  test("an import error in the image fails at the check step", { timeout: 600_000 }, async () => {
    const dir = copyExample("hello");
    writeFileSync(path.join(dir, "tesseract_api.py"), "import not_installed_module_xyz\n", { flag: "a" });
    const err = await failBuild(dir);
    assert.match(err.message, /tesseract-runtime check/);
    assert.match(err.message, /not_installed_module_xyz/);
  });

  test("a create that fails returns no resource (state unchanged) and a read of a removed image reports it gone", async () => {
    const dir = copyExample("hello");
    writeFileSync(path.join(dir, "tesseract_api.py"), "def apply(:\n");
    await assert.rejects(impl.create({ srcDir: dir, ...hostBuildOptions(run) }), /syntax error/);
    const gone = await impl.read("x", {
      imageId: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
      tags: [],
    } as never);
    assert.equal(gone.id, "");
  });
});
