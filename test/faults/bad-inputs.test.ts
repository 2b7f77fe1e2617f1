/**
 * Bad input, table-driven: every row must be refused by the resource's `check` (the provider
 * loaded from its serialized `__provider`, as the engine does) or by the function call, with a
 * message that names the field and says what to do, and nothing may be created.
 * The engine path (`pulumi preview`) is covered by bad-inputs-preview.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { engineProvider } from "../helpers/faults/providers";
import { findSecrets, Report } from "../helpers/faults/report";
import { CALCULUS_API, type ServedRuntime, serveRuntime } from "../helpers/serve-runtime";

const report = new Report("bad-inputs");
const work = mkdtempSync(path.join(tmpdir(), "pt-bad-inputs-"));
const tasksDir = path.join(work, "tasks");
mkdirSync(tasksDir);

after(() => {
  rmSync(work, { recursive: true, force: true });
});

export interface BadRow {
  /** Short unique name. */
  name: string;
  /** The inputs (or call arguments). */
  inputs: Record<string, unknown>;
  /** The field the message must name (a failure's property starts with it, or its reason contains it). */
  field: string;
  /** What the message must say (the rule / the fix). */
  says: RegExp;
}

type Provider = pulumi.dynamic.ResourceProvider;

/** Runs one row against a provider's check; returns the matching failure text. */
async function expectRefused(provider: Provider, row: BadRow): Promise<string> {
  report.add("inputsTried");
  const res = await provider.check?.({}, row.inputs);
  const failures = res?.failures ?? [];
  assert.ok(failures.length > 0, `${row.name}: accepted ${JSON.stringify(row.inputs)}`);
  report.add("inputsRefused");
  const text = failures.map((f) => `${f.property}: ${f.reason}`).join("\n");
  const named = failures.filter((f) => f.property.startsWith(row.field) || f.reason.includes(row.field));
  assert.ok(named.length > 0, `${row.name}: no failure names '${row.field}':\n${text}`);
  assert.ok(
    named.some((f) => row.says.test(f.reason)),
    `${row.name}: message does not say ${row.says}:\n${text}`,
  );
  report.add("inputsExplained");
  return text;
}

// ---- TaskGroup ------------------------------------------------------------------------------

const FORBIDDEN = "`#$&*()\\|[]{};<>?!";
const manifest = {
  manifest_version: "2",
  task_list: [{ name: "t", executable_non_parallel: "t.py" }],
};
const custom = (over: Record<string, unknown>) => ({
  tasksDir,
  backend: "local",
  custom: {
    manifest,
    pythonInterpreter: "/usr/bin/python3",
    label: "pt-bad",
    packageName: "pt_bad",
    version: "1.0",
    ...over,
  },
});
const pip = (over: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  tasksDir,
  backend: "local",
  pip: { package: "pt-fractal-tasks", packageVersion: "0.1.0", ...over },
  ...top,
});

export const taskGroupRows: BadRow[] = [
  // Each character fractal-server's validate_cmd forbids, in a package name.
  ...[...FORBIDDEN].map((ch) => ({
    name: `pip.package with ${JSON.stringify(ch)}`,
    inputs: pip({ package: `pt${ch}tasks` }),
    field: "pip.package",
    says: /must not contain any of the characters/,
  })),
  { name: "no pip nor custom", inputs: { tasksDir }, field: "pip", says: /exactly one of `pip` and `custom`/ },
  {
    name: "pip and custom",
    inputs: { ...pip({}), custom: custom({}).custom },
    field: "pip",
    says: /both are set/,
  },
  { name: "pip.package empty", inputs: pip({ package: "   " }), field: "pip.package", says: /must not be empty/ },
  { name: "pip neither package nor wheel", inputs: pip({ package: undefined }), field: "pip", says: /exactly one/ },
  {
    name: "pip.wheelFile relative",
    inputs: pip({ package: undefined, packageVersion: undefined, wheelFile: "dist/x-1.0-py3-none-any.whl" }),
    field: "pip.wheelFile",
    says: /absolute path/,
  },
  {
    name: "pip.wheelFile with ..",
    inputs: pip({ package: undefined, packageVersion: undefined, wheelFile: "/tmp/../x-1.0-py3-none-any.whl" }),
    field: "pip.wheelFile",
    says: /'\.\.'/,
  },
  {
    name: "pip.wheelFile without version part",
    inputs: pip({ package: undefined, packageVersion: undefined, wheelFile: "/tmp/nodash.whl" }),
    field: "pip.wheelFile",
    says: /<distribution>-<version>/,
  },
  {
    name: "pip.wheelFile with ;",
    inputs: pip({ package: undefined, packageVersion: undefined, wheelFile: "/tmp/a;b-1.0-py3-none-any.whl" }),
    field: "pip.wheelFile",
    says: /forbidden character/,
  },
  {
    name: "pip.wheelFile + packageVersion",
    inputs: pip({ package: undefined, wheelFile: "/tmp/x-1.0-py3-none-any.whl" }),
    field: "pip.packageVersion",
    says: /cannot be set with `wheelFile`/,
  },
  {
    name: "pip.packageVersion with >=",
    inputs: pip({ packageVersion: ">=1.0" }),
    field: "pip.packageVersion",
    says: /must not contain/,
  },
  {
    name: "pip.packageExtras with brackets",
    inputs: pip({ packageExtras: "[extra]" }),
    field: "pip.packageExtras",
    says: /must not contain/,
  },
  { name: "pip.pythonVersion 2.7", inputs: pip({ pythonVersion: "2.7" }), field: "pip.pythonVersion", says: /3\.9/ },
  {
    name: "pinned pre value with <",
    inputs: pip({ pinnedPackageVersionsPre: { numpy: "<2" } }),
    field: "pip.pinnedPackageVersionsPre",
    says: /must not contain/,
  },
  {
    name: "pinned post empty key",
    inputs: pip({ pinnedPackageVersionsPost: { "  ": "1.0" } }),
    field: "pip.pinnedPackageVersionsPost",
    says: /empty key/,
  },
  {
    name: "pinned post duplicate key after strip",
    inputs: pip({ pinnedPackageVersionsPost: { numpy: "1.0", " numpy ": "2.0" } }),
    field: "pip.pinnedPackageVersionsPost",
    says: /identical keys/,
  },
  { name: "pip unknown key", inputs: pip({ pakage: "x" }), field: "pip", says: /[Uu]nrecognized key/ },
  { name: "tasksDir relative", inputs: pip({}, { tasksDir: "tasks" }), field: "tasksDir", says: /absolute path/ },
  {
    name: "pipIndexUrl not http",
    inputs: pip({}, { pipIndexUrl: "ftp://127.0.0.1/simple" }),
    field: "pipIndexUrl",
    says: /http\(s\) URL/,
  },
  {
    name: "pipNoIndex with pipIndexUrl",
    inputs: pip({}, { pipNoIndex: true, pipIndexUrl: "http://127.0.0.1:1/simple" }),
    field: "pipIndexUrl",
    says: /cannot both be set/,
  },
  {
    name: "pipFindLinks with $",
    inputs: pip({}, { pipFindLinks: ["/tmp/$HOME"] }),
    field: "pipFindLinks",
    says: /must not contain/,
  },
  {
    name: "stepTimeoutSeconds negative",
    inputs: pip({}, { stepTimeoutSeconds: -1 }),
    field: "stepTimeoutSeconds",
    says: /[>]|positive|too small/i,
  },
  { name: "backend bogus", inputs: pip({}, { backend: "cloud" }), field: "backend", says: /auto|server|local/ },
  {
    name: "privateGroup with userGroupId",
    inputs: pip({}, { privateGroup: true, userGroupId: 3 }),
    field: "userGroupId",
    says: /cannot both be set/,
  },
  {
    name: "server.url not a URL",
    inputs: pip({}, { backend: "server", server: { url: "127.0.0.1:8000", email: "a@b.c", password: "pw-secret-1" } }),
    field: "server.url",
    says: /http\(s\) URL/,
  },
  {
    name: "custom.pythonInterpreter relative",
    inputs: custom({ pythonInterpreter: "python3" }),
    field: "custom.pythonInterpreter",
    says: /absolute path/,
  },
  {
    name: "custom packageRoot and packageName",
    inputs: custom({ packageRoot: "/tmp/pt_bad" }),
    field: "custom",
    says: /exactly one of `packageRoot` and `packageName`/,
  },
  {
    name: "custom.packageName with ;",
    inputs: custom({ packageName: "pt;bad" }),
    field: "custom.packageName",
    says: /must not contain/,
  },
  {
    name: "custom.version missing",
    inputs: custom({ version: undefined }),
    field: "custom.version",
    says: /set it to/,
  },
  { name: "custom.label empty", inputs: custom({ label: "" }), field: "custom.label", says: /must not be empty/ },
  {
    name: "manifest_version 9999",
    inputs: custom({ manifest: { ...manifest, manifest_version: "9999" } }),
    field: "custom.manifest",
    says: /manifest_version must be "2"/,
  },
  {
    name: "manifest duplicate task names",
    inputs: custom({ manifest: { manifest_version: "2", task_list: [manifest.task_list[0], manifest.task_list[0]] } }),
    field: "custom.manifest",
    says: /unique/,
  },
  {
    name: "manifest task without executables",
    inputs: custom({ manifest: { manifest_version: "2", task_list: [{ name: "t" }] } }),
    field: "custom.manifest",
    says: /cannot be both missing/,
  },
  {
    name: "manifest has_args_schemas without schema",
    inputs: custom({ manifest: { ...manifest, has_args_schemas: true } }),
    field: "custom.manifest",
    says: /has no args_schema_non_parallel/,
  },
  {
    name: "manifest docs_link not http",
    inputs: custom({
      manifest: { manifest_version: "2", task_list: [{ ...manifest.task_list[0], docs_link: "javascript:alert(1)" }] },
    }),
    field: "custom.manifest",
    says: /http\(s\) URL/,
  },
  {
    name: "manifest file missing",
    inputs: custom({ manifest: path.join(work, "missing", "__FRACTAL_MANIFEST__.json") }),
    field: "custom.manifest",
    says: /./,
  },
];

describe("TaskGroup refuses bad inputs at check", () => {
  let provider: Provider;
  before(async () => {
    const { TaskGroup } = await import("../../provider/resources/task-group");
    provider = await engineProvider(
      (n) => new TaskGroup(n, { pip: { package: "pt-fractal-tasks", packageVersion: "0.1.0" }, tasksDir }),
    );
  });
  for (const row of taskGroupRows) {
    test(row.name, async () => {
      const text = await expectRefused(provider, row);
      const leaked = findSecrets(text, ["pw-secret-1"]);
      report.add("secretsFound", leaked.length);
      assert.deepEqual(leaked, [], "a refused secret input is echoed in the failure message");
    });
  }
  test("refused inputs created nothing (no task folder)", () => {
    assert.deepEqual(readdirSync(tasksDir), []);
  });
});

// ---- TesseractService ------------------------------------------------------------------------

const svc = (over: Record<string, unknown>) => ({ serviceName: "bad", image: "pt-faults-bad:latest", ...over });
export const serviceRows: BadRow[] = [
  { name: "image uppercase", inputs: svc({ image: "Hello:Latest" }), field: "image", says: /image reference.*fix/ },
  { name: "image with space", inputs: svc({ image: "hello world" }), field: "image", says: /image reference/ },
  { name: "image and images", inputs: svc({ images: ["a:1"] }), field: "image", says: /exactly one of `image`/ },
  { name: "no image", inputs: svc({ image: undefined }), field: "image", says: /required/ },
  { name: "images empty", inputs: svc({ image: undefined, images: [] }), field: "images", says: /at least one/ },
  { name: "replicas 0", inputs: svc({ replicas: 0 }), field: "replicas", says: /at least 1/ },
  { name: "replicas 1.5", inputs: svc({ replicas: 1.5 }), field: "replicas", says: /whole number/ },
  { name: "port 70000", inputs: svc({ port: "70000" }), field: "port", says: /1-65535.*fix/ },
  { name: "port abc", inputs: svc({ port: "abc" }), field: "port", says: /must be a port/ },
  { name: "port range reversed", inputs: svc({ port: "9000-8000" }), field: "port", says: /lower port first/ },
  {
    name: "fixed port, 2 replicas",
    inputs: svc({ port: "18080", replicas: 2 }),
    field: "port",
    says: /fix: give a range/,
  },
  { name: "hostIp localhost", inputs: svc({ hostIp: "localhost" }), field: "hostIp", says: /IPv4.*fix/ },
  { name: "hostIp ipv6", inputs: svc({ hostIp: "::1" }), field: "hostIp", says: /IPv4/ },
  { name: "volume without target", inputs: svc({ volumes: ["/tmp"] }), field: "volumes[0]", says: /SOURCE:TARGET/ },
  { name: "volume bad mode", inputs: svc({ volumes: ["/tmp:/data:rx"] }), field: "volumes[0]", says: /"ro" nor "rw"/ },
  {
    name: "volume relative target",
    inputs: svc({ volumes: ["/tmp:data"] }),
    field: "volumes[0]",
    says: /absolute container path/,
  },
  {
    name: "volume source missing",
    inputs: svc({ volumes: ["/nonexistent/pt-faults:/data"] }),
    field: "volumes[0]",
    says: /does not exist \(fix/,
  },
  {
    name: "volume duplicate source",
    inputs: svc({ volumes: ["/tmp:/a", "/tmp:/b"] }),
    field: "volumes[1]",
    says: /already mounted/,
  },
  {
    name: "inputPath missing",
    inputs: svc({ inputPath: "/nonexistent/pt-faults-in" }),
    field: "inputPath",
    says: /does not exist \(fix/,
  },
  { name: "environment name with =", inputs: svc({ environment: { "A=B": "x" } }), field: "environment", says: /`=`/ },
  {
    name: "runtimeConfig key 1x",
    inputs: svc({ runtimeConfig: { "1x": 1 } }),
    field: "runtimeConfig",
    says: /identifiers/,
  },
  { name: "outputFormat xml", inputs: svc({ outputFormat: "xml" }), field: "outputFormat", says: /json\+base64/ },
  { name: "user with space", inputs: svc({ user: "root user" }), field: "user", says: /uid:gid.*fix/ },
  { name: "memory lots", inputs: svc({ memory: "lots" }), field: "memory", says: /fix: e\.g\. "512m"/ },
  { name: "memory 1k", inputs: svc({ memory: "1k" }), field: "memory", says: /at least 6m/ },
  { name: "gpus empty list", inputs: svc({ gpus: [] }), field: "gpus", says: /at least one GPU/ },
  { name: "gpus bad id", inputs: svc({ gpus: ["gpu0"] }), field: "gpus", says: /indexes/ },
  { name: "gpus some", inputs: svc({ gpus: "some" }), field: "gpus", says: /./ },
  { name: "numWorkers 0", inputs: svc({ numWorkers: 0 }), field: "numWorkers", says: /at least 1/ },
  { name: "network none", inputs: svc({ network: "none" }), field: "network", says: /health check/ },
  { name: "network bad name", inputs: svc({ network: "bad name!" }), field: "network", says: /network name/ },
  {
    name: "networkAlias without network",
    inputs: svc({ networkAlias: "calc" }),
    field: "networkAlias",
    says: /fix: set `network`/,
  },
  {
    name: "debug on host network",
    inputs: svc({ network: "host", debug: true }),
    field: "debug",
    says: /fix: use a user network/,
  },
  { name: "startupTimeout 0", inputs: svc({ startupTimeout: 0 }), field: "startupTimeout", says: /fix: e\.g\. 120/ },
  {
    name: "restartPolicy sometimes",
    inputs: svc({ restartPolicy: "sometimes" }),
    field: "restartPolicy",
    says: /unless-stopped/,
  },
  {
    name: "labels reserved key",
    inputs: svc({ labels: { "pulumi-tesseract.managed": "false" } }),
    field: "labels",
    says: /provider's own keys/,
  },
  {
    name: "docker.host http",
    inputs: svc({ docker: { host: "http://127.0.0.1:2375" } }),
    field: "docker.host",
    says: /fix: e\.g\. tcp/,
  },
  {
    name: "docker.keyPem not PEM",
    inputs: svc({ docker: { host: "tcp://127.0.0.1:2376", keyPem: "sk-not-a-pem-secret-value" } }),
    field: "docker.keyPem",
    says: /PEM/,
  },
  { name: "skipHealthCheck yes", inputs: svc({ skipHealthCheck: "yes" }), field: "skipHealthCheck", says: /boolean/ },
  { name: "gpuTransport nvlink", inputs: svc({ gpuTransport: "nvlink" }), field: "gpuTransport", says: /cuda_ipc/ },
  {
    name: "gpuTransport cuda_ipc, 4 workers",
    inputs: svc({ gpuTransport: "cuda_ipc", numWorkers: 4 }),
    field: "numWorkers",
    says: /one worker only.*fix/,
  },
  {
    name: "container.shmSize lots",
    inputs: svc({ container: { shmSize: "lots" } }),
    field: "container.shmSize",
    says: /fix: e\.g\. "64m"/,
  },
  {
    name: "container.ulimits unknown name",
    inputs: svc({ container: { ulimits: { files: 10 } } }),
    field: "container.ulimits.files",
    says: /not a ulimit name.*nofile/,
  },
  {
    name: "container.ulimits soft above hard",
    inputs: svc({ container: { ulimits: { nofile: { soft: 10, hard: 5 } } } }),
    field: "container.ulimits.nofile",
    says: /soft must not exceed hard/,
  },
  {
    name: "container.cpus 0",
    inputs: svc({ container: { cpus: 0 } }),
    field: "container.cpus",
    says: /at least 0\.01/,
  },
  {
    name: "container.capAdd unknown",
    inputs: svc({ container: { capAdd: ["GOD_MODE"] } }),
    field: "container.capAdd[0]",
    says: /not a Linux capability.*fix/,
  },
  {
    name: "container.devices relative",
    inputs: svc({ container: { devices: ["dev/fuse"] } }),
    field: "container.devices[0]",
    says: /must be absolute/,
  },
  {
    name: "container.devices missing",
    inputs: svc({ container: { devices: ["/dev/pt-faults-none"] } }),
    field: "container.devices[0]",
    says: /does not exist on this host/,
  },
  {
    name: "container.tmpfs bad option",
    inputs: svc({ container: { tmpfs: ["/scratch:size=huge"] } }),
    field: "container.tmpfs[0]",
    says: /not a tmpfs mount option.*fix/,
  },
  {
    name: "container.extraHosts no ip",
    inputs: svc({ container: { extraHosts: ["db.internal"] } }),
    field: "container.extraHosts[0]",
    says: /HOST:IP/,
  },
  {
    name: "container.logConfig bad driver",
    inputs: svc({ container: { logConfig: { type: "JSON FILE" } } }),
    field: "container.logConfig.type",
    says: /log driver.*fix/,
  },
  {
    name: "container free-form flag",
    inputs: svc({ container: { privileged: true } }),
    field: "container",
    says: /[Uu]nrecognized.*privileged/,
  },
  {
    name: "container.devices on kubernetes",
    inputs: svc({ kubernetes: {}, container: { devices: ["/dev/null"] } }),
    field: "container.devices",
    says: /not supported with `kubernetes`.*fix/,
  },
  {
    name: "container.ulimits on kubernetes",
    inputs: svc({ kubernetes: {}, container: { ulimits: { nofile: 10 } } }),
    field: "container.ulimits",
    says: /not supported with `kubernetes`/,
  },
  {
    name: "container.logConfig on kubernetes",
    inputs: svc({ kubernetes: {}, container: { logConfig: { type: "local" } } }),
    field: "container.logConfig",
    says: /not supported with `kubernetes`/,
  },
  {
    name: "skipHealthCheck on kubernetes",
    inputs: svc({ kubernetes: {}, skipHealthCheck: true }),
    field: "skipHealthCheck",
    says: /not supported with `kubernetes`.*fix/,
  },
  { name: "unknown key ports", inputs: svc({ ports: ["8000"] }), field: "ports", says: /[Uu]nrecognized/ },
];

describe("TesseractService refuses bad inputs at check", () => {
  let provider: Provider;
  before(async () => {
    const { TesseractService } = await import("../../provider/resources/tesseract-service");
    provider = await engineProvider((n) => new TesseractService(n, { image: "pt-faults-bad:latest" }));
  });
  for (const row of serviceRows) {
    test(row.name, async () => {
      const text = await expectRefused(provider, row);
      const leaked = findSecrets(text, ["sk-not-a-pem-secret-value"]);
      report.add("secretsFound", leaked.length);
      assert.deepEqual(leaked, [], "a refused secret input is echoed in the failure message");
    });
  }
});

// ---- TesseractImage ------------------------------------------------------------------------

const FAULTY = path.join(__dirname, "../helpers/fixtures/faulty");
/** A copy of the faulty Tesseract with one file rewritten (or removed when `text` is null). */
function variant(name: string, file: string, edit: (text: string) => string | null): string {
  const dir = path.join(work, "src", name);
  mkdirSync(dir, { recursive: true });
  for (const f of ["tesseract_api.py", "tesseract_config.yaml"]) {
    const text = readFileSync(path.join(FAULTY, f), "utf8");
    const out = f === file ? edit(text) : text;
    if (out !== null) writeFileSync(path.join(dir, f), out);
  }
  return dir;
}
const cfg = (name: string, edit: (t: string) => string | null) => variant(name, "tesseract_config.yaml", edit);
const api = (name: string, edit: (t: string) => string | null) => variant(name, "tesseract_api.py", edit);
const img = (over: Record<string, unknown>) => ({ srcDir: FAULTY, tag: "pt-faults-bad", ...over });
const PIP_SECRET = "https://user:pt-index-secret-99@127.0.0.1:1/simple";

export const imageRows: BadRow[] = [
  {
    name: "srcDir missing",
    inputs: img({ srcDir: path.join(work, "nope") }),
    field: "srcDir",
    says: /does not exist \(fix/,
  },
  {
    name: "srcDir is a file",
    inputs: img({ srcDir: path.join(FAULTY, "tesseract_api.py") }),
    field: "srcDir",
    says: /not a folder/,
  },
  { name: "srcDir empty string", inputs: img({ srcDir: "" }), field: "srcDir", says: /tesseract_api\.py/ },
  {
    name: "config file missing",
    inputs: img({ srcDir: cfg("noconfig", () => null) }),
    field: "srcDir",
    says: /tesseract_config\.yaml.*not found.*fix/,
  },
  {
    name: "config invalid YAML",
    inputs: img({ srcDir: cfg("badyaml", () => "name: [unclosed\n") }),
    field: "srcDir",
    says: /invalid YAML.*fix/,
  },
  {
    name: "config unknown key",
    inputs: img({ srcDir: cfg("unknownkey", (t) => `${t}nmae: typo\n`) }),
    field: "srcDir",
    says: /unknown key.*"nmae"/,
  },
  {
    name: "config name uppercase",
    inputs: img({ srcDir: cfg("upper", (t) => t.replace("name: pt-faults-faulty", "name: PT-Faults")) }),
    field: "srcDir",
    says: /fix: set `name: pt-faults`/,
  },
  {
    name: "config name with space",
    inputs: img({ srcDir: cfg("space", (t) => t.replace("name: pt-faults-faulty", 'name: "pt faults"')) }),
    field: "srcDir",
    says: /name/,
  },
  {
    name: "config version v1.2",
    inputs: img({ srcDir: cfg("version", (t) => t.replace('version: "0.1.0"', 'version: "v1.2"')) }),
    field: "srcDir",
    says: /version/,
  },
  {
    name: "config build_config.extra_packages not a list",
    inputs: img({ srcDir: cfg("extrapk", (t) => `${t}build_config:\n  extra_packages: 3\n`) }),
    field: "srcDir",
    says: /extra_packages/,
  },
  {
    name: "api without apply",
    inputs: img({ srcDir: api("noapply", (t) => t.replace("def apply(", "def apply_(")) }),
    field: "srcDir",
    says: /apply not defined \(fix/,
  },
  {
    name: "api without InputSchema",
    inputs: img({ srcDir: api("noinput", (t) => t.replace("class InputSchema(", "class InputSchemaX(")) }),
    field: "srcDir",
    says: /InputSchema not defined \(fix/,
  },
  {
    name: "api syntax error",
    inputs: img({ srcDir: api("syntax", (t) => `${t}\ndef broken(:\n`) }),
    field: "srcDir",
    says: /fix: correct the Python syntax/,
  },
  {
    name: "api async apply",
    inputs: img({ srcDir: api("async", (t) => t.replace("def apply(", "async def apply(")) }),
    field: "srcDir",
    says: /async def is not supported/,
  },
  {
    name: "api jacobian with wrong arguments",
    inputs: img({ srcDir: api("jac", (t) => `${t}\n\ndef jacobian(inputs, wrt):\n    return {}\n`) }),
    field: "srcDir",
    says: /fix: `def jacobian\(inputs, jac_inputs, jac_outputs\)/,
  },
  { name: "tag with space", inputs: img({ tag: "bad tag" }), field: "tag", says: /fix: e\.g\. "1\.0\.0"/ },
  { name: "tag with colon", inputs: img({ tag: "a:b" }), field: "tag", says: /letters, digits/ },
  { name: "tag too long", inputs: img({ tag: "x".repeat(129) }), field: "tag", says: /128|long/ },
  {
    name: "configOverride unknown path",
    inputs: img({ configOverride: { "build_config.nonsense": 1 } }),
    field: "configOverride",
    says: /nonsense/,
  },
  {
    name: "configOverride bad version",
    inputs: img({ configOverride: { version: "1.2" } }),
    field: "configOverride",
    says: /version/,
  },
  { name: "buildArgs bad name", inputs: img({ buildArgs: { "1BAD": "x" } }), field: "buildArgs", says: /identifiers/ },
  {
    name: "runtimeVersion latest",
    inputs: img({ runtimeVersion: "latest" }),
    field: "runtimeVersion",
    says: /release such as/,
  },
  {
    name: "pipIndexUrl not a URL",
    inputs: img({ pipIndexUrl: "pt-index-secret-99" }),
    field: "pipIndexUrl",
    says: /URL/,
  },
  {
    name: "pipExtraIndexUrls not URLs",
    inputs: img({ pipExtraIndexUrls: [PIP_SECRET, "no url here"] }),
    field: "pipExtraIndexUrls",
    says: /URL/,
  },
  { name: "caCertificates not PEM", inputs: img({ caCertificates: "abc" }), field: "caCertificates", says: /PEM/ },
  { name: "platform amd64", inputs: img({ platform: "amd64" }), field: "platform", says: /linux\/amd64/ },
  {
    name: "buildNetwork with space",
    inputs: img({ buildNetwork: "my net" }),
    field: "buildNetwork",
    says: /network mode/,
  },
  { name: "timeoutSeconds 0", inputs: img({ timeoutSeconds: 0 }), field: "timeoutSeconds", says: /./ },
  {
    name: "docker.host relative unix",
    inputs: img({ docker: { host: "unix://docker.sock" } }),
    field: "docker.host",
    says: /unix:\/\/\//,
  },
  { name: "unknown key srcdir", inputs: img({ srcdir: FAULTY }), field: "srcdir", says: /[Uu]nrecognized/ },
];

describe("TesseractImage refuses bad inputs at check", () => {
  let provider: Provider;
  before(async () => {
    const { TesseractImage } = await import("../../provider/resources/tesseract-image");
    provider = await engineProvider((n) => new TesseractImage(n, { srcDir: FAULTY, tag: "pt-faults-bad" }));
  });
  for (const row of imageRows) {
    test(row.name, async () => {
      const text = await expectRefused(provider, row);
      const leaked = findSecrets(text, ["pt-index-secret-99"]);
      report.add("secretsFound", leaked.length);
      assert.deepEqual(leaked, [], "a refused secret input is echoed in the failure message");
    });
  }
});

// ---- functions (apply, jacobian, ...) against a served calculus Tesseract -----------------------

interface CallRow {
  name: string;
  call: (url: string) => Promise<unknown>;
  field: string;
  says: RegExp;
}

describe("functions refuse bad inputs at the call", () => {
  let rt: ServedRuntime;
  let fns: typeof import("../../provider/functions");
  before(async () => {
    rt = await serveRuntime({ apiPath: CALCULUS_API });
    fns = await import("../../provider/functions");
  });
  after(async () => {
    await fns?.closeTesseractFunctionClients();
    await rt?.stop();
  });
  const v = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const rows: CallRow[] = [
    {
      name: "apply: a is a string",
      call: (url) => fns.apply({ url, inputs: { a: "abc", b: v(3) } }),
      field: "inputs.a",
      says: /./,
    },
    {
      name: "apply: a missing",
      call: (url) => fns.apply({ url, inputs: { b: v(3) } }),
      field: "inputs.a",
      says: /missing|required/i,
    },
    {
      name: "apply: a and b shapes differ",
      call: (url) => fns.apply({ url, inputs: { a: v(3), b: v(2) } }),
      field: "inputs",
      says: /same shape/,
    },
    {
      name: "apply: a is 2-D",
      call: (url) => fns.apply({ url, inputs: { a: [v(2), v(2)], b: v(2) } }),
      field: "inputs.a",
      says: /shape|dimension/i,
    },
    {
      name: "apply: a has dtype complex64",
      call: (url) => fns.apply({ url, inputs: { a: { shape: [2], dtype: "complex64", data: [1, 0, 2, 0] }, b: v(2) } }),
      field: "a",
      says: /dtype|complex|type/i,
    },
    {
      name: "apply: array data shorter than its shape (client check)",
      call: (url) =>
        fns.apply({
          url,
          validateInputs: true,
          inputs: { a: { shape: [3], dtype: "float64", data: [1, 2] }, b: v(3) },
        }),
      field: "a",
      says: /shape|length|elements/i,
    },
    {
      name: "apply: s is an array (client check)",
      call: (url) => fns.apply({ url, validateInputs: true, inputs: { a: v(2), b: v(2), s: v(2) } }),
      field: "inputs.s",
      says: /./,
    },
    {
      name: "jacobian: non-differentiable input",
      call: (url) =>
        fns.jacobian({ url, inputs: { a: v(2), b: v(2) }, jacInputs: ["passthrough"], jacOutputs: ["result"] }),
      field: "jac_inputs",
      says: /./,
    },
    {
      name: "jacobian: unknown output",
      call: (url) => fns.jacobian({ url, inputs: { a: v(2), b: v(2) }, jacInputs: ["a"], jacOutputs: ["nope"] }),
      field: "jac_outputs",
      says: /./,
    },
    {
      name: "url with a bad scheme",
      call: () => fns.apply({ url: "ftp://127.0.0.1:1", inputs: { a: v(2), b: v(2) } }),
      field: "ftp://127.0.0.1:1",
      says: /./,
    },
    {
      name: "url nobody answers",
      call: () => fns.apply({ url: "http://127.0.0.1:9", inputs: { a: v(2), b: v(2) }, timeoutMs: 5000 }),
      field: "http://127.0.0.1:9",
      says: /ECONNREFUSED|refused|connect/i,
    },
  ];

  for (const row of rows) {
    test(row.name, async () => {
      report.add("inputsTried");
      const err = await row.call(rt.url).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      assert.ok(err, `${row.name}: the call succeeded`);
      report.add("inputsRefused");
      const text = String(err.message ?? err);
      assert.ok(text.includes(row.field), `${row.name}: the error does not name '${row.field}':\n${text}`);
      assert.match(text, row.says, `${row.name}: the error does not say ${row.says}:\n${text}`);
      report.add("inputsExplained");
    });
  }
});

// A file the manifest-path rows can point at (a broken manifest on disk).
const badManifestFile = path.join(work, "bad", "__FRACTAL_MANIFEST__.json");
mkdirSync(path.dirname(badManifestFile), { recursive: true });
writeFileSync(badManifestFile, '{"manifest_version": "2", "task_list": [{"name": "x"}]}');
describe("TaskGroup refuses a broken manifest file", () => {
  test("manifest file with a task without executables", async () => {
    const { TaskGroup } = await import("../../provider/resources/task-group");
    const provider = await engineProvider(
      (n) => new TaskGroup(n, { pip: { package: "pt-fractal-tasks", packageVersion: "0.1.0" }, tasksDir }),
    );
    await expectRefused(provider, {
      name: "manifest file broken",
      inputs: custom({ manifest: badManifestFile }),
      field: "custom.manifest",
      says: /cannot be both missing/,
    });
    assert.ok(existsSync(badManifestFile));
  });
});
