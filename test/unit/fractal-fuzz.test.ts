/**
 * Differential fuzzing of TaskGroup input validation: 2,000 generated `TaskCollectPip`,
 * `TaskCollectCustom` and `ManifestV2` documents (valid ones and near-misses, fixed seed) must be
 * accepted or rejected exactly as fractal-server's own models do (one Python process for the batch).
 * Disagreements the fuzzer found are pinned as named tests; `bash scripts/fuzz-schemas.sh` runs more.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManifestV2, PipSpec } from "../../provider/fractal/schemas";
import { disagreements, upstreamVerdicts } from "../helpers/fuzz/differential";
import { type FractalDoc, ourFractalVerdict, sampleFractalDocs } from "../helpers/fuzz/fractal-docs";
import { fractalVenv } from "../helpers/venv";

const SEED = 20261201;

function python(): string | undefined {
  try {
    return `${fractalVenv()}/bin/python`;
  } catch {
    return undefined;
  }
}

const pinned: [FractalDoc, boolean][] = [];
function agree(doc: FractalDoc, expected: boolean): void {
  pinned.push([doc, expected]);
  assert.equal(ourFractalVerdict(doc).ok, expected, `${JSON.stringify(doc)}: ${ourFractalVerdict(doc).error}`);
}

describe("TaskGroup inputs: differential fuzzing against fractal-server's models", () => {
  it("2,000 generated documents: the same accept/reject as TaskCollectPip / TaskCollectCustom / ManifestV2", {
    skip: !python(),
    timeout: 600_000,
  }, () => {
    const docs = sampleFractalDocs(2000, SEED);
    const ours = docs.map(ourFractalVerdict);
    const upstream = upstreamVerdicts(python() as string, "fractal", docs);
    const accepted = upstream.filter((v) => v.ok).length;
    assert.ok(accepted >= 150 && accepted <= 1850, `a mix of valid documents and near-misses (${accepted} accepted)`);
    for (const model of ["pip", "custom", "manifest"])
      assert.ok(
        docs.some((d) => d.model === model),
        `${model} documents are generated`,
      );
    const found = disagreements(docs, ours, upstream);
    assert.deepEqual(found.slice(0, 5), [], `${found.length} disagreement(s); pin each as a named test and fix it`);
  });

  it("has_args_schemas and input_types take pydantic's lax booleans ('true', 1, 'no')", () => {
    const m = { manifest_version: "2", task_list: [] as unknown[] };
    agree({ model: "manifest", value: { ...m, has_args_schemas: "true" } }, true);
    agree({ model: "manifest", value: { ...m, has_args_schemas: 1 } }, true);
    agree({ model: "manifest", value: { ...m, has_args_schemas: "maybe" } }, false);
    const task = { name: "t", executable_non_parallel: "t.py", input_types: { is_3D: "no", ok: 1 } };
    agree({ model: "manifest", value: { ...m, task_list: [task] } }, true);
    assert.deepEqual(ManifestV2.parse({ ...m, task_list: [task] }).task_list[0].input_types, {
      is_3D: false,
      ok: true,
    });
  });

  it("an unknown key is refused even when its value is null", () => {
    agree({ model: "pip", value: { package: "pkg", x_extra: null } }, false);
  });

  it("packageVersion with a wheel file is refused, as fractal-server's collect endpoint does (the model alone allows it)", () => {
    const r = PipSpec.safeParse({ wheelFile: "/tmp/p-1.0-py3-none-any.whl", packageVersion: "1.0" });
    assert.equal(r.success, false);
  });

  it("fractal-server gives the same verdict on every pinned case above", { skip: !python() }, () => {
    const theirs = upstreamVerdicts(
      python() as string,
      "fractal",
      pinned.map(([d]) => d),
    );
    assert.deepEqual(
      pinned.filter(([, expected], i) => theirs[i].ok !== expected).map(([d], i) => ({ d, up: theirs[i] })),
      [],
    );
  });
});
