/**
 * buildTesseractImage as a library function: `generateOnly` writes the context and Dockerfile and
 * builds nothing (like upstream's `generate_only`), and progress goes to `onProgress` — nothing is
 * printed outside Pulumi unless asked.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { buildTesseractImage, type GeneratedTesseractContext } from "../../provider/build";
import { EXAMPLES } from "../helpers/tesseract-image";

const dir = mkdtempSync(path.join(tmpdir(), "pt-generate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("buildTesseractImage({ generateOnly })", () => {
  it("writes the context to contextDir and returns it, without an engine", async () => {
    const lines: string[] = [];
    const written: string[] = [];
    const origWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let quiet: GeneratedTesseractContext | undefined;
    try {
      // no engine at this address: generateOnly must not need one
      quiet = await buildTesseractImage(path.join(EXAMPLES, "vectoradd"), {
        generateOnly: true,
        contextDir: path.join(dir, "quiet"),
        docker: { host: "unix:///nonexistent/docker.sock" },
      });
    } finally {
      process.stderr.write = origWrite;
    }
    assert.deepEqual(
      written.filter((w) => w.trim()),
      [],
      "nothing printed outside Pulumi by default",
    );
    assert.ok(quiet);
    assert.equal(quiet.contextDir, path.join(dir, "quiet"));
    assert.ok(existsSync(path.join(quiet.contextDir, "Dockerfile")));
    assert.ok(existsSync(path.join(quiet.contextDir, "__tesseract_source__", "tesseract_api.py")));
    assert.deepEqual(quiet.tags, ["vectoradd:1.0.0", "vectoradd:latest"]);

    const loud = await buildTesseractImage(path.join(EXAMPLES, "vectoradd"), {
      generateOnly: true,
      installer: "uv",
      onProgress: (l) => lines.push(l),
    });
    assert.match(lines.join("\n"), /wrote the build context to/);
    assert.match(readFileSync(path.join(loud.contextDir, "Dockerfile"), "utf8"), /uv pip install/);
    rmSync(loud.contextDir, { recursive: true, force: true });
  });
});
