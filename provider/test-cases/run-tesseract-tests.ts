/**
 * `runTesseractTests`: runs a folder of upstream-format test case files (`test_cases/*.json`:
 * `endpoint`, `payload`, `expected_outputs` or `expected_exception`[`_regex`], `atol`, `rtol`,
 * `cli_config`) like `tesseract run <image> test @test_cases/x.json`, and reports each case.
 *
 * The comparison is the Tesseract runtime's own (`POST /test`), so verdicts are upstream's. With
 * `url`, the Tesseract must be served in debug mode (only then is `/test` served). With `image`,
 * one debug-mode container per distinct `cli_config` is served on a loopback port for the run
 * and removed afterwards.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { TesseractClient } from "../client/client";
import { TesseractError } from "../client/errors";
import type { ServedTesseractClient } from "../client/from-image";
import { UserError } from "../common/errors";
import type { DockerConnection } from "../docker/connection";
import { outputCall } from "../functions/common";

/** Arguments of `runTesseractTests`: a served Tesseract (`url`) or an image, and the folder of cases. */
export interface RunTesseractTestsArgs {
  /** Base url of a Tesseract served with debug on (e.g. a `TesseractService` with `debug: true`). */
  url?: string;
  /** Image of a built Tesseract, served (debug on, loopback only) for the run and removed afterwards. */
  image?: string;
  /** Folder of test case files; every `*.json` in it is one case, run in name order. */
  dir: string;
  /** Time limit per case in milliseconds. Default: none. */
  timeoutMs?: number;
  /** The Docker engine (with `image`). Default: `DOCKER_HOST`, else the local socket. */
  docker?: DockerConnection;
  /** Extra labels on the containers served for `image`. */
  labels?: Record<string, string>;
  /** Extra HTTP headers (with `url`, e.g. for a proxy). */
  headers?: Record<string, string>;
}

/** One case's outcome. */
export interface TesseractTestCaseResult {
  /** The case file, relative to `dir`. */
  readonly file: string;
  /** The endpoint it exercises (empty when the file could not be read). */
  readonly endpoint: string;
  /** `passed`; `failed` (outputs or exception differ); `error` (unexpected exception, unreadable file). */
  readonly status: "passed" | "failed" | "error";
  /** Empty when passed; what differed or went wrong otherwise. */
  readonly message: string;
  /** Wall time of the case in milliseconds. */
  readonly durationMs: number;
}

/** Result of `runTesseractTests`. */
export interface RunTesseractTestsResult {
  /** Every case, in file-name order. */
  readonly cases: TesseractTestCaseResult[];
  /** Number of passed cases. */
  readonly passed: number;
  /** Number of failed cases. */
  readonly failed: number;
  /** Number of cases that errored. */
  readonly errors: number;
  /** True when every case passed (and there was at least one). */
  readonly ok: boolean;
}

/** `RunTesseractTestsArgs` for `runTesseractTestsOutput`: every field may be a `pulumi.Input`. */
export type RunTesseractTestsOutputArgs = {
  [K in keyof RunTesseractTestsArgs]: pulumi.Input<RunTesseractTestsArgs[K]>;
};

interface LoadedCase {
  file: string;
  spec?: Record<string, unknown>;
  /** The file's text, sent as is: re-serialising would turn `5.0` into `5`, an int to the runtime's strict dtypes. */
  text?: string;
  problem?: string;
  /** Resolved `cli_config`: what the serving container needs (image mode). */
  serve: { inputPath?: string; volumes?: string[]; user?: string };
}

/** Reads the case files; a file that is not a test case becomes an `error` result, not an exception. */
function loadCases(dir: string): LoadedCase[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a folder");
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch (err) {
    throw new UserError(`runTesseractTests: dir ${dir} cannot be read (${(err as Error).message})`);
  }
  if (!names.length) throw new UserError(`runTesseractTests: dir ${dir} holds no *.json test case files`);
  return names.map((file) => {
    let spec: unknown;
    let text: string;
    try {
      text = readFileSync(join(dir, file), "utf8");
      spec = JSON.parse(text);
    } catch (err) {
      return { file, problem: `not JSON: ${(err as Error).message}`, serve: {} };
    }
    if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
      return { file, problem: "not a test case object", serve: {} };
    }
    const s = spec as Record<string, unknown>;
    if (typeof s.endpoint !== "string" || typeof s.payload !== "object" || s.payload === null) {
      return { file, problem: 'needs "endpoint" (a string) and "payload" (an object)', serve: {} };
    }
    // upstream's `tesseract run … test @file`: cli_config fills input path, volumes and user, relative to the file
    const cli = (s.cli_config ?? {}) as { input_path?: string; volume_mounts?: string[]; user?: string };
    const serve = {
      inputPath: cli.input_path ? (isAbsolute(cli.input_path) ? cli.input_path : join(dir, cli.input_path)) : undefined,
      volumes: cli.volume_mounts?.map((v) => (isAbsolute(v.split(":")[0]) ? v : join(dir, v))),
      user: cli.user,
    };
    return { file, spec: s, text, serve };
  });
}

async function runCase(client: TesseractClient, c: LoadedCase, timeoutMs?: number): Promise<TesseractTestCaseResult> {
  const started = performance.now();
  const done = (
    status: TesseractTestCaseResult["status"],
    message: string,
    endpoint = String(c.spec?.endpoint ?? ""),
  ) => ({
    file: c.file,
    endpoint,
    status,
    message,
    durationMs: Math.round(performance.now() - started),
  });
  if (!c.spec) return done("error", c.problem ?? "unreadable", "");
  try {
    const verdict = await client.test(c.text ?? c.spec, { timeoutMs });
    return done(verdict.status, verdict.message ?? "", verdict.endpoint);
  } catch (err) {
    if (err instanceof TesseractError && err.status === 404) {
      throw new UserError(
        `runTesseractTests: ${client.url} does not serve POST /test, which the runtime offers only in debug mode (fix: serve it with debug: true, or pass image instead of url)`,
      );
    }
    // a spec the runtime rejects (422) or a server error is this case's error, not the run's
    return done("error", (err as Error).message);
  }
}

function summary(cases: TesseractTestCaseResult[]): RunTesseractTestsResult {
  const count = (s: string) => cases.filter((c) => c.status === s).length;
  const passed = count("passed");
  return {
    cases,
    passed,
    failed: count("failed"),
    errors: count("error"),
    ok: cases.length > 0 && passed === cases.length,
  };
}

/**
 * Runs every test case file in `dir` against a served Tesseract (`url`, debug on) or an image
 * (served for the run). Failing cases are reported, not thrown; bad arguments, an unreadable folder
 * and a Tesseract without `/test` throw.
 */
export async function runTesseractTests(args: RunTesseractTestsArgs): Promise<RunTesseractTestsResult> {
  if (!args.url === !args.image) throw new UserError("runTesseractTests: give exactly one of url and image");
  const dir = resolve(args.dir);
  const cases = loadCases(dir);
  if (args.url) {
    const client = new TesseractClient(args.url, { headers: args.headers });
    try {
      const results: TesseractTestCaseResult[] = [];
      for (const c of cases) results.push(await runCase(client, c, args.timeoutMs));
      return summary(results);
    } finally {
      await client.close();
    }
  }
  // one server per distinct cli_config, in order of first use
  const groups = new Map<string, LoadedCase[]>();
  for (const c of cases) {
    const key = JSON.stringify(c.serve);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const byFile = new Map<string, TesseractTestCaseResult>();
  for (const group of groups.values()) {
    const runnable = group.filter((c) => c.spec);
    for (const c of group)
      if (!c.spec)
        byFile.set(c.file, {
          file: c.file,
          endpoint: "",
          status: "error",
          message: c.problem ?? "unreadable",
          durationMs: 0,
        });
    if (!runnable.length) continue;
    let server: ServedTesseractClient | undefined;
    try {
      server = await TesseractClient.fromImage(args.image as string, {
        ...runnable[0].serve,
        debug: true,
        docker: args.docker,
        labels: args.labels,
      });
      for (const c of runnable) byFile.set(c.file, await runCase(server, c, args.timeoutMs));
    } finally {
      await server?.close();
    }
  }
  return summary(cases.map((c) => byFile.get(c.file) as TesseractTestCaseResult));
}

/**
 * `runTesseractTests` taking `pulumi.Input`s and returning an `Output`. During preview, and while
 * any argument is unknown, nothing runs and the result is unknown.
 */
export function runTesseractTestsOutput(
  args: RunTesseractTestsOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<RunTesseractTestsResult> {
  return outputCall<RunTesseractTestsArgs, RunTesseractTestsResult>(args, opts, (a) => runTesseractTests(a));
}
