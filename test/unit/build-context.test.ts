import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { extract } from "tar-stream";
import {
  contextTar,
  DockerIgnore,
  generateBuildContext,
  logicalLines,
  parseRequirementsFile,
  UPSTREAM_DOCKERIGNORE,
} from "../../provider/build-context";
import { readTesseractConfig, type TesseractSourceError, validateConfig } from "../../provider/tesseract-config";

const EXAMPLES = path.join(__dirname, "../../examples/tesseracts");
const tmp = mkdtempSync(path.join(tmpdir(), "pt-ctx-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function copyExample(name: string): string {
  const dir = path.join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(path.join(EXAMPLES, name), dir, { recursive: true });
  return dir;
}

describe(".dockerignore", () => {
  test("docker's matching rules", () => {
    const di = new DockerIgnore([
      ...UPSTREAM_DOCKERIGNORE,
      "*.log",
      "build/",
      "docs/**/*.md",
      "!docs/keep.md",
      "/abs.txt",
      "data/?.csv",
      "x[0-9].py",
    ]);
    const cases: [string, boolean][] = [
      ["a.log", true],
      ["sub/a.log", false], // `*` does not cross folders
      ["build/x/y.txt", true], // below an ignored folder
      ["docs/a/b/c.md", true],
      ["docs/c.md", true], // `**/` matches zero folders
      ["docs/keep.md", false], // re-included
      ["abs.txt", true],
      ["data/1.csv", true],
      ["data/10.csv", false],
      ["x5.py", true],
      ["xa.py", false],
      ["pkg/__pycache__/m.pyc", true],
      [".git/config", true],
      ["deep/.venv/bin/python", true],
      ["tesseract_api.py", false],
    ];
    for (const [p, ignored] of cases) assert.equal(di.ignores(p), ignored, p);
  });
  test("comments, blanks and the last match wins", () => {
    const di = DockerIgnore.parse("# comment\n\n*.txt\n!important.txt\nimportant.txt\n");
    assert.equal(di.ignores("important.txt"), true);
    assert.equal(di.ignores("other.txt"), true);
  });
});

describe("requirements", () => {
  test("logical lines: continuations, comments, blanks", () => {
    assert.deepEqual(logicalLines("a==1 # pin\n\n# only comment\nb \\\n  >=2\nurl#frag\n"), [
      "a==1",
      "b   >=2",
      "url#frag",
    ]);
  });
  test("local paths split from remote lines and options; nested files inlined", () => {
    const dir = path.join(tmp, "reqs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "more.txt"), "scipy\n./other[extra]\n");
    writeFileSync(
      path.join(dir, "r.txt"),
      "--extra-index-url https://example.invalid/simple\nnumpy==2.0\n-e ./pkg\n-r more.txt\nfile:///opt/x\ngit+https://example.invalid/x.git\n",
    );
    const parsed = parseRequirementsFile(path.join(dir, "r.txt"));
    assert.deepEqual(parsed.remote, [
      "--extra-index-url https://example.invalid/simple",
      "numpy==2.0",
      "scipy",
      "git+https://example.invalid/x.git",
    ]);
    assert.deepEqual(
      parsed.local.map((l) => [l.path, l.extras]),
      [
        ["./pkg", ""],
        ["./other", "[extra]"],
        ["/opt/x", ""],
      ],
    );
  });
});

describe("build context", () => {
  test("packaged: local requirement staged and rewritten, package_data copied, modes set", () => {
    const dir = copyExample("packaged");
    const ctx = generateBuildContext(dir, readTesseractConfig(dir));
    const names = ctx.entries.map((e) => e.name);
    assert.ok(names.includes("local_requirements/mathutils/pyproject.toml"));
    assert.ok(names.includes("__tesseract_source__/data/coefficients.json"));
    const req = ctx.entries.find((e) => e.name === "__tesseract_source__/tesseract_requirements.txt")!;
    assert.equal(req.data!.toString(), "./local_requirements/mathutils\n");
    assert.equal(ctx.entries.find((e) => e.name === "__tesseract_source__/tesseract_api.py")!.mode, 0o444);
    assert.equal(ctx.entries.find((e) => e.name === "entrypoint.sh")!.mode, 0o555);
    assert.equal(ctx.entries.find((e) => e.name === "__tesseract_source__/helpers.py")!.mode, 0o777);
    assert.match(ctx.dockerfile, /COPY \["__tesseract_source__\/data\/coefficients.json","data\/coefficients.json"\]/);
    assert.match(ctx.dockerfile, /COPY local_requirements\/ \.\/local_requirements\//);
    assert.deepEqual([...names].sort(), names, "entries are sorted");
  });

  test("the hash: stable, blind to mtimes and ignored files, sensitive to the API, config and options", () => {
    const dir = copyExample("packaged");
    const cfg = () => readTesseractConfig(dir);
    const h0 = generateBuildContext(dir, cfg()).hash;
    assert.equal(generateBuildContext(dir, cfg()).hash, h0);
    utimesSync(path.join(dir, "tesseract_api.py"), new Date(), new Date(2001, 1, 1));
    assert.equal(generateBuildContext(dir, cfg()).hash, h0, "mtime does not matter");
    writeFileSync(path.join(dir, "run.log"), "noise");
    mkdirSync(path.join(dir, "scratch"));
    writeFileSync(path.join(dir, "scratch", "x"), "noise");
    mkdirSync(path.join(dir, "__pycache__"));
    writeFileSync(path.join(dir, "__pycache__", "m.pyc"), "noise");
    assert.equal(generateBuildContext(dir, cfg()).hash, h0, ".dockerignore'd files do not matter");
    assert.notEqual(generateBuildContext(dir, cfg(), { runtimeVersion: "1.14.0" }).hash, h0);
    writeFileSync(path.join(dir, "tesseract_api.py"), "# edited\n", { flag: "a" });
    assert.notEqual(generateBuildContext(dir, cfg()).hash, h0);
  });

  test("the tar is byte-for-byte deterministic and carries the modes", async () => {
    const dir = copyExample("hello");
    const cfg = readTesseractConfig(dir);
    const bytes = async () => {
      const chunks: Buffer[] = [];
      for await (const c of contextTar(generateBuildContext(dir, cfg))) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const a = await bytes();
    utimesSync(path.join(dir, "tesseract_api.py"), new Date(), new Date(2005, 1, 1));
    const b = await bytes();
    assert.ok(a.equals(b));
    const modes = new Map<string, number>();
    const ex = extract();
    const done = new Promise<void>((resolve) => ex.on("finish", resolve));
    ex.on("entry", (h, stream, next) => {
      modes.set(h.name, h.mode ?? 0);
      assert.equal(h.mtime?.getTime(), 0);
      stream.resume();
      stream.on("end", next);
    });
    ex.end(a);
    await done;
    assert.equal(modes.get("__tesseract_source__/tesseract_api.py"), 0o444);
    assert.equal(modes.get("Dockerfile"), 0o644);
  });

  test("editing tesseract_api.py only changes what comes after its COPY (layer order for caching)", () => {
    const dir = copyExample("vectoradd");
    const cfg = validateConfig(
      {
        name: "v",
        version: "1.0.0",
        build_config: {
          custom_build_steps: ["RUN echo custom"],
          package_data: [["tesseract_requirements.txt", "r.txt"]],
        },
      },
      "x",
    );
    const df = generateBuildContext(dir, cfg).dockerfile;
    const idx = (s: string) => df.indexOf(s);
    assert.ok(idx("pip install --no-cache-dir -r tesseract_requirements.txt") > 0);
    assert.ok(
      idx("COPY __tesseract_source__/tesseract_api.py") > idx("RUN echo custom"),
      "custom steps before the API",
    );
    assert.ok(
      idx("RUN echo custom") > idx('COPY ["__tesseract_source__/tesseract_requirements.txt","r.txt"]'),
      "package_data before custom steps",
    );
    assert.ok(idx("COPY __tesseract_source__/tesseract_api.py") > idx("COPY --from=build_stage /python-env"));
    const stage1 = df.slice(0, idx("AS run_stage"));
    assert.ok(!stage1.includes("tesseract_api.py"), "the build stage never sees the API");
    assert.ok(!/--mount|\$BUILDPLATFORM|--chmod/.test(df), "classic-builder syntax only");
  });

  test("CA certificates and indexes: build stage env, not the final image's", () => {
    const dir = copyExample("hello");
    const pem =
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
    const ctx = generateBuildContext(dir, readTesseractConfig(dir), {
      caCertificates: pem,
      pipIndexUrl: true,
      pipExtraIndexUrls: true,
    });
    assert.deepEqual(
      ctx.entries.filter((e) => e.name.startsWith("ca-certificates/")).map((e) => e.name),
      ["ca-certificates/pulumi-tesseract-00.crt", "ca-certificates/pulumi-tesseract-01.crt"],
    );
    const [stage1, stage2] = ctx.dockerfile.split(/^FROM .* AS run_stage$/m);
    assert.match(stage1, /update-ca-certificates/);
    assert.match(stage1, /ENV PIP_CERT=\/etc\/ssl\/certs\/ca-certificates.crt/);
    assert.match(stage1, /ARG PIP_INDEX_URL\nARG PIP_EXTRA_INDEX_URL/);
    assert.doesNotMatch(stage2, /PIP_CERT|PIP_INDEX_URL|SSL_CERT_FILE/);
  });

  test("problems name the file and the fix", () => {
    const dir = copyExample("packaged");
    writeFileSync(path.join(dir, "tesseract_requirements.txt"), "./missing-pkg\n");
    const cfg = validateConfig(
      {
        name: "p",
        build_config: {
          package_data: [
            ["nope.json", "a"],
            ["helpers.py", "a"],
          ],
        },
      },
      "x",
    );
    assert.throws(
      () => generateBuildContext(dir, cfg),
      (e: TesseractSourceError) =>
        /local dependency not found: \.\/missing-pkg/.test(e.message) &&
        /package_data: source "nope.json" not found/.test(e.message) &&
        /duplicate destination\(s\): a/.test(e.message),
    );
  });
});
