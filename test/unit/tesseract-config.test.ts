import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import {
  applyConfigOverrides,
  checkTesseractApi,
  imageNameProblem,
  imageTags,
  outlineWithScanner,
  parseConfigYaml,
  readTesseractConfig,
  TesseractSourceError,
  tagProblem,
  validateConfig,
} from "../../provider/tesseract-config";
import { venvPython } from "../helpers/venv";

const tmp = mkdtempSync(path.join(tmpdir(), "pt-config-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function ours(yamlText: string): { ok: boolean; problems: string[] } {
  try {
    validateConfig(parseConfigYaml(yamlText, "tesseract_config.yaml"), "tesseract_config.yaml");
    return { ok: true, problems: [] };
  } catch (err) {
    if (err instanceof TesseractSourceError) return { ok: false, problems: err.problems };
    throw err;
  }
}

/** Cases checked against our schema and, when the venv exists, against upstream's pydantic models. */
const CASES: [string, string, boolean][] = [
  ["minimal", "name: a", true],
  [
    "full",
    'name: a\nversion: "1.2.3"\ndescription: d\nbuild_config:\n  base_image: debian:bookworm-slim\n  target_platform: linux/arm64\n  extra_packages: [gfortran]\n  package_data: [[a.json, b.json]]\n  custom_build_steps: ["RUN echo hi"]\n  skip_checks: true\n  build_env: {X: "1"}\nenv: {A: b}\nmetadata: {k: [1, 2, {x: y}]}',
    true,
  ],
  ["version with suffix", 'name: a\nversion: "1.2.3-nightly"', true],
  ["version unknown", "name: a\nversion: unknown", true],
  ["version v-prefixed", 'name: a\nversion: "v1.2.3"', false],
  ["version two parts", 'name: a\nversion: "1.2"', false],
  ["version plus", 'name: a\nversion: "1.2.3+local"', false],
  ["version float", "name: a\nversion: 1.2", false],
  ["missing name", "version: unknown", false],
  ["empty name", 'name: ""', false],
  ["numeric name", "name: 12", false],
  ["unknown top key", "name: a\nfoo: 1", false],
  ["unknown build key", "name: a\nbuild_config:\n  bogus: 1", false],
  ["unknown requirements key", "name: a\nbuild_config:\n  requirements: {provider: uv-pip, extra: 1}", false],
  ["conda", "name: a\nbuild_config:\n  requirements: {provider: conda}", true],
  ["python-pip renamed", "name: a\nbuild_config:\n  requirements: {provider: python-pip}", false],
  ["python_version", 'name: a\nbuild_config:\n  requirements: {provider: uv-pip, python_version: "3.12"}', true],
  [
    "python_version + inherit",
    'name: a\nbuild_config:\n  inherit_base_image_packages: true\n  requirements: {provider: uv-pip, python_version: "3.12"}',
    false,
  ],
  [
    "requirements_file path",
    "name: a\nbuild_config:\n  requirements: {provider: uv-pip, requirements_file: sub/r.txt}",
    false,
  ],
  ["build_config null", "name: a\nbuild_config:", true],
  ["package_data absolute", "name: a\nbuild_config:\n  package_data: [[/etc/passwd, x]]", false],
  ["package_data windows absolute", "name: a\nbuild_config:\n  package_data: [['C:\\x', x]]", false],
  ["package_data triple", "name: a\nbuild_config:\n  package_data: [[a, b, c]]", false],
  ["package_data null", "name: a\nbuild_config:\n  package_data: null", true],
  ["custom_build_steps number", "name: a\nbuild_config:\n  custom_build_steps: [1]", false],
  ["extra_packages string", "name: a\nbuild_config:\n  extra_packages: gfortran", false],
  ["skip_checks yes", "name: a\nbuild_config:\n  skip_checks: yes", true],
  ["skip_checks string true", 'name: a\nbuild_config:\n  skip_checks: "true"', true],
  ["skip_checks maybe", "name: a\nbuild_config:\n  skip_checks: maybe", false],
  ["env number value", "name: a\nenv: {A: 1}", false],
  ["metadata anything", "name: a\nmetadata: {a: 1, b: null}", true],
  ["host credential bad host", "name: a\nbuild_config:\n  host_credentials: [{host: 'a b', secret_id: s}]", false],
  ["not a mapping", "- a\n- b", false],
];

describe("tesseract_config.yaml schema", () => {
  for (const [label, text, ok] of CASES) {
    test(`${label}: ${ok ? "accepted" : "rejected"}`, () => {
      const res = ours(text);
      assert.equal(res.ok, ok, res.problems.join("\n"));
      if (!ok)
        assert.ok(
          res.problems.every((p) => p.includes("tesseract_config.yaml")),
          res.problems.join("\n"),
        );
    });
  }

  test("errors name the file, the field and the value", () => {
    const { problems } = ours("name: a\nbuild_config:\n  bogus: 1\nversion: v1");
    const text = problems.join("\n");
    assert.match(text, /field build_config: unknown key\(s\) "bogus".*allowed here: base_image/);
    assert.match(text, /field version: is not a valid version number.*\(got "v1"\)/);
  });

  test("defaults match upstream", () => {
    const c = validateConfig({ name: "x" }, "x");
    assert.equal(c.version, "unknown");
    assert.equal(c.build_config.base_image, "debian:bookworm-slim");
    assert.equal(c.build_config.target_platform, "native");
    assert.deepEqual(c.build_config.requirements, {
      provider: "uv-pip",
      python_version: null,
      requirements_file: "tesseract_requirements.txt",
    });
    assert.equal(c.build_config.skip_checks, false);
  });

  test("invalid YAML names the line", () => {
    assert.throws(
      () => parseConfigYaml("name: a\n  b: [\n", "cfg.yaml"),
      (e: Error) => /cfg.yaml: invalid YAML at line \d+/.test(e.message),
    );
  });

  const python = venvPython();
  test("accepts and rejects exactly what upstream's pydantic models do", {
    skip: !python,
  }, () => {
    const script = `
import json, sys, yaml
from tesseract_core.sdk.api_parse import TesseractConfig
out = []
for text in json.load(sys.stdin):
    try:
        v = yaml.safe_load(text)
        if not isinstance(v, dict): raise ValueError("not a mapping")
        TesseractConfig(**v); out.append(True)
    except Exception:
        out.append(False)
print(json.dumps(out))`;
    const upstream = JSON.parse(
      execFileSync(python as string, ["-c", script], { input: JSON.stringify(CASES.map((c) => c[1])) }).toString(),
    ) as boolean[];
    for (const [k, [label, text]] of CASES.entries()) {
      assert.equal(ours(text).ok, upstream[k], `${label}: upstream ${upstream[k] ? "accepts" : "rejects"} it`);
    }
  });
});

describe("config overrides", () => {
  const base = validateConfig({ name: "x", version: "1.0.0" }, "x");
  test("set nested values, parsing strings as YAML first", () => {
    const c = applyConfigOverrides(base, {
      name: "y",
      "build_config.extra_packages": "[gfortran, make]",
      "build_config.skip_checks": "true",
      "build_config.requirements.python_version": "3.10",
      version: "2.0.0",
    });
    assert.equal(c.name, "y");
    assert.deepEqual(c.build_config.extra_packages, ["gfortran", "make"]);
    assert.equal(c.build_config.skip_checks, true);
    assert.equal(
      c.build_config.requirements.provider === "uv-pip" && c.build_config.requirements.python_version,
      "3.10",
    );
    assert.equal(c.version, "2.0.0");
    assert.equal(base.name, "x", "the original is not modified");
  });
  test("unknown key paths list the valid options", () => {
    assert.throws(
      () => applyConfigOverrides(base, { "build_config.nope": 1 }),
      (e: TesseractSourceError) =>
        e.input === "configOverride" &&
        /"build_config.nope" is not a known config option\. Valid options under build_config: base_image/.test(
          e.message,
        ),
    );
  });
  test("values are validated", () => {
    assert.throws(
      () => applyConfigOverrides(base, { version: "v2" }),
      (e: TesseractSourceError) => e.input === "configOverride" && /version/.test(e.message),
    );
    assert.throws(() => applyConfigOverrides(base, { "build_config.package_data": [["/abs", "x"]] }), /relative path/);
  });
});

describe("tesseract_api.py checks", () => {
  const write = (name: string, api: string) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "tesseract_api.py"), api);
    writeFileSync(path.join(dir, "tesseract_config.yaml"), `name: ${name}\n`);
    return dir;
  };
  const GOOD = `from pydantic import BaseModel\nclass InputSchema(BaseModel):\n    a: int\nclass OutputSchema(BaseModel):\n    b: int\ndef apply(inputs):\n    return OutputSchema(b=inputs.a)\n`;
  const variants: [string, string, RegExp | null, string[]?][] = [
    ["good", GOOD, null, ["apply"]],
    [
      "all-endpoints",
      `${GOOD}def jacobian(inputs, jac_inputs, jac_outputs): pass\ndef jacobian_vector_product(inputs, jvp_inputs, jvp_outputs, tangent_vector): pass\ndef vector_jacobian_product(inputs, vjp_inputs, vjp_outputs, cotangent_vector): pass\ndef abstract_eval(abstract_inputs): pass\n`,
      null,
      ["apply", "jacobian", "jacobian_vector_product", "vector_jacobian_product", "abstract_eval"],
    ],
    ["no-apply", GOOD.replace("def apply(inputs):\n    return OutputSchema(b=inputs.a)\n", ""), /apply not defined/],
    ["no-input-schema", GOOD.replace("class InputSchema(BaseModel):\n    a: int\n", ""), /InputSchema not defined/],
    [
      "no-base",
      GOOD.replace("class OutputSchema(BaseModel):", "class OutputSchema:"),
      /OutputSchema .* must inherit from pydantic.BaseModel/,
    ],
    [
      "wrong-args",
      `${GOOD}def jacobian(inputs, wrt, of): pass\n`,
      /second argument of jacobian must be named jac_inputs, not wrt.*third argument of jacobian must be named jac_outputs, not of/,
    ],
    [
      "wrong-count",
      GOOD.replace("def apply(inputs):", "def apply(inputs, extra):"),
      /apply \(line 6\) must have 1 argument\(s\): inputs; it has 2: inputs, extra/,
    ],
    ["kwonly", GOOD.replace("def apply(inputs):", "def apply(*, inputs):"), /keyword-only/],
    ["posonly", GOOD.replace("def apply(inputs):", "def apply(inputs, /):"), /positional-only/],
    ["async", GOOD.replace("def apply(inputs):", "async def apply(inputs):"), /async def is not supported/],
    [
      "syntax",
      GOOD.replace("return OutputSchema(b=inputs.a)", "return OutputSchema(b=inputs.a"),
      /syntax error at line \d+/,
    ],
    [
      "multiline-sig",
      `${GOOD}def jacobian(\n    inputs,  # the inputs\n    jac_inputs: set[str] = frozenset({"a", "b"}),\n    jac_outputs=("x,y"),\n):\n    pass\n`,
      null,
      ["apply", "jacobian"],
    ],
  ];
  for (const parser of ["python3", "scanner"] as const) {
    for (const [name, api, problem, endpoints] of variants) {
      test(`${parser}: ${name}`, () => {
        const dir = write(`${parser}-${name}`, api);
        const prev = process.env.PULUMI_TESSERACT_NO_PYTHON;
        if (parser === "scanner") process.env.PULUMI_TESSERACT_NO_PYTHON = "1";
        try {
          const res = checkTesseractApi(dir);
          if (problem) {
            assert.ok(
              res.problems.some((p) => problem.test(p)),
              res.problems.join("\n") || "(no problem reported)",
            );
            assert.ok(res.problems.every((p) => p.includes("tesseract_api.py")));
          } else {
            assert.deepEqual(res.problems, []);
            assert.deepEqual(res.endpoints, endpoints);
          }
        } finally {
          if (prev === undefined) delete process.env.PULUMI_TESSERACT_NO_PYTHON;
          else process.env.PULUMI_TESSERACT_NO_PYTHON = prev;
        }
      });
    }
  }
  test("scanner ignores defs inside strings and nested blocks", () => {
    const o = outlineWithScanner(
      `x = """\ndef apply(a, b):\n"""\nclass A(B):\n    def apply(self): pass\nif True:\n    def jacobian(x): pass\n`,
    );
    assert.deepEqual(Object.keys(o.defs), ["A"]);
  });
  test("the examples pass", () => {
    for (const ex of ["hello", "vectoradd", "packaged"]) {
      const dir = path.join(__dirname, "../../examples/tesseracts", ex);
      assert.deepEqual(checkTesseractApi(dir).problems, [], ex);
      readTesseractConfig(dir);
    }
    assert.deepEqual(checkTesseractApi(path.join(__dirname, "../../examples/tesseracts/vectoradd")).endpoints, [
      "apply",
      "jacobian",
    ]);
  });
});

describe("image names and tags", () => {
  test("tags", () => {
    for (const t of ["1.0.0", "latest", "dev_1", "A.b-C"]) assert.equal(tagProblem(t), undefined, t);
    for (const t of ["", "a:b", "a/b", "x".repeat(129), "-x", "with space"]) assert.ok(tagProblem(t), t);
  });
  test("names", () => {
    for (const n of [
      "hello",
      "my-tesseract",
      "a__b",
      "a.b",
      "org/name",
      "localhost:5000/x/y",
      "registry.example.com/a",
    ])
      assert.equal(imageNameProblem(n), undefined, n);
    for (const n of ["Hello", "a b", "-a", "a-", "a//b", "a..b", "UPPER/x"]) assert.ok(imageNameProblem(n), n);
    assert.match(imageNameProblem("My Tesseract")!, /fix: set `name: my-tesseract`/);
  });
  test("tags like upstream", () => {
    assert.deepEqual(imageTags("x", "1.0.0"), ["x:1.0.0", "x:latest"]);
    assert.deepEqual(imageTags("x", "1.0.0", "dev"), ["x:dev"]);
  });
});
