/**
 * `pulumi import tesseract:index:TesseractImage` with the real CLI and the YAML language host: an
 * image built outside Pulumi (the package's `buildTesseractImage`) is adopted by ID
 * (`<image>#<srcDir>`), the code `pulumi import` generates becomes the program (plus the CA
 * certificates the build trusted), and `preview` then shows no changes; `destroy` removes the image. An ID without the folder fails with the fix.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { hostCaCertificates } from "../../provider/build-context/host-ca";
import { DockerClient } from "../../provider/docker";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";
import { buildHelloCopy, cleanupRun } from "../helpers/tesseract-image";

const run = `plugin-import-${process.pid}`;
const tag = `import-${process.pid}`;
const image = `hello:${tag}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-import-"));
const src = path.join(work, "hello");
const project = new CliProject("pt-plugin-import", `import-${process.pid}`);
const HEADER = "name: pt-plugin-import\nruntime: yaml\n";
let cacheTag: string | undefined;

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  const built = await buildHelloCopy(src, tag, run);
  cacheTag = built.cacheTag;
  project.write("Pulumi.yaml", HEADER);
  await project.ok(["stack", "init", project.stack]);
});

after(async () => {
  await project.dispose();
  await cleanupRun(docker, run);
  if (cacheTag) await docker.removeImage(cacheTag).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

describe("pulumi import of a TesseractImage (real CLI, YAML)", { timeout: 1_800_000 }, () => {
  it("an ID without the source folder fails with the expected form", async () => {
    const r = await project.run(["import", "tesseract:index:TesseractImage", "hello", image, "--yes"]);
    assert.notEqual(r.code, 0);
    assert.match(r.all, /must be "<image>#<srcDir>"/);
  });

  it("imports by <image>#<srcDir>, then preview with the generated code shows no changes", async () => {
    const before = await docker.inspectImage(image);
    assert.ok(before, "the image was built outside Pulumi");
    const gen = path.join(project.dir, "imported.yaml");
    await project.ok([
      "import",
      "tesseract:index:TesseractImage",
      "hello",
      `${image}#${src}`,
      "--yes",
      "--protect=false",
      "--out",
      gen,
    ]);
    const code = readFileSync(gen, "utf8");
    assert.match(code, /type: tesseract:(index:)?TesseractImage/);
    assert.ok(code.includes(src), code);
    // The CA a build trusted shapes the image but cannot be read back from it: the program adds it.
    const ca = hostCaCertificates();
    const program = ca
      ? code.replace("    properties:\n", `    properties:\n      caCertificates: ${JSON.stringify(ca)}\n`)
      : code;
    project.write("Pulumi.yaml", HEADER + program);
    const preview = await project.run(["preview", "--expect-no-changes", "--diff"]);
    assert.equal(preview.code, 0, preview.all);
    const state = JSON.parse((await project.ok(["stack", "export"])).stdout);
    const res = state.deployment.resources.find((r: { type: string }) => r.type === "tesseract:index:TesseractImage");
    assert.equal(res.outputs.imageId, before.Id);
    assert.equal(res.id, image);
  });

  it("destroy removes the imported image and its build cache tag", async () => {
    await project.ok(["destroy", "--yes"]);
    assert.equal(await docker.inspectImage(image), undefined);
    assert.ok(cacheTag, "the build tagged its dependency cache");
    assert.equal(await docker.inspectImage(cacheTag), undefined);
  });
});
