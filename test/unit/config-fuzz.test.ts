/**
 * Differential fuzzing of `tesseract_config.yaml` validation: 2,000 generated documents (valid ones
 * and near-misses, fixed seed) must be accepted or rejected exactly as tesseract-core 1.15's
 * pydantic models do (one Python process for the batch). Every disagreement the fuzzer found is
 * pinned below as a named test; `bash scripts/fuzz-schemas.sh` runs larger batches with fresh seeds.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isWindowsAbsolute } from "../../provider/tesseract-config/schema";
import { sampleConfigDocs } from "../helpers/fuzz/config-docs";
import { disagreements, ourConfigVerdict, upstreamVerdicts } from "../helpers/fuzz/differential";
import { venvPython } from "../helpers/venv";

const SEED = 20261201;
const python = venvPython();

/** Every pinned case, checked against upstream in one batch at the end. */
const pinned: [string, boolean][] = [];

/** Our verdict now; upstream's in the batch (one Python start for all pinned cases). */
function agree(text: string, expected: boolean): void {
  pinned.push([text, expected]);
  assert.equal(ourConfigVerdict(text).ok, expected, `ours on:\n${text}\n${ourConfigVerdict(text).error}`);
}

describe("tesseract_config.yaml: differential fuzzing against tesseract-core 1.15", () => {
  it("2,000 generated documents: the same accept/reject as upstream's pydantic models", {
    skip: !python,
    timeout: 600_000,
  }, () => {
    const docs = sampleConfigDocs(2000, SEED);
    const ours = docs.map(ourConfigVerdict);
    const upstream = upstreamVerdicts(python as string, "config", docs);
    const accepted = upstream.filter((v) => v.ok).length;
    assert.ok(accepted >= 200 && accepted <= 1800, `a mix of valid documents and near-misses (${accepted} accepted)`);
    const found = disagreements(docs, ours, upstream);
    assert.deepEqual(
      found.slice(0, 5).map((d) => ({ doc: String(d.doc).slice(0, 800), ours: d.ours, upstream: d.upstream })),
      [],
      `${found.length} disagreement(s); make each a named test below and fix it`,
    );
  });

  // ---- disagreements the fuzzer found, fixed ----------------------------------------------------

  it("y, Y, n, N are strings to PyYAML (the yaml package's YAML 1.1 reads them as booleans)", () => {
    agree("name: a\nenv: {A: N, B: y}\n", true);
    agree("name: y\n", true);
  });

  it("1e3, 09 and -.5 are strings to PyYAML (a float needs a dot and a signed exponent; 0 means octal)", () => {
    agree("name: 1e3\n", true);
    agree("name: 09\n", true);
    agree("name: -.5\n", true);
    agree("name: 1.0e+3\n", false);
    agree("name: 010\n", false);
  });

  it('requirements_file ".." and "r\\\\x.txt" are bare file names to upstream (Path(v).name == v); "." and "a/" are not', () => {
    const req = (f: string) =>
      `name: a\nbuild_config: {requirements: {provider: uv-pip, requirements_file: ${JSON.stringify(f)}}}\n`;
    agree(req(".."), true);
    agree(req("r\\x.txt"), true);
    agree(req(" "), true);
    agree(req("."), false);
    agree(req("a/"), false);
    agree(req(""), false);
  });

  it("package_data sources: absolute means PurePosixPath or PureWindowsPath absolute, nothing more", () => {
    const pd = (src: string) => `name: a\nbuild_config: {package_data: [[${JSON.stringify(src)}, dst]]}\n`;
    agree(pd("\\\\\\\\srv\\\\s"), true); // four leading backslashes: no UNC drive
    agree(pd("\\x"), true);
    agree(pd("C:x"), true);
    agree(pd("\\\\srv"), true);
    agree(pd("\\\\srv\\s"), false); // UNC share
    agree(pd("//srv/s"), false);
    agree(pd("C:/x"), false);
    agree(pd("\\\\?\\C:\\x"), false);
  });

  it("lax booleans are not trimmed (pydantic rejects '  yes ')", () => {
    agree('name: a\nbuild_config: {skip_checks: "  yes "}\n', false);
    agree('name: a\nbuild_config: {skip_checks: "YES"}\n', true);
  });

  it("non-string mapping keys (1:, true:, ~:) are rejected where upstream needs strings, kept inside metadata values", () => {
    agree("name: a\nenv: {1: x}\n", false);
    agree("name: a\nenv: {true: x}\n", false);
    agree("name: a\nbuild_config: {build_env: {~: x}}\n", false);
    agree("name: a\nmetadata: {1: x}\n", false);
    agree("1: a\nname: a\n", false);
    agree("name: a\nmetadata: {a: {1: x}}\n", true);
    agree("name: a\nenv: {'1': x}\n", true);
  });

  it("upstream gives the same verdict on every pinned case above", { skip: !python }, () => {
    const theirs = upstreamVerdicts(
      python as string,
      "config",
      pinned.map(([t]) => t),
    );
    const differ = pinned
      .filter(([, expected], i) => theirs[i].ok !== expected)
      .map(([t], i) => ({ t, up: theirs[i] }));
    assert.deepEqual(differ, []);
  });

  it("isWindowsAbsolute equals Python's PureWindowsPath.is_absolute on 2,000 generated paths", {
    skip: !python,
  }, () => {
    const paths = fc.sample(
      fc
        .array(fc.constantFrom("\\", "/", "C", "c", ":", "?", ".", "UNC", "srv", "s", "x", " "), { maxLength: 9 })
        .map((p) => p.join("")),
      { numRuns: 2000, seed: SEED },
    );
    const theirs = JSON.parse(
      execFileSync(
        python as string,
        [
          "-c",
          "import json,sys\nfrom pathlib import PureWindowsPath\nprint(json.dumps([PureWindowsPath(p).is_absolute() for p in json.load(sys.stdin)]))",
        ],
        { input: JSON.stringify(paths) },
      ).toString(),
    ) as boolean[];
    const differ = paths.filter((p, i) => isWindowsAbsolute(p) !== theirs[i]);
    assert.deepEqual(differ.slice(0, 10), []);
  });
});
