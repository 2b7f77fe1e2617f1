/**
 * `installer: "uv"`: the build stage takes uv from the package index (`pip install uv`), installs the
 * runtime and the requirements with `uv pip install`, and the image works: examples/tesseracts/
 * vectoradd (numpy from the index) built with uv answers `apply` through runTesseract. Its
 * /python-env still has pip (custom_build_steps such as `RUN pip install …` need it) and uv itself
 * stayed in the build stage. A PEP 751 lock file (`requirements_file: pylock.toml`, pinning `six`)
 * builds with uv the same way (both builds at once: they share one runtime build) and the image
 * imports exactly the locked version; with pip it is refused before the engine is called.
 * `python_version`: the base image's own Python version (3.11 on bookworm) builds with uv and the
 * image runs on it; one the base image lacks (3.12) fails the build with the message saying uv
 * could not download it (no CPython download is reachable here) or, with pip, that pip cannot
 * provide another Python.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type BuiltTesseractImage, buildTesseractImage, prepareBuild, TesseractBuildError } from "../../provider/build";
import { DockerClient } from "../../provider/docker";
import { runTesseract } from "../../provider/run/run-tesseract";
import { cleanupRun, EXAMPLES, hostBuildOptions, runProbe } from "../helpers/tesseract-image";

const RUN_ID = `uv-${process.pid}-${Date.now()}`;
const docker = DockerClient.for();
/** The build stage's cache tag carries no test label: removed by name. */
const cacheTags: string[] = [];

const tmp = mkdtempSync(path.join(tmpdir(), "pt-uv-"));
after(async () => {
  await cleanupRun(docker, RUN_ID);
  for (const t of cacheTags) await docker.removeImage(t).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

/** A lock file as `uv pip compile --format pylock.toml` writes it, pinning six 1.16.0 (wheel and sdist, with hashes). */
const PYLOCK = `lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.8"

[[packages]]
name = "six"
version = "1.16.0"
sdist = { url = "https://files.pythonhosted.org/packages/71/39/171f1c67cd00715f190ba0b100d606d440a28c93c7714febeca8b79af85e/six-1.16.0.tar.gz", upload-time = 2021-05-05T14:18:18Z, size = 34041, hashes = { sha256 = "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926" } }
wheels = [{ url = "https://files.pythonhosted.org/packages/d9/5a/e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/six-1.16.0-py2.py3-none-any.whl", upload-time = 2021-05-05T14:18:17Z, size = 11053, hashes = { sha256 = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254" } }]
`;

/** hello with `requirements_file: pylock.toml` and the lock above. */
function lockedHello(): string {
  const dir = path.join(tmp, "locked");
  cpSync(`${EXAMPLES}/hello`, dir, { recursive: true });
  writeFileSync(
    path.join(dir, "tesseract_config.yaml"),
    'name: pt-locked\nversion: "0.1.0"\nbuild_config:\n  requirements:\n    provider: uv-pip\n    requirements_file: pylock.toml\n',
  );
  writeFileSync(path.join(dir, "pylock.toml"), PYLOCK);
  return dir;
}

const vectoraddLines: string[] = [];
const lockedLines: string[] = [];
let vectoradd: BuiltTesseractImage;
let locked: BuiltTesseractImage;
before(async () => {
  // At once, both noCache: one fresh runtime build serves both (shared in flight by this process).
  const build = (src: string, tag: string, lines: string[]) =>
    buildTesseractImage(src, {
      ...hostBuildOptions(RUN_ID),
      tag,
      installer: "uv",
      noCache: true,
      onLine: (l: string) => lines.push(l),
    });
  [vectoradd, locked] = await Promise.all([
    build(`${EXAMPLES}/vectoradd`, `uv-${RUN_ID}`, vectoraddLines),
    build(lockedHello(), `lock-${RUN_ID}`, lockedLines),
  ]);
  for (const b of [vectoradd, locked]) if (b.cacheTag) cacheTags.push(b.cacheTag);
});

describe("TesseractImage installer uv", { timeout: 1_200_000 }, () => {
  it("builds vectoradd with uv pip install, and the image runs", async () => {
    const built = vectoradd;
    assert.ok(
      vectoraddLines.some((l) => /uv pip install/.test(l)),
      "the build ran uv pip install",
    );
    const r = await runTesseract({
      image: built.imageName,
      command: "apply",
      args: [JSON.stringify({ inputs: { a: [1, 2], b: [3, 4], s: 2 } })],
      labels: { "pulumi-tesseract.test": RUN_ID },
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).result.data.buffer ?? JSON.parse(r.stdout).result, [5, 8]);

    // pip in the venv, no uv anywhere in the image: one shell in a container removed right after
    const probe = await runProbe(
      docker,
      RUN_ID,
      built.imageName,
      ["/bin/sh", "-c"],
      ["/python-env/bin/python -m pip --version && ! command -v uv && ! test -e /opt/uv && echo probe-ok"],
    );
    assert.equal(probe.code, 0, probe.logs);
    assert.match(probe.logs, /pip \d+.*python-env/);
    assert.match(probe.logs, /probe-ok/);
  });

  it("installs a PEP 751 lock file as locked (uv), and the image imports the locked version", async () => {
    assert.ok(
      lockedLines.some((l) => /uv pip install .*-r pylock\.toml/.test(l)),
      lockedLines.filter((l) => /Step/.test(l)).join("\n"),
    );
    assert.ok(lockedLines.some((l) => /uv pip check/.test(l)));
    const r = await runTesseract({
      image: locked.imageName,
      command: "apply",
      args: [JSON.stringify({ inputs: { name: "lock" } })],
      labels: { "pulumi-tesseract.test": RUN_ID },
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { greeting: "Hello, lock!" });
    const probe = await runProbe(
      docker,
      RUN_ID,
      locked.imageName,
      ["/python-env/bin/python", "-c"],
      ["import six; print('six', six.__version__)"],
    );
    assert.equal(probe.code, 0, probe.logs);
    assert.match(probe.logs, /six 1\.16\.0/);
  });

  it("with pip, a lock file is refused before the engine is called, saying to use uv", () => {
    assert.throws(
      () => prepareBuild({ srcDir: lockedHello(), installer: "pip" }),
      (err: Error) => /PEP 751 lock file is installed with uv \(fix: set installer: "uv"/.test(err.message),
    );
  });
});

/** hello with `python_version` set (a copy per version and installer). */
function helloWithPython(version: string, installer: string): string {
  const dir = path.join(tmp, `py-${version.replace(/[^\w.]/g, "_")}-${installer}`);
  cpSync(`${EXAMPLES}/hello`, dir, { recursive: true });
  writeFileSync(
    path.join(dir, "tesseract_config.yaml"),
    `name: pt-py\nversion: "0.1.0"\nbuild_config:\n  requirements:\n    provider: uv-pip\n    python_version: "${version}"\n`,
  );
  return dir;
}

describe("TesseractImage python_version", { timeout: 1_200_000 }, () => {
  const build = (version: string, installer: "uv" | "pip", tag: string) =>
    buildTesseractImage(helloWithPython(version, installer), {
      ...hostBuildOptions(RUN_ID),
      tag,
      installer,
      onLine: () => undefined,
    });

  it("the base image's Python version builds with uv, and the image runs on it", async () => {
    const built = await build("3.11", "uv", `py311-${RUN_ID}`);
    if (built.cacheTag) cacheTags.push(built.cacheTag);
    const probe = await runProbe(
      docker,
      RUN_ID,
      built.imageName,
      ["/python-env/bin/python", "-c"],
      ["import platform, tesseract_core; print('py', platform.python_version())"],
    );
    assert.equal(probe.code, 0, probe.logs);
    assert.match(probe.logs, /py 3\.11\./);
    const r = await runTesseract({
      image: built.imageName,
      command: "apply",
      args: [JSON.stringify({ inputs: { name: "py" } })],
      labels: { "pulumi-tesseract.test": RUN_ID },
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { greeting: "Hello, py!" });
  });

  for (const installer of ["uv", "pip"] as const) {
    it(`a Python the base image lacks fails the build saying why (${installer})`, async () => {
      await assert.rejects(build("3.12", installer, `py312-${installer}-${RUN_ID}`), (err: Error) => {
        assert.ok(err instanceof TesseractBuildError, String(err));
        const why =
          installer === "uv"
            ? /python_version 3\.12: the base image has no Python 3\.12, and uv could not download a CPython 3\.12 build/
            : /python_version 3\.12: the base image's Python is Python 3\.11\.\d+, and the pip installer cannot provide another/;
        assert.match(err.message, why);
        return true;
      });
    });
  }

  it("a python_version that is not a CPython version is refused before the engine is called", () => {
    assert.throws(
      () => prepareBuild({ srcDir: helloWithPython("3.12; rm -rf /", "uv"), installer: "uv" }),
      (err: Error) => /python_version "3\.12; rm -rf \/" is not a CPython version/.test(err.message),
    );
  });
});
