/**
 * `outputPath` / `inputPath`: against the real runtime (`tesseract-runtime serve`, input and output
 * paths on this host), large input arrays go as `.bin` files into the input folder (removed after
 * the call) and responses come back as `json+binref`, read from the `.bin` files the server wrote;
 * results equal the base64 path for every dtype the passthrough carries, large and small.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TesseractClient } from "../../provider/client/client";
import type { NDArray } from "../../provider/client/ndarray";
import { type ServedRuntime, serveRuntime } from "../helpers/serve-runtime";
import { venvPython } from "../helpers/venv";

describe("TesseractClient with outputPath (json+binref)", { skip: !venvPython(), timeout: 180_000 }, () => {
  let served: ServedRuntime;
  let viaFiles: TesseractClient;
  let viaBase64: TesseractClient;
  const inputDir = mkdtempSync(path.join(tmpdir(), "pt-runtime-in-"));
  before(async () => {
    served = await serveRuntime({ env: { TESSERACT_INPUT_PATH: inputDir } });
    viaFiles = new TesseractClient(served.url, { outputPath: served.outputDir, inputPath: inputDir });
    viaBase64 = new TesseractClient(served.url);
  });
  after(async () => {
    await viaFiles?.close();
    await viaBase64?.close();
    await served?.stop();
    rmSync(inputDir, { recursive: true, force: true });
  });

  it("apply: arrays read from the server's .bin files equal the base64 results", async () => {
    const n = 200_000;
    const inputs = {
      a: Float64Array.from({ length: 4 }, (_, i) => i + 0.5),
      b: Float64Array.from({ length: 4 }, (_, i) => 2 * i),
      s: 3,
      passthrough: {
        big: new Float64Array(n).map((_, i) => i / 7),
        ints: Int32Array.from([1, -2, 3]),
        small: new Float32Array([1.5, 2.5]),
        flags: { shape: [2], dtype: "bool", data: [true, false] },
      },
    };
    const files = (await viaFiles.apply(inputs)) as Record<string, unknown>;
    const b64 = (await viaBase64.apply(inputs)) as Record<string, unknown>;
    assert.deepEqual(files, b64);
    const big = (files.passthrough as Record<string, NDArray>).big;
    assert.equal(big.data.length, n);
    assert.equal(big.data[n - 1], (n - 1) / 7);
    const runs = readdirSync(served.outputDir).filter((d) => d.startsWith("run_"));
    assert.ok(
      runs.some((r) => readdirSync(path.join(served.outputDir, r)).some((f) => f.endsWith(".bin"))),
      "the server wrote binref files",
    );
    assert.deepEqual(readdirSync(inputDir), [], "the input .bin files are removed after the call");
  });

  it("jacobian blocks come back through files too", async () => {
    const inputs = { a: new Float64Array([1, 2]), b: new Float64Array([3, 4]), s: 2 };
    assert.deepEqual(
      await viaFiles.jacobian(inputs, ["a", "s"], ["result"]),
      await viaBase64.jacobian(inputs, ["a", "s"], ["result"]),
    );
  });
});
