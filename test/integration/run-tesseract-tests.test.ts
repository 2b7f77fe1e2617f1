/**
 * runTesseractTests on the example Tesseracts' own test_cases folders (upstream format):
 * - by url against the real runtime (`tesseract-runtime serve`, debug on) for calculus and vectoradd;
 * - by image with the hello fixture (served for the run, removed afterwards), and the same case
 *   files pass tesseract-core 1.15's own `tesseract run <image> test @file`;
 * - a wrong expectation is reported as failed, an unreadable file as error, and a Tesseract
 *   without debug gives a clear error.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DockerClient } from "../../provider/docker";
import { runTesseractTests } from "../../provider/test-cases/run-tesseract-tests";
import { freePort, REPO_ROOT, type ServedRuntime, serveRuntime } from "../helpers/serve-runtime";
import { ensureHelloImage } from "../helpers/service-fixture";
import { venvBin, venvPython } from "../helpers/venv";

const EXAMPLES = join(REPO_ROOT, "examples/tesseracts");
const RUN_ID = `tests-${process.pid}-${Date.now()}`;
const labels = { "pulumi-tesseract.test": RUN_ID };
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-cases-"));
const servers: ServedRuntime[] = [];

after(async () => {
  for (const s of servers) await s.stop();
  for (const c of await docker.listContainers({ label: [`pulumi-tesseract.test=${RUN_ID}`] }, true))
    await docker.removeContainer(c.Id);
  rmSync(dir, { recursive: true, force: true });
});

async function serveDebug(example: string): Promise<ServedRuntime> {
  const s = await serveRuntime({
    apiPath: join(EXAMPLES, example, "tesseract_api.py"),
    // each debug server opens a debugpy port: give every one its own
    env: { TESSERACT_DEBUG: "1", TESSERACT_DEBUGPY_PORT: String(await freePort()) },
  });
  servers.push(s);
  return s;
}

describe("runTesseractTests by url (real runtime, debug on)", { skip: !venvPython(), timeout: 180_000 }, () => {
  let calculus: ServedRuntime;
  before(async () => {
    calculus = await serveDebug("calculus");
  });

  for (const example of ["calculus", "vectoradd"]) {
    it(`examples/tesseracts/${example}/test_cases all pass`, async () => {
      const url = example === "calculus" ? calculus.url : (await serveDebug(example)).url;
      const r = await runTesseractTests({ url, dir: join(EXAMPLES, example, "test_cases") });
      assert.ok(r.ok, JSON.stringify(r.cases, null, 2));
      assert.equal(r.passed, r.cases.length);
      assert.ok(r.cases.length >= 3);
      assert.ok(
        r.cases.some((c) => c.endpoint !== "apply"),
        "a gradient endpoint is covered",
      );
    });
  }

  it("reports a wrong expectation as failed and an unreadable file as error, without throwing", async () => {
    const cases = join(dir, "mixed");
    mkdirSync(cases);
    writeFileSync(
      join(cases, "a_wrong.json"),
      JSON.stringify({
        endpoint: "apply",
        payload: { inputs: { a: [0, 1], b: [2, 3], s: 2 } },
        expected_outputs: { result: [1, 1], norm: 5, passthrough: {} },
      }),
    );
    writeFileSync(join(cases, "b_broken.json"), "{ not json");
    writeFileSync(join(cases, "c_no_endpoint.json"), JSON.stringify({ payload: {} }));
    const r = await runTesseractTests({ url: calculus.url, dir: cases });
    assert.deepEqual(
      r.cases.map((c) => [c.file, c.status]),
      [
        ["a_wrong.json", "failed"],
        ["b_broken.json", "error"],
        ["c_no_endpoint.json", "error"],
      ],
    );
    assert.equal(r.ok, false);
    assert.match(r.cases[0].message, /result|mismatch|differ|dtype/i);
  });

  it("a Tesseract served without debug: a clear error naming the fix", async () => {
    const plain = await serveRuntime({ apiPath: join(EXAMPLES, "calculus", "tesseract_api.py") });
    servers.push(plain);
    await assert.rejects(
      runTesseractTests({ url: plain.url, dir: join(EXAMPLES, "calculus", "test_cases") }),
      /does not serve POST \/test.*debug: true/,
    );
  });
});

describe("runTesseractTests by image", { timeout: 300_000 }, () => {
  let image: string;
  before(async () => {
    image = await ensureHelloImage(docker);
  });

  it("examples/tesseracts/hello/test_cases pass, and nothing is left running", async () => {
    const r = await runTesseractTests({ image, dir: join(EXAMPLES, "hello", "test_cases"), labels });
    assert.ok(r.ok, JSON.stringify(r.cases, null, 2));
    assert.equal(r.cases.length, 3);
    assert.deepEqual(await docker.listContainers({ label: [`pulumi-tesseract.test=${RUN_ID}`] }, true), []);
  });

  it("the same case files pass tesseract-core's own `tesseract run <image> test @file`", {
    skip: !venvBin("tesseract"),
  }, async () => {
    const run = promisify(execFile);
    for (const f of ["test_apply.json", "test_apply_bad_input.json"]) {
      const { stdout } = await run(
        venvBin("tesseract") as string,
        ["run", image, "test", `@${join(EXAMPLES, "hello", "test_cases", f)}`],
        {
          timeout: 120_000,
        },
      );
      assert.equal(JSON.parse(stdout).status, "passed", `${f}: ${stdout}`);
    }
  });
});
