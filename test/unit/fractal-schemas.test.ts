/**
 * Validation identical to fractal-server (2.24.4): validate_cmd, NonEmptyStr, AbsolutePathStr,
 * one-of rules, unknown keys, name normalisation, manifest and TaskCreate rules — through the
 * TaskGroup provider's `check`, so each rule is proven at `pulumi preview` time.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { UNKNOWN } from "../../provider/common/unknown";
import { comparePep440, pickVersion } from "../../provider/fractal/package-index";
import { ManifestV2, parseManifest, prepareTasks } from "../../provider/fractal/schemas";
import {
  FORBIDDEN_COMMAND_CHARS,
  normalizePackageName,
  normpath,
  parseWheelFilename,
  validateCmd,
} from "../../provider/fractal/validators";
import { check, diff } from "../../provider/resources/task-group-impl";

process.env.PULUMI_TESSERACT_QUIET = "1";

async function failures(news: Record<string, unknown>): Promise<string[]> {
  const r = await check({}, news);
  return (r.failures ?? []).map((f) => f.reason);
}

function expectFailure(list: string[], ...parts: string[]): void {
  assert.ok(
    list.some((r) => parts.every((p) => r.includes(p))),
    `expected a failure containing ${JSON.stringify(parts)}, got ${JSON.stringify(list)}`,
  );
}

const manifest = {
  manifest_version: "2",
  task_list: [{ name: "a", executable_non_parallel: "a.py" }],
};
const custom = {
  manifest,
  pythonInterpreter: "/usr/bin/python3",
  label: "my-tasks",
  packageRoot: "/opt/pkg",
  version: "1.0",
};

describe("validate_cmd", () => {
  it("has exactly the 18 characters of fractal-server", () => {
    assert.equal(FORBIDDEN_COMMAND_CHARS.length, 18);
    assert.equal(new Set(FORBIDDEN_COMMAND_CHARS).size, 18);
    for (const ch of "`#$&*()\\|[]{};<>?!") assert.ok(validateCmd(`a${ch}b`), ch);
    for (const ch of " '\",=~+/%-.:@^") assert.equal(validateCmd(`a${ch}b`), undefined, ch);
    assert.equal(validateCmd("pkg[extra]", "[]"), undefined);
  });

  for (const ch of FORBIDDEN_COMMAND_CHARS) {
    it(`rejects ${JSON.stringify(ch)} in package, version, extras and pins`, async () => {
      expectFailure(await failures({ pip: { package: `evil${ch}pkg` } }), "pip.package", JSON.stringify(ch));
      expectFailure(
        await failures({ pip: { package: "ok", packageVersion: `1.0${ch}` } }),
        "pip.packageVersion",
        JSON.stringify(ch),
      );
      expectFailure(
        await failures({ pip: { package: "ok", packageExtras: `a${ch}` } }),
        "pip.packageExtras",
        JSON.stringify(ch),
      );
      expectFailure(
        await failures({ pip: { package: "ok", pinnedPackageVersionsPre: { numpy: `1${ch}` } } }),
        "pinnedPackageVersionsPre",
        JSON.stringify(ch),
      );
      expectFailure(
        await failures({ custom: { ...custom, packageRoot: undefined, packageName: `x${ch}` } }),
        "custom.packageName",
        JSON.stringify(ch),
      );
      if (ch !== "[" && ch !== "]") {
        expectFailure(
          await failures({ pip: { package: "ok", pinnedPackageVersionsPost: { [`np${ch}`]: "1" } } }),
          "pinnedPackageVersionsPost",
          JSON.stringify(ch),
        );
      }
    });
  }

  it("allows [] in pin keys only", async () => {
    assert.deepEqual(await failures({ pip: { package: "ok", pinnedPackageVersionsPre: { "pkg[extra]": "1.0" } } }), []);
    expectFailure(
      await failures({ pip: { package: "ok", pinnedPackageVersionsPre: { pkg: "1.0[x]" } } }),
      "pinnedPackageVersionsPre",
    );
  });
});

describe("strings, paths and dicts", () => {
  it("strips then requires non-empty", async () => {
    expectFailure(await failures({ pip: { package: "   " } }), "pip.package", "must not be empty");
    const r = await check({}, { pip: { package: "  testing-tasks-mock  " } });
    assert.equal((r.inputs as { pip: { package: string } }).pip.package, "testing-tasks-mock");
  });
  it("pinned dicts: stripped keys, no empty or duplicate keys, non-empty values", async () => {
    expectFailure(await failures({ pip: { package: "ok", pinnedPackageVersionsPre: { " ": "1" } } }), "empty key");
    expectFailure(
      await failures({ pip: { package: "ok", pinnedPackageVersionsPre: { a: "1", " a ": "2" } } }),
      "identical keys",
    );
    expectFailure(
      await failures({ pip: { package: "ok", pinnedPackageVersionsPre: { a: "  " } } }),
      "value must not be empty",
    );
  });
  it("absolute paths without '..', normalised", async () => {
    expectFailure(
      await failures({ custom: { ...custom, pythonInterpreter: "venv/bin/python" } }),
      "custom.pythonInterpreter",
      "absolute path",
    );
    expectFailure(await failures({ custom: { ...custom, packageRoot: "/opt/../etc" } }), "custom.packageRoot", "'..'");
    expectFailure(
      await failures({ pip: { wheelFile: "dist/x-1.0-py3-none-any.whl" } }),
      "pip.wheelFile",
      "absolute path",
    );
    assert.equal(normpath("/a//b/./c/"), "/a/b/c");
    const r = await check({}, { custom: { ...custom, packageRoot: "/opt//pkg/" } });
    assert.equal((r.inputs as { custom: { packageRoot: string } }).custom.packageRoot, "/opt/pkg");
  });
  it("pythonVersion 3.9–3.14 only", async () => {
    expectFailure(await failures({ pip: { package: "ok", pythonVersion: "3.8" } }), "pip.pythonVersion", "3.9");
    assert.deepEqual(await failures({ pip: { package: "ok", pythonVersion: "3.14" } }), []);
  });
});

describe("one-of rules and unknown keys", () => {
  it("exactly one of pip / custom", async () => {
    expectFailure(await failures({}), "exactly one of `pip` and `custom`", "neither");
    expectFailure(await failures({ pip: { package: "x" }, custom }), "both");
  });
  it("exactly one of package / wheelFile; no packageVersion with a wheel", async () => {
    expectFailure(await failures({ pip: {} }), "`package` and `wheelFile`", "neither");
    expectFailure(await failures({ pip: { package: "x", wheelFile: "/tmp/x-1.0-py3-none-any.whl" } }), "both");
    expectFailure(
      await failures({ pip: { wheelFile: "/tmp/x-1.0-py3-none-any.whl", packageVersion: "1" } }),
      "pip.packageVersion",
    );
  });
  it("exactly one of packageRoot / packageName", async () => {
    expectFailure(
      await failures({ custom: { ...custom, packageName: "pkg" } }),
      "`packageRoot` and `packageName`",
      "both",
    );
    expectFailure(
      await failures({ custom: { ...custom, packageRoot: undefined } }),
      "`packageRoot` and `packageName`",
      "neither",
    );
  });
  it("custom.version is required (TaskCollectCustom since 2.23), reported with the other rules", async () => {
    const list = await failures({ custom: { ...custom, version: undefined, packageName: "pkg" } });
    expectFailure(list, "custom.version", "is required", "2.23", 'version: "1.0"');
    expectFailure(list, "`packageRoot` and `packageName`", "both");
    expectFailure(await failures({ custom: { ...custom, version: "  " } }), "custom.version", "must not be empty");
    // An unknown version (preview) is not reported.
    assert.deepEqual(await failures({ custom: { ...custom, version: UNKNOWN } }), []);
  });
  it("rejects unknown keys everywhere", async () => {
    expectFailure(
      await failures({ pip: { package: "x", pinned_package_versions: {} } }),
      "pip",
      "pinned_package_versions",
    );
    expectFailure(await failures({ custom: { ...custom, source: "x" } }), "custom", "source");
    expectFailure(await failures({ pip: { package: "x" }, tasksdir: "/tmp" }), "tasksdir");
  });
  it("privateGroup and userGroupId are exclusive", async () => {
    expectFailure(await failures({ pip: { package: "x" }, privateGroup: true, userGroupId: 3 }), "userGroupId");
  });
  it("never echoes the server password", async () => {
    const list = await failures({
      pip: { package: "x" },
      server: { url: "not a url", email: "a@b.org", password: "hunter2-secret" },
    });
    assert.ok(list.length > 0);
    for (const r of list) assert.ok(!r.includes("hunter2-secret"), r);
  });
  it("tolerates preview unknowns", async () => {
    const r = await check({}, { pip: { package: UNKNOWN, packageVersion: "1.0" }, tasksDir: UNKNOWN });
    assert.deepEqual(r.failures ?? [], []);
    const r2 = await check({}, { pip: { package: UNKNOWN, packageVersion: "1$0" } });
    expectFailure(
      (r2.failures ?? []).map((f) => f.reason),
      "pip.packageVersion",
    );
  });
});

describe("names and versions", () => {
  it("normalises package names like PyPA", () => {
    assert.equal(normalizePackageName("FrAcTaL_TaSkS...NoN--CaNoNiCaL"), "fractal-tasks-non-canonical");
  });
  it("parses wheel file names like fractal-server", () => {
    assert.deepEqual(parseWheelFilename("FrAcTaL_TaSkS-0.0.1-py3-none-any.whl"), {
      distribution: "FrAcTaL_TaSkS",
      version: "0.0.1",
      pkgName: "fractal-tasks",
    });
    assert.throws(() => parseWheelFilename("nodash.whl"), /invalid wheel file name/);
    assert.throws(() => parseWheelFilename("a;b-1.whl"), /forbidden/);
  });
  it("picks versions like get_package_version_from_pypi", () => {
    const vs = ["0.9", "1.3.9", "1.3.10", "2.0.0rc1", "1.10.0"];
    assert.equal(pickVersion("x", vs, "1.3.10"), "1.3.10");
    assert.equal(pickVersion("x", vs, "1.3"), "1.3.9", "lexicographic prefix pick, as the server does");
    assert.equal(pickVersion("x", vs), "2.0.0rc1");
    assert.throws(() => pickVersion("x", vs, "7"), /no version of 'x' starting with '7'/);
    assert.ok(comparePep440("1.10", "1.9") > 0);
    assert.ok(comparePep440("1.0rc1", "1.0") < 0);
    assert.ok(comparePep440("1.0.post1", "1.0") > 0);
    assert.ok(comparePep440("1.0.dev1", "1.0a1") < 0);
  });
});

describe("manifest rules (ManifestV2 + TaskCreate)", () => {
  const bad = async (m: unknown, ...parts: string[]) =>
    expectFailure(await failures({ custom: { ...custom, manifest: m } }), "custom.manifest", ...parts);
  it("accepts the smallest manifest", () => {
    assert.ok(ManifestV2.safeParse(manifest).success);
  });
  it('requires manifest_version "2"', async () => bad({ ...manifest, manifest_version: "9999" }, "manifest_version"));
  it("requires unique task names", async () =>
    bad({ ...manifest, task_list: [manifest.task_list[0], manifest.task_list[0]] }, "unique", "a"));
  it("requires at least one executable", async () =>
    bad({ ...manifest, task_list: [{ name: "a" }] }, "cannot be both missing"));
  it("meta/args only with their executable", async () => {
    await bad(
      { ...manifest, task_list: [{ name: "a", executable_parallel: "a.py", meta_non_parallel: { x: 1 } }] },
      "meta_non_parallel",
    );
    await bad(
      { ...manifest, task_list: [{ name: "a", executable_non_parallel: "a.py", args_schema_parallel: {} }] },
      "args_schema_parallel",
    );
  });
  it("args schemas complete when has_args_schemas", async () =>
    bad({ ...manifest, has_args_schemas: true }, "has_args_schemas", "args_schema_non_parallel"));
  it("docs_link must be http(s)", async () =>
    bad(
      { ...manifest, task_list: [{ name: "a", executable_non_parallel: "a.py", docs_link: "ftp://x" }] },
      "docs_link",
      "http",
    ));
  it("unknown task type rejected", async () =>
    bad({ ...manifest, task_list: [{ name: "a", executable_non_parallel: "a.py", type: "serial" }] }, "type"));
  it("TaskCreate: non-empty name/category, unique tags, safe commands, derived type", () => {
    const m = parseManifest({
      manifest_version: "2",
      task_list: [
        { name: " ", executable_non_parallel: "a.py", category: "", tags: ["x", "x"] },
        { name: "b", executable_parallel: "b$.py" },
      ],
    }).manifest as ManifestV2;
    assert.throws(
      () => prepareTasks(m, "/v/bin/python", "/pkg"),
      (err: Error) => {
        for (const p of ["name must not be empty", "category", "tags have repetitions", "command_parallel", '"$"']) {
          assert.ok(err.message.includes(p), `${p} in ${err.message}`);
        }
        return true;
      },
    );
    const ok = parseManifest({
      manifest_version: "2",
      task_list: [
        { name: "np", executable_non_parallel: "np.py" },
        { name: "p", executable_parallel: "p.py" },
        { name: "c", executable_non_parallel: "i.py", executable_parallel: "c.py" },
      ],
    }).manifest as ManifestV2;
    const tasks = prepareTasks(ok, "/v/bin/python", "/pkg/", "1.0");
    assert.deepEqual(
      tasks.map((t) => t.type),
      ["non_parallel", "parallel", "compound"],
    );
    assert.equal(tasks[0].commandNonParallel, "/v/bin/python /pkg/np.py");
  });
  it("reads a manifest path and validates it at check", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pt-manifest-"));
    const file = path.join(dir, "__FRACTAL_MANIFEST__.json");
    writeFileSync(file, JSON.stringify({ ...manifest, manifest_version: "1" }));
    expectFailure(await failures({ custom: { ...custom, manifest: file } }), "custom.manifest", "manifest_version");
    writeFileSync(file, JSON.stringify(manifest));
    const r = await check({}, { custom: { ...custom, manifest: file } });
    assert.deepEqual(r.failures ?? [], []);
    assert.match(String((r.inputs as { manifestSha256: string }).manifestSha256), /^[0-9a-f]{64}$/);
  });
});

describe("diff", () => {
  const olds = {
    pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
    active: true,
    backend: "local",
    resolvedBackend: "local",
    pkgName: "testing-tasks-mock",
    version: "0.1.5",
    origin: "pypi",
    tasks: [],
    activityLog: "",
  } as never;
  it("active changes in place", async () => {
    const d = await diff("id", olds, {
      pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
      active: false,
      backend: "local",
    } as never);
    assert.equal(d.changes, true);
    assert.equal(d.replaces, undefined);
  });
  it("anything else replaces; delete first when (pkg, version) stays", async () => {
    const d = await diff("id", olds, {
      pip: { package: "testing-tasks-mock", packageVersion: "0.1.5", packageExtras: "dev" },
      active: true,
      backend: "local",
    } as never);
    assert.deepEqual(d.replaces, ["pip"]);
    assert.equal(d.deleteBeforeReplace, true);
    const d2 = await diff("id", olds, {
      pip: { package: "testing-tasks-mock", packageVersion: "0.1.4" },
      active: true,
      backend: "local",
    } as never);
    assert.equal(d2.deleteBeforeReplace, false);
  });
  it("no change, no diff", async () => {
    const d = await diff("id", olds, {
      pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
      active: true,
      backend: "local",
    } as never);
    assert.equal(d.changes, false);
  });
});
