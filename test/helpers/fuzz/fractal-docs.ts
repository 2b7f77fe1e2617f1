/**
 * Generated TaskGroup inputs for differential fuzzing against fractal-server's own models:
 * `TaskCollectPip`, `TaskCollectCustom` and `ManifestV2` documents (snake_case, as the server takes
 * them) — valid ones and near-misses: forbidden command characters, blank and padded strings,
 * relative paths, unknown keys, wrong types, missing one-of fields, duplicate task names.
 * `ourFractalVerdict` maps each to the resource's inputs (camelCase) and validates it with our zod.
 */
import fc from "fast-check";
import { CustomSpec, ManifestV2, PipSpec } from "../../../provider/fractal/schemas";
import type { Verdict } from "./differential";

/** One document for upstream_validate.py: which model, and the value. */
export interface FractalDoc {
  model: "pip" | "custom" | "manifest";
  value: Record<string, unknown>;
}

const goodWord = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);
const oddString = fc.constantFrom(
  "",
  " ",
  "  pkg  ",
  "pkg;rm",
  "a$b",
  "a b",
  "x[extra]",
  "1.0",
  "==1.0",
  "a&b",
  "a|b",
  "a`b",
  "a>b",
  "ümlaut",
  "tab\t",
  "/abs/path",
  "rel/path",
  "/",
  "//x",
  "/a/../b",
  "~/x",
  "C:\\x",
);
const str = fc.oneof({ weight: 4, arbitrary: goodWord }, oddString);
const junk = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(goodWord, { maxLength: 2 }),
  fc.dictionary(goodWord, goodWord, { maxKeys: 2 }),
);
const absPath = fc.oneof({ weight: 4, arbitrary: goodWord.map((w) => `/opt/${w}`) }, oddString);
const pyVersion = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("3.10", "3.12", "3.14") },
  fc.constantFrom("3.8", "3.15", "3", "", "py3.12"),
);
const pins = fc.dictionary(fc.oneof(goodWord, oddString, fc.constant("pkg[extra]")), str, { maxKeys: 3 });

/** Sometimes replaces a field with junk, adds an unknown key, or drops a key. */
function nearMiss(base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return base.chain((v) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(v) },
      fc.tuple(fc.nat(), junk).map(([k, j]) => {
        const keys = Object.keys(v);
        return keys.length ? { ...v, [keys[k % keys.length]]: j } : v;
      }),
      fc.tuple(goodWord, junk).map(([k, j]) => ({ ...v, [`x_${k}`]: j })),
      fc.nat().map((k) => {
        const keys = Object.keys(v);
        const out = { ...v };
        if (keys.length) delete out[keys[k % keys.length]];
        return out;
      }),
    ),
  );
}

const task = nearMiss(
  fc.record(
    {
      name: fc.oneof({ weight: 4, arbitrary: goodWord }, fc.constantFrom("", " ", "a")),
      executable_non_parallel: fc.oneof(
        goodWord.map((w) => `${w}.py`),
        fc.constant(null),
      ),
      executable_parallel: fc.oneof(
        goodWord.map((w) => `${w}.py`),
        fc.constant(null),
      ),
      meta_non_parallel: fc.oneof(fc.constant({}), fc.constant({ cpus_per_task: 1 })),
      meta_parallel: fc.oneof(fc.constant({}), fc.constant({ mem: 100 })),
      args_schema_non_parallel: fc.oneof(fc.constant({ type: "object" }), fc.constant(null)),
      args_schema_parallel: fc.oneof(fc.constant({ type: "object" }), fc.constant(null)),
      input_types: fc.dictionary(goodWord, fc.oneof(fc.boolean(), fc.constant("yes"), fc.integer({ min: 0, max: 2 })), {
        maxKeys: 2,
      }),
      output_types: fc.dictionary(goodWord, fc.boolean(), { maxKeys: 2 }),
      docs_info: fc.oneof(goodWord, fc.constant(null)),
      docs_link: fc.constantFrom("https://example.org/x", "http://a.b", "ftp://x", "not a url", "", null),
      category: fc.oneof(goodWord, fc.constant(null)),
      tags: fc.array(goodWord, { maxLength: 2 }),
      type: fc.constantFrom(
        "non_parallel",
        "parallel",
        "compound",
        "converter_compound",
        "converter_non_parallel",
        "other",
        null,
      ),
    },
    { requiredKeys: ["name"] },
  ),
);

const manifest = nearMiss(
  fc.record(
    {
      manifest_version: fc.oneof({ weight: 5, arbitrary: fc.constant("2") }, fc.constantFrom("1", 2, "")),
      task_list: fc.array(task, { maxLength: 3 }),
      has_args_schemas: fc.oneof(fc.boolean(), fc.constantFrom("true", 1, "maybe")),
      args_schema_version: fc.oneof(goodWord, fc.constant(null)),
      authors: fc.oneof(goodWord, fc.constantFrom("", " ", null)),
    },
    { requiredKeys: ["manifest_version", "task_list"] },
  ),
);

const pip = nearMiss(
  fc.record(
    {
      package: str,
      package_version: str,
      package_extras: str,
      python_version: pyVersion,
      pinned_package_versions_pre: pins,
      pinned_package_versions_post: pins,
    },
    { requiredKeys: [] },
  ),
);

const custom = nearMiss(
  fc.record(
    {
      manifest,
      python_interpreter: absPath,
      label: str,
      package_root: absPath,
      package_name: str,
      version: str,
    },
    { requiredKeys: ["manifest", "python_interpreter", "label"] },
  ),
);

export const fractalDoc: fc.Arbitrary<FractalDoc> = fc.oneof(
  // a pip document without `package` is a wheel upload, whose version comes from the wheel file:
  // fractal-server's endpoint refuses `package_version` then, so the generator never pairs them
  pip.map((value) => {
    if (value.package == null) delete value.package_version;
    return { model: "pip" as const, value };
  }),
  custom.map((value) => ({ model: "custom" as const, value })),
  manifest.map((value) => ({ model: "manifest" as const, value })),
);

/** `n` documents from a fixed seed. */
export function sampleFractalDocs(n: number, seed: number): FractalDoc[] {
  return fc.sample(fractalDoc, { numRuns: n, seed });
}

const PIP_FIELDS = new Set([
  "package",
  "package_version",
  "package_extras",
  "python_version",
  "pinned_package_versions_pre",
  "pinned_package_versions_post",
]);
const CUSTOM_FIELDS = new Set(["manifest", "python_interpreter", "label", "package_root", "package_name", "version"]);
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Our verdict, through the resource's own schemas. A pip document without `package` is a wheel
 * upload upstream: ours takes it as `wheelFile` (a local path to the same wheel).
 */
export function ourFractalVerdict(doc: FractalDoc): Verdict {
  const verdict = (r: { success: boolean; error?: { issues: { message: string }[] } }): Verdict =>
    r.success ? { ok: true, error: "" } : { ok: false, error: r.error?.issues.map((i) => i.message).join("; ") ?? "" };
  if (doc.model === "manifest") return verdict(ManifestV2.safeParse(doc.value));
  // explicit nulls mean "not set" to pydantic's optional fields; the resource omits them instead
  const known = doc.model === "pip" ? PIP_FIELDS : CUSTOM_FIELDS;
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.value)) if (v !== null || !known.has(k)) inputs[camel(k)] = v;
  if (doc.model === "pip") {
    if (!("package" in inputs) || inputs.package === undefined) inputs.wheelFile = "/tmp/pkg-1.0-py3-none-any.whl";
    return verdict(PipSpec.safeParse(inputs));
  }
  const spec = CustomSpec.safeParse(inputs);
  if (!spec.success) return verdict(spec);
  // the resource checks the manifest object with ManifestV2 (a path would be read first)
  return verdict(ManifestV2.safeParse(inputs.manifest));
}
