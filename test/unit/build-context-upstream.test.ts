/**
 * Proof that our Dockerfile is structurally equivalent to the one `tesseract build --generate-only`
 * (tesseract-core in PULUMI_TESSERACT_VENV) writes for the same source: same build/run stages and
 * base image, final-image ENV, LABELs, VOLUMEs, WORKDIR, USER, ENTRYPOINT, CMD, the python-env copy,
 * package_data destinations, custom steps, extra packages and the check step. Parsed, not diffed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { prepareBuild } from "../../provider/build";
import { generateBuildContext } from "../../provider/build-context";
import { readTesseractConfig } from "../../provider/tesseract-config";

const EXAMPLES = path.join(__dirname, "../../examples/tesseracts");
const venv = process.env.PULUMI_TESSERACT_VENV;
const tesseractCli = venv ? path.join(venv, "bin", "tesseract") : "";
const tmp = mkdtempSync(path.join(tmpdir(), "pt-upstream-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Instruction {
  cmd: string;
  args: string;
}

/** Dockerfile → instructions (continuations joined, comments dropped). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!pending && (line.startsWith("#") || !line)) continue;
    if (pending && line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (!full) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(full)!;
    out.push({ cmd: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

/** `k="v" k2=v2` (ENV/LABEL) → map, unquoting and unescaping like Docker's word parser. */
function parsePairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_.-]+)=("((?:[^"\\]|\\.)*)"|(\S*))/g;
  for (let m = re.exec(args); m; m = re.exec(args))
    out[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, "$1") : m[4];
  return out;
}

interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

function stages(df: string): Stage[] {
  const res: Stage[] = [];
  for (const ins of parseDockerfile(df)) {
    if (ins.cmd === "FROM") {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      res.push({ name: m[2] ?? "", base: m[1].replace(/^"|"$/g, ""), instructions: [] });
    } else if (res.length) res[res.length - 1].instructions.push(ins);
  }
  return res;
}

/** What the final image is made of, as far as a Tesseract client can tell. */
function summary(df: string) {
  const all = stages(df);
  const run = all.find((s) => s.name === "run_stage")!;
  const build = all.find((s) => s.name === "build_stage")!;
  const env: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const volumes = new Set<string>();
  let user = "";
  let workdir = "";
  let entrypoint: unknown;
  let cmd: unknown;
  const copies: string[] = [];
  const runs: string[] = [];
  const raw: string[] = [];
  for (const ins of run.instructions) {
    raw.push(`${ins.cmd} ${ins.args}`);
    if (ins.cmd === "ENV") Object.assign(env, parsePairs(ins.args));
    if (ins.cmd === "LABEL") Object.assign(labels, parsePairs(ins.args));
    if (ins.cmd === "VOLUME") for (const v of JSON.parse(ins.args)) volumes.add(v);
    if (ins.cmd === "USER") user = ins.args;
    if (ins.cmd === "WORKDIR") workdir = ins.args;
    if (ins.cmd === "ENTRYPOINT") entrypoint = JSON.parse(ins.args);
    if (ins.cmd === "CMD") cmd = JSON.parse(ins.args);
    if (ins.cmd === "RUN") runs.push(ins.args);
    if (ins.cmd === "COPY") copies.push(ins.args.replace(/^--chmod=\d+\s+/, ""));
  }
  const copyDest = (c: string) => (c.startsWith("[") ? (JSON.parse(c) as string[]).at(-1)! : c.split(/\s+/).at(-1)!);
  const copySrc = (c: string) =>
    (c.startsWith("[") ? (JSON.parse(c) as string[])[0] : c.split(/\s+/)[0]).replace(/^"|"$/g, "");
  return {
    stageNames: all.map((s) => s.name).filter((n) => n === "build_stage" || n === "run_stage"),
    bases: { build: build.base, run: run.base },
    env,
    labels,
    volumes: [...volumes].sort(),
    user,
    workdir,
    entrypoint,
    cmd,
    pythonEnvCopied: copies.some((c) => /^--from=build_stage \/python-env \/python-env$/.test(c)),
    copies: copies
      .filter((c) => !c.startsWith("--from") && !c.startsWith("ca-certificates/"))
      .map(
        (c) =>
          `${copySrc(c).replace(/^"/, "")} -> ${copyDest(c)
            .replace(/"$/, "")
            .replace(/\$\{(\w+)\}/g, (_m, v: string) => env[v] ?? "")}`,
      )
      .sort(),
    checkStep: runs.some((r) =>
      r.includes("_TESSERACT_IS_BUILDING=1 /tesseract/entrypoint.sh tesseract-runtime check"),
    ),
    aptRun: runs.filter((r) => r.includes("apt-get install")).join(" "),
    raw,
  };
}

function upstreamDockerfile(srcDir: string): string {
  const out = path.join(tmp, `gen-${path.basename(srcDir)}-${Math.random().toString(36).slice(2, 8)}`);
  execFileSync(tesseractCli, ["build", "--generate-only", "--build-dir", out, srcDir], {
    stdio: "pipe",
    timeout: 60_000,
  });
  return readFileSync(path.join(out, "Dockerfile"), "utf8");
}

const RICH = {
  "tesseract_config.yaml": `name: rich
version: "2.3.4-rc1"
description: 'a "quoted" description'
build_config:
  extra_packages: [gfortran, make]
  package_data:
    - [data.json, /opt/data.json]
    - [sub, sub]
  custom_build_steps:
    - RUN echo custom-step > /tmp/custom
  skip_checks: true
env:
  MY_FLAG: "1"
  OTHER: "a b"
metadata:
  owner: me
  nested: {list: [1, 2], quote: 'x"y'}
`,
  "tesseract_api.py":
    "from pydantic import BaseModel\nclass InputSchema(BaseModel): pass\nclass OutputSchema(BaseModel): pass\ndef apply(inputs): return OutputSchema()\n",
  "data.json": "{}",
  "sub/x.txt": "x",
};

describe("Dockerfile equivalence with tesseract build --generate-only", {
  skip: !tesseractCli || !existsSync(tesseractCli),
}, () => {
  const sources: [string, () => string][] = [
    ["hello", () => path.join(EXAMPLES, "hello")],
    ["vectoradd", () => path.join(EXAMPLES, "vectoradd")],
    ["packaged", () => path.join(EXAMPLES, "packaged")],
    [
      "rich config",
      () => {
        const dir = path.join(tmp, "rich");
        for (const [f, text] of Object.entries(RICH)) {
          const p = path.join(dir, f);
          execFileSync("mkdir", ["-p", path.dirname(p)]);
          writeFileSync(p, text);
        }
        return dir;
      },
    ],
  ];
  for (const [label, dirOf] of sources) {
    test(label, () => {
      const src = dirOf();
      const copy = path.join(tmp, `src-${label.replace(/\W/g, "")}`);
      cpSync(src, copy, { recursive: true });
      const theirs = summary(upstreamDockerfile(copy));
      // without the runtime base image (conda, credentials in an index URL): the build stage installs it
      const own = summary(generateBuildContext(copy, readTesseractConfig(copy)).dockerfile);
      assert.deepEqual(own.bases, theirs.bases);
      // as built: the build stage starts from the runtime base image, which starts from the base image
      const prepared = prepareBuild({ srcDir: copy });
      const ours = summary(prepared.context.dockerfile);
      assert.ok(prepared.runtime);
      assert.equal(ours.bases.build, prepared.runtime.image);
      ours.bases.build = stages(prepared.runtime.dockerfile)[0].base;
      assert.deepEqual(ours.stageNames, theirs.stageNames);
      assert.deepEqual(ours.bases, theirs.bases);
      assert.deepEqual(ours.env, theirs.env, "final-stage ENV");
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(ours.labels).map(([k, v]) => [k, k.endsWith(".metadata") ? JSON.parse(v) : v]),
        ),
        Object.fromEntries(
          Object.entries(theirs.labels).map(([k, v]) => [k, k.endsWith(".metadata") ? JSON.parse(v) : v]),
        ),
        "labels (metadata compared as JSON)",
      );
      assert.deepEqual(ours.volumes, theirs.volumes);
      assert.equal(ours.user, theirs.user);
      assert.equal(ours.workdir, theirs.workdir);
      assert.deepEqual(ours.entrypoint, theirs.entrypoint);
      assert.deepEqual(ours.cmd, theirs.cmd);
      assert.equal(ours.pythonEnvCopied, true);
      assert.equal(theirs.pythonEnvCopied, true);
      assert.deepEqual(ours.copies, theirs.copies, "files copied into the final image");
      assert.equal(ours.checkStep, theirs.checkStep, "tesseract-runtime check step");
      for (const pkg of ["libnss-wrapper", ...(label === "rich config" ? ["gfortran", "make"] : [])]) {
        assert.ok(ours.aptRun.includes(pkg) && theirs.aptRun.includes(pkg), pkg);
      }
      for (const step of theirs.raw.filter((r) => r.includes("custom-step"))) assert.ok(ours.raw.includes(step), step);
    });
  }
});
