/**
 * Generated `tesseract_config.yaml` documents for differential fuzzing against tesseract-core's
 * pydantic models: mostly valid documents, each mutated at one or two places into a near-miss —
 * wrong types, unknown keys at every level, bad versions and names, YAML 1.1 oddities (`yes`,
 * `~`, `0x1F`, dates), empty and huge values. Values are emitted as raw YAML tokens, so the test
 * also covers how both sides read YAML, not only how they validate.
 */
import fc from "fast-check";

/** A YAML node: a raw scalar token (emitted as is), a sequence or a mapping (flow style). */
export type YamlNode = { raw: string } | YamlNode[] | { mapping: [string, YamlNode][] };

const raw = (s: string): YamlNode => ({ raw: s });
const q = (s: string): YamlNode => ({ raw: JSON.stringify(s) });

/** Scalars YAML 1.1 and 1.2 read differently, and other tokens that trip typed fields. */
const ODD_TOKENS = [
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "Y",
  "N",
  "true",
  "True",
  "TRUE",
  "false",
  "FALSE",
  "~",
  "null",
  "Null",
  "NULL",
  "0",
  "1",
  "2",
  "-1",
  "1.0",
  "0.0",
  "1e3",
  "-0",
  ".inf",
  "-.Inf",
  ".nan",
  "0x1F",
  "0o17",
  "017",
  "1_000",
  "2001-12-14",
  "12:30:45",
  "1.2.3",
  "v1.2.3",
  "1.2",
  "'1.2.3'",
  '"1.2.3"',
  '""',
  "''",
  '" "',
  '"\\t"',
  '"yes"',
  '"1"',
  '"true"',
  '"on"',
  '"null"',
  "unknown",
  '"unknown"',
  "abc",
  '"a b"',
  '"ümlaut"',
  '"名前"',
  '"emoji 🎉"',
  '"line\\nbreak"',
  '"/abs/path"',
  '"C:\\\\win"',
  '"..\\\\up"',
  '"../up"',
  "'single'",
  "!!str 1",
  "!!int '7'",
  "[]",
  "{}",
  "[[]]",
  "[{}]",
  "[1, 2]",
  "[a, b]",
] as const;

const oddScalar: fc.Arbitrary<YamlNode> = fc.constantFrom(...ODD_TOKENS).map(raw);
const word = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);
const anyString = fc.oneof(
  word,
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.constantFrom("", " ", "\t", "a".repeat(129), "x".repeat(1000)),
);
const quotedString = anyString.map(q);

/** Any value at all: what a mutation puts where a field expects something specific. */
const anyValue: fc.Arbitrary<YamlNode> = fc.letrec<{ v: YamlNode }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    oddScalar,
    quotedString,
    fc.integer().map((n) => raw(String(n))),
    fc.double({ noNaN: true }).map((d) => raw(String(d))),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.array(fc.tuple(word, tie("v")), { maxLength: 3 }).map((e) => ({ mapping: e })),
  ),
})).v;

const versionToken = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("1.0.0", "0.1.0", "2.3.4-nightly", "unknown").map(q) },
  fc
    .tuple(fc.nat(99), fc.nat(99), fc.nat(99), fc.constantFrom("", "-nightly", "rc1", "a", "-", "+local", ".4", "b2"))
    .map(([a, b, c, s]) => `${a}.${b}.${c}${s}`)
    .chain((v) => fc.constantFrom(q(v), raw(v))),
  fc.constantFrom("unknown", "v1.0.0", "1", "1.0", "", "1.0.0 ", " 1.0.0", "1..0", "01.2.3").map(q),
  fc.constantFrom("1.0", "1", "1.0.0", "~", "[1, 0, 0]").map(raw),
  fc.constant(q(`1.0.0${"a".repeat(130)}`)),
);

const nameToken = fc.oneof(
  { weight: 6, arbitrary: word.map(q) },
  { weight: 3, arbitrary: word.map(raw) },
  fc.constantFrom("", " ", "My Tesseract", "UPPER", "a:b", "a/b", "123", "x".repeat(300)).map(q),
  fc.constantFrom("123", "1.5", "yes", "~", "[a]", "{}").map(raw),
);

const strList = fc.array(fc.oneof(word.map(q), word.map(raw)), { maxLength: 3 });
const relPath = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("data/a.json", "a.py", "x/y/z.txt") },
  fc.constantFrom(
    "data/a.json",
    "a.py",
    "./x",
    "../up.txt",
    "/abs.txt",
    "C:\\\\x",
    "\\\\\\\\srv\\\\s",
    "\\\\srv\\s",
    "//srv/s",
    "\\\\?\\C:\\x",
    "C:x",
    "c:/x",
    "",
  ),
);

const pick = (good: string[], bad: string[]) =>
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...good) }, fc.constantFrom(...bad)).map(q);

const requirementsNode = fc.oneof(
  fc
    .record(
      {
        provider: pick(["uv-pip"], ["conda", "python-pip", "pip", "", "UV-PIP"]),
        python_version: fc.oneof(
          fc.constantFrom("3.11", "3.12", "3").map(q),
          fc.constantFrom("3.12", "~", "3").map(raw),
        ),
        requirements_file: pick(
          ["tesseract_requirements.txt", "pylock.toml"],
          ["sub/r.txt", ".", "..", "", "r\\\\x.txt", " ", "a/"],
        ),
      },
      { requiredKeys: ["provider"] },
    )
    .map((r) => ({ mapping: Object.entries(r) as [string, YamlNode][] })),
  fc.constant({ mapping: [["provider", q("conda")]] as [string, YamlNode][] }),
);

const hostCredential = fc
  .record(
    {
      host: pick(["ghcr.io", "pypi.org:443"], ["a b", "", "host/x"]),
      secret_id: pick(["tok", "a.b_c-d"], ["bad id", ""]),
      username: pick(["__token__", "user"], ["has space", ""]),
    },
    { requiredKeys: ["host", "secret_id"] },
  )
  .map((r) => ({ mapping: Object.entries(r) as [string, YamlNode][] }));

const buildConfigFields: Record<string, fc.Arbitrary<YamlNode>> = {
  base_image: pick(["debian:bookworm-slim", "ubuntu:24.04"], [""]),
  target_platform: fc.constantFrom("native", "linux/arm64", "linux/amd64").map(q),
  extra_packages: strList,
  package_data: fc.oneof(fc.array(fc.tuple(relPath.map(q), word.map(q)), { maxLength: 3 }), fc.constant(raw("null"))),
  custom_build_steps: fc.oneof(
    fc.array(fc.constantFrom("RUN echo hi", "ENV A=1").map(q), { maxLength: 2 }),
    fc.constant(raw("~")),
  ),
  inherit_base_image_packages: fc
    .constantFrom("true", "false", "yes", "off", "1", "0", '"y"', '"F"', '"  yes "', "1.0")
    .map(raw),
  requirements: requirementsNode,
  host_credentials: fc.array(hostCredential, { maxLength: 2 }),
  build_env: fc.array(fc.tuple(word, quotedString), { maxLength: 2 }).map((e) => ({ mapping: e })),
  skip_checks: fc
    .constantFrom("true", "false", "yes", "no", "on", "maybe", "2", '"true"', '"1"', "1.0", "0.0", "y", "N")
    .map(raw),
};

const topFields: Record<string, fc.Arbitrary<YamlNode>> = {
  name: nameToken,
  version: versionToken,
  description: quotedString,
  build_config: fc.oneof(
    { weight: 6, arbitrary: fieldsMap(buildConfigFields, []) },
    { weight: 1, arbitrary: fc.constantFrom(raw("~"), raw("{}"), raw("null")) },
  ),
  env: fc.array(fc.tuple(word, fc.oneof(quotedString, oddScalar)), { maxLength: 3 }).map((e) => ({ mapping: e })),
  metadata: fc.array(fc.tuple(word, anyValue), { maxLength: 3 }).map((e) => ({ mapping: e })),
};

/** A mapping with a random subset of `fields` (always `required`), valid values first. */
function fieldsMap(fields: Record<string, fc.Arbitrary<YamlNode>>, required: string[]): fc.Arbitrary<YamlNode> {
  return fc.record(fields, { requiredKeys: required as never[] }).map((r) => ({
    mapping: Object.entries(r) as [string, YamlNode][],
  }));
}

type Mutation = (doc: YamlNode) => fc.Arbitrary<YamlNode>;

/** Every mapping in the document, by path (so mutations reach every level). */
function mappings(node: YamlNode, path: number[] = [], out: number[][] = []): number[][] {
  if ("mapping" in node) {
    out.push(path);
    node.mapping.forEach(([, v], i) => {
      mappings(v, [...path, i], out);
    });
  }
  return out;
}

function at(node: YamlNode, path: number[]): { mapping: [string, YamlNode][] } {
  let cur = node as { mapping: [string, YamlNode][] };
  for (const i of path) cur = cur.mapping[i][1] as { mapping: [string, YamlNode][] };
  return cur;
}

const clone = (n: YamlNode): YamlNode => structuredClone(n);

const mutations: Mutation[] = [
  // an unknown key at some level
  (doc) =>
    fc
      .tuple(
        fc.nat(),
        fc.oneof(word, fc.constantFrom("Name", "build-config", "buildConfig", "requirements", "")),
        anyValue,
      )
      .map(([k, key, v]) => {
        const d = clone(doc);
        const paths = mappings(d);
        at(d, paths[k % paths.length]).mapping.push([key || '""', v]);
        return d;
      }),
  // a field's value replaced by anything
  (doc) =>
    fc.tuple(fc.nat(), fc.nat(), anyValue).map(([k, j, v]) => {
      const d = clone(doc);
      const paths = mappings(d).filter((p) => at(d, p).mapping.length > 0);
      if (!paths.length) return d;
      const m = at(d, paths[k % paths.length]);
      m.mapping[j % m.mapping.length][1] = v;
      return d;
    }),
  // a required key dropped
  (doc) =>
    fc.nat().map((k) => {
      const d = clone(doc) as { mapping: [string, YamlNode][] };
      if (d.mapping.length) d.mapping.splice(k % d.mapping.length, 1);
      return d;
    }),
  // a huge list or string somewhere
  (doc) =>
    fc.constantFrom("extra_packages", "env", "description").map((field) => {
      const d = clone(doc) as { mapping: [string, YamlNode][] };
      const big =
        field === "description"
          ? q("d".repeat(5_000))
          : field === "env"
            ? { mapping: Array.from({ length: 40 }, (_, i) => [`K${i}`, q(`v${i}`)] as [string, YamlNode]) }
            : Array.from({ length: 100 }, (_, i) => q(`pkg${i}`));
      if (field === "extra_packages") d.mapping.push(["build_config", { mapping: [["extra_packages", big]] }]);
      else d.mapping.push([field, big]);
      return d;
    }),
];

/** A document: valid (about a third) or mutated once or twice. */
export const configDoc: fc.Arbitrary<YamlNode> = fieldsMap(topFields, ["name"]).chain((doc) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(doc) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...mutations)
        .chain((m) => m(doc))
        .chain((d) =>
          fc.oneof(
            fc.constant(d),
            fc.constantFrom(...mutations).chain((m) => m(d)),
          ),
        ),
    },
  ),
);

function flow(node: YamlNode): string {
  if (Array.isArray(node)) return `[${node.map(flow).join(", ")}]`;
  if ("mapping" in node) return `{${node.mapping.map(([k, v]) => `${k}: ${flow(v)}`).join(", ")}}`;
  return node.raw;
}

/** The document as YAML text: the top level in block style, values in flow style. */
export function emitYaml(node: YamlNode): string {
  if (!("mapping" in node)) return `${flow(node)}\n`;
  return node.mapping.map(([k, v]) => `${k}: ${flow(v)}\n`).join("");
}

/** `n` documents from a fixed seed (the same list every run). */
export function sampleConfigDocs(n: number, seed: number): string[] {
  return fc.sample(configDoc, { numRuns: n, seed }).map(emitYaml);
}
