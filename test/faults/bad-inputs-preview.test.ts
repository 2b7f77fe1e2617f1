/**
 * Bad input through the real engine: a handful of rows of bad-inputs.test.ts run by
 * `pulumi preview` (Automation API, file backend). Each preview must fail, the diagnostics must
 * name the field and the fix, and nothing may be created (no resource in state, no image, no
 * container, no task folder).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DockerClient } from "../../provider/docker";
import { findSecrets, Report } from "../helpers/faults/report";
import { createTestStack, type TestStack } from "../helpers/stack";

const report = new Report("bad-inputs-preview");
const FAULTY = path.join(__dirname, "../helpers/fixtures/faulty");
const tasksDir = mkdtempSync(path.join(tmpdir(), "pt-bad-preview-tasks-"));
const SECRET = `pt-preview-secret-${process.pid}`;

interface PreviewRow {
  name: string;
  declare: () => Promise<void>;
  field: string;
  says: RegExp;
}

let current: PreviewRow | undefined;
let ts: TestStack;
const docker = new DockerClient();

const rows: PreviewRow[] = [
  {
    name: "TaskGroup pip.package with ;",
    declare: async () => {
      const { TaskGroup } = await import("../../provider/resources/task-group");
      new TaskGroup("tg", { backend: "local", tasksDir, pip: { package: "pt;tasks", packageVersion: "1" } });
    },
    field: "pip.package",
    says: /must not contain any of the characters/,
  },
  {
    name: "TaskGroup server.url bad, password secret",
    declare: async () => {
      const { TaskGroup } = await import("../../provider/resources/task-group");
      new TaskGroup("tg", {
        backend: "server",
        server: { url: "not a url", email: "a@b.c", password: pulumi.secret(SECRET) },
        pip: { package: "pt-fractal-tasks", packageVersion: "0.1.0" },
      });
    },
    field: "server.url",
    says: /http\(s\) URL/,
  },
  {
    name: "TesseractImage tag with space",
    declare: async () => {
      const { TesseractImage } = await import("../../provider/resources/tesseract-image");
      new TesseractImage("img", { srcDir: FAULTY, tag: "bad tag" });
    },
    field: "tag",
    says: /fix: e\.g\./,
  },
  {
    name: "TesseractImage srcDir missing",
    declare: async () => {
      const { TesseractImage } = await import("../../provider/resources/tesseract-image");
      new TesseractImage("img", { srcDir: path.join(tasksDir, "nope"), tag: "pt-preview" });
    },
    field: "srcDir",
    says: /does not exist \(fix/,
  },
  {
    name: "TesseractService port 70000",
    declare: async () => {
      const { TesseractService } = await import("../../provider/resources/tesseract-service");
      new TesseractService("svc", { image: "pt-preview-none:latest", port: "70000" });
    },
    field: "port",
    says: /1-65535 \(fix/,
  },
  {
    name: "TesseractService volume source missing",
    declare: async () => {
      const { TesseractService } = await import("../../provider/resources/tesseract-service");
      new TesseractService("svc", { image: "pt-preview-none:latest", volumes: ["/nonexistent/pt-preview:/data"] });
    },
    field: "volumes[0]",
    says: /does not exist \(fix/,
  },
];

before(async () => {
  ts = await createTestStack("faults-preview", async () => {
    if (current) await current.declare();
  });
});

after(async () => {
  await ts?.dispose();
  await docker.close();
  rmSync(tasksDir, { recursive: true, force: true });
});

describe("pulumi preview refuses bad inputs and creates nothing", { concurrency: false }, () => {
  for (const row of rows) {
    test(row.name, async () => {
      current = row;
      report.add("inputsTried");
      const out: string[] = [];
      const err = await ts.stack.preview({ onOutput: (s) => out.push(s), color: "never" }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const text = `${out.join("")}\n${err ?? ""}`;
      assert.ok(err, `${row.name}: preview succeeded:\n${text.slice(-2000)}`);
      report.add("inputsRefused");
      assert.ok(text.includes(row.field), `${row.name}: no diagnostic names '${row.field}':\n${text.slice(-2000)}`);
      assert.match(text, row.says, `${row.name}: diagnostics do not say ${row.says}:\n${text.slice(-2000)}`);
      const leaked = findSecrets(text, [SECRET]);
      report.add("secretsFound", leaked.length);
      assert.deepEqual(leaked, [], "the secret password appears in preview output");
      // Nothing created: no resource in state, no task folder, no image or container of these names.
      const state = await ts.stack.exportStack();
      const resources = (state.deployment as { resources?: unknown[] }).resources ?? [];
      assert.equal(resources.length, 0, `${row.name}: preview left resources in state`);
      report.add("stacksScanned");
      assert.deepEqual(readdirSync(tasksDir), []);
      assert.equal(await docker.inspectImage("pt-faults-faulty:pt-preview"), undefined);
      assert.equal((await docker.listContainers({ label: [`pulumi-tesseract.stack=${ts.stack.name}`] })).length, 0);
      report.add("inputsExplained");
    });
  }
});
