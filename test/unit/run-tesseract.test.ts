/**
 * runTesseract without an engine: the container body (`@file` mounts, input/output folders, env,
 * user, labels), argument errors naming the field, and the attach-stream demultiplexer.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FrameDemuxer } from "../../provider/docker/stream";
import { RunTesseractArgumentError, runContainerSpec, runTesseract } from "../../provider/run/run-tesseract";

const dir = mkdtempSync(join(tmpdir(), "pt-run-unit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe("runContainerSpec", () => {
  it("mounts @file arguments read-only at /tesseract/payload<ext> and rewrites them, as upstream", () => {
    writeFileSync(join(dir, "inputs.json"), "{}");
    writeFileSync(join(dir, "more.json"), "{}");
    const spec = runContainerSpec(
      { image: "x:1", command: "apply", args: ["@inputs.json", "--flag", "@more.json", "@s3://bucket/p.json"] },
      "abc",
      dir,
    );
    assert.deepEqual(spec.Cmd, [
      "apply",
      "@/tesseract/payload.json",
      "--flag",
      "@/tesseract/payload_1.json",
      "@s3://bucket/p.json",
    ]);
    assert.deepEqual(spec.HostConfig?.Binds, [
      `${join(dir, "inputs.json")}:/tesseract/payload.json:ro`,
      `${join(dir, "more.json")}:/tesseract/payload_1.json:ro`,
    ]);
    assert.equal(spec.Labels?.["pulumi-tesseract.run"], "abc");
    assert.equal(spec.Labels?.["pulumi-tesseract.managed"], "true");
    assert.equal(spec.AttachStdout, true);
    assert.equal(spec.Tty, false);
  });

  it("mounts input (ro) and output (rw, created) folders and sets the runtime's env vars", () => {
    const spec = runContainerSpec(
      {
        image: "x:1",
        command: "apply",
        inputPath: ".",
        outputPath: "out",
        outputFormat: "json+binref",
        outputFile: "r.json",
        environment: { A: "1" },
        user: "1234:5678",
        memory: "512m",
        gpus: ["0", "1"],
      },
      "abc",
      dir,
    );
    assert.deepEqual(spec.HostConfig?.Binds, [
      `${dir}:/tesseract/input_data:ro`,
      `${join(dir, "out")}:/tesseract/output_data:rw`,
    ]);
    assert.deepEqual([...(spec.Env ?? [])].sort(), [
      "A=1",
      "TESSERACT_INPUT_PATH=/tesseract/input_data",
      "TESSERACT_OUTPUT_FILE=r.json",
      "TESSERACT_OUTPUT_FORMAT=json+binref",
      "TESSERACT_OUTPUT_PATH=/tesseract/output_data",
    ]);
    assert.equal(spec.User, "1234:5678");
    assert.equal(spec.HostConfig?.Memory, 512 * 1024 * 1024);
    assert.deepEqual(spec.HostConfig?.DeviceRequests?.[0].DeviceIDs, ["0", "1"]);
  });

  it("defaults the user to the caller's uid:gid (as upstream)", () => {
    const spec = runContainerSpec({ image: "x:1", command: "health" }, "abc", dir);
    if (process.getuid) assert.equal(spec.User, `${process.getuid()}:${process.getgid?.()}`);
  });

  it("names a missing @file", () => {
    assert.throws(
      () => runContainerSpec({ image: "x:1", command: "apply", args: ["@nope.json"] }, "abc", dir),
      (err: Error) => err instanceof RunTesseractArgumentError && /args\[0\].*nope\.json.*not a file/.test(err.message),
    );
  });
});

describe("runContainerSpec refusals as upstream", () => {
  it("json+binref without an output folder", () => {
    assert.throws(
      () => runContainerSpec({ image: "x:1", command: "apply", outputFormat: "json+binref" }, "abc", dir),
      /outputFormat .*set outputPath/,
    );
  });
  it("an @ argument that is a folder", () => {
    assert.throws(
      () => runContainerSpec({ image: "x:1", command: "apply", args: [`@${dir}`] }, "abc", dir),
      /not a file/,
    );
  });
});

describe("runTesseract argument checks (before any engine call)", () => {
  const docker = { host: "unix:///nonexistent/docker.sock" };
  it("refuses serve with the alternative", async () => {
    await assert.rejects(
      runTesseract({ image: "x:1", command: "serve" as "apply", docker }),
      (err: Error) => err instanceof RunTesseractArgumentError && /command "serve".*TesseractService/.test(err.message),
    );
  });
  it("names a bad volume", async () => {
    await assert.rejects(runTesseract({ image: "x:1", command: "apply", volumes: ["/data"], docker }), (err: Error) =>
      /volumes\[0\] "\/data" must be "SOURCE:TARGET"/.test(err.message),
    );
  });
  it("names a bad user and memory value", async () => {
    await assert.rejects(runTesseract({ image: "x:1", command: "apply", user: "a b", docker }), /user "a b": must be/);
    await assert.rejects(runTesseract({ image: "x:1", command: "apply", memory: "lots", docker }), /memory "lots"/);
  });
});

describe("FrameDemuxer", () => {
  it("splits stdout and stderr, across arbitrary chunk boundaries", () => {
    const all = Buffer.concat([frame(1, "out1\n"), frame(2, "err\n"), frame(1, "x".repeat(70_000)), frame(1, "end")]);
    for (const step of [1, 3, 8, 9, 4096, all.length]) {
      const d = new FrameDemuxer();
      for (let i = 0; i < all.length; i += step) d.push(all.subarray(i, i + step));
      assert.equal(d.stdoutText(), `out1\n${"x".repeat(70_000)}end`);
      assert.equal(d.stderrText(), "err\n");
    }
  });
});
