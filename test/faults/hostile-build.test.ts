/**
 * Hostile build contexts and config fields against TesseractImage's `check` (what `preview` runs):
 * links leaving srcDir (file, folder, absolute, dangling, through another link), link loops, a FIFO
 * and a device file, a huge file count, line breaks and quotes in every config field that reaches
 * the Dockerfile, and index credentials that custom_build_steps would see. Each case is a row
 * `hostile/<class>/<case>` in the faults report: refused (naming the field and the fix) or handled
 * (the context builds without the hostile content), never a secret in a message or the context.
 * `check` never talks to the engine, so no image or container can be left behind; the file checks
 * that no image carries this run's label anyway.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { generateBuildContext } from "../../provider/build-context/context";
import { DockerClient } from "../../provider/docker";
import { check } from "../../provider/resources/tesseract-image-impl";
import { readTesseractConfig } from "../../provider/tesseract-config";
import { findSecrets, Report } from "../helpers/faults/report";

const report = new Report("hostile-build");
const RUN_ID = `hostile-build-${process.pid}`;
const SECRET = `PT-SSH-SECRET-${Math.random().toString(36).slice(2, 10)}`;
const INDEX_TOKEN = `pt-index-tok-${Math.random().toString(36).slice(2, 10)}`;
const work = mkdtempSync(path.join(tmpdir(), "pt-hostile-build-"));
const outside = path.join(work, "home", ".ssh");
mkdirSync(outside, { recursive: true });
writeFileSync(path.join(outside, "id_rsa"), `${SECRET}\n`);
const HELLO = path.join(__dirname, "../../examples/tesseracts/hello");
let n = 0;

after(() => rmSync(work, { recursive: true, force: true }));

/** A fresh copy of examples/tesseracts/hello, changed by `setup`. */
function srcDir(setup: (dir: string) => void): string {
  const dir = path.join(work, `src-${n++}`);
  cpSync(HELLO, dir, { recursive: true });
  setup(dir);
  return dir;
}
const withConfig = (yaml: string) => (d: string) => writeFileSync(path.join(d, "tesseract_config.yaml"), yaml);

interface Case {
  cls: string;
  name: string;
  dir: () => string;
  inputs?: Record<string, unknown>;
  /** "refused": check must fail naming `field` with a fix; "handled": check passes, nothing hostile in the context. */
  expect: "refused" | "handled";
  field?: RegExp;
}

const q = JSON.stringify;
const cases: Case[] = [
  // ---- links ----
  {
    cls: "link",
    name: "to a file outside",
    dir: () => srcDir((d) => symlinkSync(path.join(outside, "id_rsa"), path.join(d, "key"))),
    expect: "refused",
    field: /key is a symbolic link/,
  },
  {
    cls: "link",
    name: "to a folder outside (relative)",
    dir: () => srcDir((d) => symlinkSync("../home/.ssh", path.join(d, "ssh"))),
    expect: "refused",
    field: /ssh is a symbolic link/,
  },
  {
    cls: "link",
    name: "absolute to /etc",
    dir: () => srcDir((d) => symlinkSync("/etc", path.join(d, "etc"))),
    expect: "refused",
    field: /etc is a symbolic link to \/etc/,
  },
  {
    cls: "link",
    name: "nested folder link outside",
    dir: () =>
      srcDir((d) => {
        mkdirSync(path.join(d, "a", "b"), { recursive: true });
        symlinkSync(outside, path.join(d, "a", "b", "deep"));
      }),
    expect: "refused",
    field: /deep is a symbolic link/,
  },
  {
    cls: "link",
    name: "inside link to a link leaving",
    dir: () =>
      srcDir((d) => {
        symlinkSync(outside, path.join(d, "hop2"));
        symlinkSync("hop2", path.join(d, "hop1"));
      }),
    expect: "refused",
    field: /hop\d is a symbolic link/,
  },
  {
    cls: "link",
    name: "dangling link outside",
    dir: () => srcDir((d) => symlinkSync("/nonexistent/pt-secret", path.join(d, "gone"))),
    expect: "refused",
    field: /gone is a symbolic link/,
  },
  {
    cls: "link",
    name: "requirements file linking outside",
    dir: () => srcDir((d) => symlinkSync(path.join(outside, "id_rsa"), path.join(d, "tesseract_requirements.txt"))),
    expect: "refused",
    field: /tesseract_requirements.txt is a symbolic link/,
  },
  {
    cls: "link",
    name: "package_data folder outside holding a link further out",
    dir: () =>
      srcDir((d) => {
        const pd = path.join(work, `pd-${n}`);
        mkdirSync(pd);
        symlinkSync(outside, path.join(pd, "ssh"));
        withConfig(`name: hello\nbuild_config:\n  package_data: [[${q(path.relative(d, pd))}, data]]\n`)(d);
      }),
    expect: "refused",
    field: /ssh is a symbolic link/,
  },
  {
    cls: "link",
    name: "loop a->b->a",
    dir: () =>
      srcDir((d) => {
        symlinkSync("loop-b", path.join(d, "loop-a"));
        symlinkSync("loop-a", path.join(d, "loop-b"));
      }),
    expect: "handled",
  },
  {
    cls: "link",
    name: "self loop and link to the parent inside",
    dir: () =>
      srcDir((d) => {
        symlinkSync("self", path.join(d, "self"));
        mkdirSync(path.join(d, "sub"));
        symlinkSync("..", path.join(d, "sub", "up"));
      }),
    expect: "handled",
  },
  // ---- special files ----
  {
    cls: "special-file",
    name: "FIFO in srcDir",
    dir: () => srcDir((d) => execFileSync("mkfifo", [path.join(d, "fifo")])),
    expect: "handled",
  },
  {
    cls: "special-file",
    name: "character device in srcDir",
    dir: () =>
      srcDir((d) => {
        try {
          execFileSync("mknod", [path.join(d, "null"), "c", "1", "3"], { stdio: "ignore" });
        } catch {
          symlinkSync("/dev/zero", path.join(d, "null")); // no CAP_MKNOD: a link to a device instead
        }
      }),
    expect: "handled",
  },
  {
    cls: "special-file",
    name: "link to /dev/zero",
    dir: () => srcDir((d) => symlinkSync("/dev/zero", path.join(d, "zero"))),
    expect: "refused",
    field: /zero is a symbolic link/,
  },
  {
    cls: "special-file",
    name: "20,001 files",
    dir: () =>
      srcDir((d) => {
        const many = path.join(d, "many");
        mkdirSync(many);
        for (let k = 0; k <= 20_000; k++) writeFileSync(path.join(many, `f${k}`), "");
      }),
    expect: "refused",
    field: /more than 20000 files.*\.dockerignore/,
  },
  // ---- config fields reaching the Dockerfile ----
  ...(
    [
      ["base_image newline", 'build_config:\n  base_image: "debian\\nRUN cat /etc/shadow"', /base_image/],
      ["base_image quote", 'build_config:\n  base_image: "debian\\" x"', /base_image/],
      ["target_platform newline", 'build_config:\n  target_platform: "linux/amd64\\nRUN id"', /target_platform/],
      ["extra_packages quote", "build_config:\n  extra_packages: ['curl\" ] || id #']", /extra_packages\[0\]/],
      ["extra_packages newline", 'build_config:\n  extra_packages: ["curl\\nRUN id"]', /extra_packages\[0\]/],
      ["extra_packages command substitution", 'build_config:\n  extra_packages: ["$(id)"]', /extra_packages\[0\]/],
      ["env key newline", 'env: {"A\\nRUN id": "1"}', /env key/],
      ["env value newline", 'env: {A: "x\\nRUN id"}', /env\.A/],
      ["build_env key newline", 'build_config:\n  build_env: {"B\\nRUN id": "1"}', /build_env key/],
      ["build_env value NUL", 'build_config:\n  build_env: {B: "x\\0"}', /build_env\.B/],
      [
        "requirements_file newline",
        'build_config:\n  requirements: {provider: uv-pip, requirements_file: "r\\nRUN id"}',
        /requirements_file/,
      ],
    ] as const
  ).map(
    ([name, yaml, field]): Case => ({
      cls: "dockerfile-field",
      name,
      dir: () => srcDir(withConfig(`name: hello\n${yaml}\n`)),
      expect: "refused",
      field,
    }),
  ),
  {
    cls: "dockerfile-field",
    name: "description and env value with quotes, $ and newlines (escaped)",
    dir: () => srcDir(withConfig('name: hello\ndescription: "two\\nlines \\" $(id)"\nenv: {A: "a\\" $HOME \\\\"}\n')),
    expect: "handled",
  },
  // ---- index credentials ----
  {
    cls: "credentials",
    name: "pipIndexUrl with credentials + custom_build_steps, bridge network",
    dir: () => srcDir(withConfig("name: hello\nbuild_config:\n  custom_build_steps: [RUN pip install x]\n")),
    // explicit: a machine default (PULUMI_TESSERACT_BUILD_NETWORK=host) would otherwise apply
    inputs: { pipIndexUrl: `https://pt-user:${INDEX_TOKEN}@127.0.0.1:1/simple`, buildNetwork: "bridge" },
    expect: "refused",
    field: /buildNetwork.*loopback proxy/,
  },
  {
    cls: "credentials",
    name: "HTTP_PROXY build arg with credentials declared by a step",
    dir: () => srcDir(withConfig("name: hello\nbuild_config:\n  custom_build_steps: [ARG HTTP_PROXY, RUN true]\n")),
    inputs: { buildArgs: { HTTP_PROXY: `http://u:${INDEX_TOKEN}@127.0.0.1:1` }, buildNetwork: "host" },
    expect: "refused",
    field: /buildArgs\.HTTP_PROXY/,
  },
  {
    cls: "credentials",
    name: "pipIndexUrl with credentials + custom_build_steps, host network (proxied)",
    dir: () => srcDir(withConfig("name: hello\nbuild_config:\n  custom_build_steps: [RUN pip install x]\n")),
    inputs: { pipIndexUrl: `https://pt-user:${INDEX_TOKEN}@127.0.0.1:1/simple`, buildNetwork: "host" },
    expect: "handled",
  },
];

describe("hostile build contexts and config fields at check", { concurrency: false }, () => {
  for (const c of cases) {
    test(`${c.cls}: ${c.name}`, async () => {
      const t0 = Date.now();
      const fault = `hostile/${c.cls}/${c.name}`;
      report.add("inputsTried");
      let detail = "";
      try {
        const dir = c.dir();
        const res = await check({} as never, { srcDir: dir, ...c.inputs } as never);
        const failures = res.failures ?? [];
        const text = failures.map((f) => `${f.property}: ${f.reason}`).join("\n");
        const leaked = findSecrets(text, [SECRET, INDEX_TOKEN]);
        if (leaked.length) {
          report.add("secretsFound", leaked.length);
          throw new Error(`LEAKED ${leaked.join(", ")} in the check failure`);
        }
        if (c.expect === "refused") {
          assert.ok(failures.length > 0, "accepted");
          report.add("inputsRefused");
          assert.match(text, c.field as RegExp);
          assert.match(text, /fix/);
          report.add("inputsExplained");
          detail = `refused + explained: ${text.split("\n")[0].slice(0, 160)}`;
        } else {
          assert.deepEqual(failures, [], text);
          // the context holds nothing of the secret and no special file
          const ctx = generateBuildContext(dir, readTesseractConfig(dir));
          for (const e of ctx.entries) {
            if (e.data?.includes(SECRET)) {
              report.add("secretsFound");
              throw new Error(`LEAKED the outside secret into ${e.name}`);
            }
          }
          const special = ctx.entries.filter((e) => /\/(fifo|null)$/.test(e.name));
          assert.deepEqual(special, [], "special files stay out of the context");
          detail = `handled: ${ctx.entries.filter((e) => e.type === "symlink").length} link(s) kept as links, ${ctx.entries.length} entries`;
        }
        report.data.faults.push({ fault, result: "pass", seconds: (Date.now() - t0) / 1000, detail });
      } catch (err) {
        report.data.faults.push({
          fault,
          result: "fail",
          seconds: (Date.now() - t0) / 1000,
          detail: (err as Error).message.split("\n").slice(0, 3).join(" | "),
        });
        throw err;
      } finally {
        report.flush();
      }
    });
  }

  test("nothing left behind: no image or container labelled by this run", async () => {
    const docker = DockerClient.for();
    try {
      const label = [`pulumi-tesseract.test=${RUN_ID}`];
      assert.deepEqual(await docker.listImages({ label }), []);
      assert.deepEqual(await docker.listContainers({ label }), []);
    } finally {
      await docker.close();
    }
    report.note("check never calls the engine: no image, container or build happens for a refused input");
  });
});
