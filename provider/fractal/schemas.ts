/**
 * Fractal schemas with fractal-server's rules (target: fractal-server 2.24.4):
 * `ManifestV2` / `TaskManifestV2`, the stricter `TaskCreate` checks, `TaskCollectPip` and
 * `TaskCollectCustom` (as `pip` / `custom` resource inputs), plus the resource's own options.
 */
import { z } from "zod";
import type { TaskGroupInputsSchema } from "../resources/definitions/task-group";
import {
  absolutePathStr,
  cmdSafeStr,
  dictKeys,
  dictStrStr,
  httpUrlStr,
  laxBool,
  nonEmptyStr,
  PYTHON_VERSIONS,
  validateCmd,
} from "./validators";

export const TASK_TYPES = [
  "compound",
  "converter_compound",
  "non_parallel",
  "converter_non_parallel",
  "parallel",
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

const dictStrAny = dictKeys(z.unknown());
const typeFilters = dictKeys(laxBool);

/** `TaskManifestV2` (extra keys are ignored, as pydantic does). */
export const TaskManifestV2 = z
  .object({
    name: z.string(),
    executable_non_parallel: z.string().nullish(),
    executable_parallel: z.string().nullish(),
    input_types: typeFilters.default({}),
    output_types: typeFilters.default({}),
    meta_non_parallel: dictStrAny.default({}),
    meta_parallel: dictStrAny.default({}),
    args_schema_non_parallel: dictStrAny.nullish(),
    args_schema_parallel: dictStrAny.nullish(),
    docs_info: z.string().nullish(),
    docs_link: httpUrlStr.nullish(),
    category: z.string().nullish(),
    modality: z.string().nullish(),
    tags: z.array(z.string()).default([]),
    type: z.enum(TASK_TYPES).nullish(),
  })
  .check((ctx) => {
    const t = ctx.value;
    const np = t.executable_non_parallel ?? null;
    const p = t.executable_parallel ?? null;
    const fail = (message: string) =>
      ctx.issues.push({ code: "custom", message: `task '${t.name}': ${message}`, input: t });
    if (np === null && p === null) fail("executable_non_parallel and executable_parallel cannot be both missing");
    else if (np === null) {
      if (Object.keys(t.meta_non_parallel).length > 0)
        fail("meta_non_parallel must be {} when executable_non_parallel is missing");
      if (t.args_schema_non_parallel != null)
        fail("args_schema_non_parallel must be missing when executable_non_parallel is missing");
    } else if (p === null) {
      if (Object.keys(t.meta_parallel).length > 0) fail("meta_parallel must be {} when executable_parallel is missing");
      if (t.args_schema_parallel != null)
        fail("args_schema_parallel must be missing when executable_parallel is missing");
    }
  });
export type TaskManifestV2 = z.output<typeof TaskManifestV2>;

/** `ManifestV2`: version "2", unique task names, args schemas present when announced. */
export const ManifestV2 = z
  .object({
    manifest_version: z.literal("2", { error: 'manifest_version must be "2"' }),
    task_list: z.array(TaskManifestV2),
    has_args_schemas: laxBool.default(false),
    args_schema_version: z.string().nullish(),
    authors: nonEmptyStr.nullish(),
  })
  .check((ctx) => {
    const m = ctx.value;
    if (m.has_args_schemas) {
      for (const t of m.task_list) {
        if (t.executable_parallel != null && t.args_schema_parallel == null) {
          ctx.issues.push({
            code: "custom",
            message: `has_args_schemas is true, but task '${t.name}' has no args_schema_parallel`,
            input: m,
          });
        }
        if (t.executable_non_parallel != null && t.args_schema_non_parallel == null) {
          ctx.issues.push({
            code: "custom",
            message: `has_args_schemas is true, but task '${t.name}' has no args_schema_non_parallel`,
            input: m,
          });
        }
      }
    }
    const names = m.task_list.map((t) => t.name);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length)
      ctx.issues.push({
        code: "custom",
        message: `task names in manifest must be unique (repeated: ${[...new Set(dup)].join(", ")})`,
        input: m,
      });
  });
export type ManifestV2 = z.output<typeof ManifestV2>;

/** A collected task, as both backends report it (camelCase; missing values omitted). */
export interface TaskInfo {
  /** Task name (unique in the group). */
  name: string;
  /** `non_parallel`, `parallel`, `compound`, `converter_non_parallel` or `converter_compound`. */
  type: TaskType;
  /** `<python> <package root>/<executable>` for the non-parallel part. */
  commandNonParallel?: string;
  /** `<python> <package root>/<executable>` for the parallel part. */
  commandParallel?: string;
  /** Runner metadata of the non-parallel part. */
  metaNonParallel?: Record<string, unknown>;
  /** Runner metadata of the parallel part. */
  metaParallel?: Record<string, unknown>;
  /** JSON Schema of the non-parallel arguments. */
  argsSchemaNonParallel?: Record<string, unknown>;
  /** JSON Schema of the parallel arguments. */
  argsSchemaParallel?: Record<string, unknown>;
  /** How the args schemas were generated (e.g. `pydantic_v2`). */
  argsSchemaVersion?: string;
  /** Input image-type filters. */
  inputTypes: Record<string, boolean>;
  /** Output image types. */
  outputTypes: Record<string, boolean>;
  /** Category (e.g. `Segmentation`). */
  category?: string;
  /** Modality (e.g. `HCS`). */
  modality?: string;
  /** Tags. */
  tags: string[];
  /** Manifest authors. */
  authors?: string;
  /** Documentation text. */
  docsInfo?: string;
  /** Documentation link. */
  docsLink?: string;
  /** Version of the task group the task belongs to. */
  version?: string;
}

/**
 * `prepare_tasks_metadata` + `TaskCreate`: commands `"<python> <packageRoot>/<executable>"`,
 * the stricter checks (non-empty name/category/modality/authors, unique non-empty tags,
 * `validate_cmd` on each full command) and the derived `type`. Throws with every problem listed.
 */
export function prepareTasks(
  manifest: ManifestV2,
  pythonBin: string,
  packageRoot: string,
  version?: string,
): TaskInfo[] {
  const problems: string[] = [];
  const tasks: TaskInfo[] = [];
  for (const t of manifest.task_list) {
    const name = t.name.trim();
    const where = `task '${t.name}'`;
    if (!name) problems.push(`${where}: name must not be empty`);
    const cmd = (exe: string | null | undefined) =>
      exe == null ? undefined : `${pythonBin} ${joinPosix(packageRoot, exe)}`;
    const np = cmd(t.executable_non_parallel);
    const p = cmd(t.executable_parallel);
    for (const [label, c] of [
      ["command_non_parallel", np],
      ["command_parallel", p],
    ] as const) {
      if (c === undefined) continue;
      if (!c.trim()) problems.push(`${where}: ${label} must not be empty`);
      const err = validateCmd(c);
      if (err) problems.push(`${where}: ${label} '${c}' ${err}`);
    }
    const optNonEmpty = (label: string, v: string | null | undefined) => {
      if (v == null) return undefined;
      if (!v.trim()) problems.push(`${where}: ${label} must not be empty when set`);
      return v.trim();
    };
    const category = optNonEmpty("category", t.category);
    const modality = optNonEmpty("modality", t.modality);
    const tags = t.tags.map((s) => s.trim());
    if (tags.some((s) => !s)) problems.push(`${where}: tags must be non-empty strings`);
    if (new Set(tags).size !== tags.length) problems.push(`${where}: tags have repetitions`);
    const type: TaskType = t.type ?? (np === undefined ? "parallel" : p === undefined ? "non_parallel" : "compound");
    const task: TaskInfo = {
      name,
      type,
      commandNonParallel: np,
      commandParallel: p,
      metaNonParallel: np === undefined ? undefined : t.meta_non_parallel,
      metaParallel: p === undefined ? undefined : t.meta_parallel,
      argsSchemaNonParallel: t.args_schema_non_parallel ?? undefined,
      argsSchemaParallel: t.args_schema_parallel ?? undefined,
      argsSchemaVersion: manifest.has_args_schemas ? (manifest.args_schema_version ?? undefined) : undefined,
      inputTypes: t.input_types,
      outputTypes: t.output_types,
      category,
      modality,
      tags,
      authors: manifest.authors ?? undefined,
      docsInfo: t.docs_info ?? undefined,
      docsLink: t.docs_link ?? undefined,
      version,
    };
    tasks.push(task);
  }
  if (problems.length) throw new Error(`invalid tasks: ${problems.join("; ")}`);
  return tasks;
}

function joinPosix(root: string, rel: string): string {
  return `${root.replace(/\/+$/, "")}/${rel}`.replace(/\/\.\//g, "/");
}

/** Parses a manifest object; returns readable problems instead of throwing. */
export function parseManifest(value: unknown): { manifest?: ManifestV2; problems: string[] } {
  const r = ManifestV2.safeParse(value);
  if (r.success) return { manifest: r.data, problems: [] };
  return {
    problems: r.error.issues.map((i) => {
      const p = i.path.map((x) => (typeof x === "number" ? `[${x}]` : `.${String(x)}`)).join("");
      return p ? `manifest${p}: ${i.message}` : `manifest: ${i.message}`;
    }),
  };
}

// ---- resource inputs ----------------------------------------------------------------------

/** `pip` input: `TaskCollectPip` in camelCase, with a local `wheelFile` instead of the upload. */
export const PipSpec = z
  .strictObject({
    /** Package-index name (exactly one of `package` / `wheelFile`). Forbidden: any of `` `#$&*()\|[]{};<>?! ``. */
    package: cmdSafeStr().optional(),
    /** Absolute path of a local wheel (`<dist>-<version>-...whl`); uploaded to the server, or installed locally. */
    wheelFile: absolutePathStr.optional(),
    /** Version (index packages only). Exact, or a prefix as fractal-server resolves it; default: newest. */
    packageVersion: cmdSafeStr().optional(),
    /** Extras, e.g. `"extra1,extra2"` (no brackets). */
    packageExtras: cmdSafeStr().optional(),
    /**
     * Python version for the task venv: `3.9` … `3.15` (3.15 needs fractal-server 2.25.3+); default: the
     * server's default (local: `python3` on PATH). Checked at preview against what the server offers.
     */
    pythonVersion: z.enum(PYTHON_VERSIONS, { error: `must be one of ${PYTHON_VERSIONS.join(", ")}` }).optional(),
    /** `{package: version}` installed before the package (keys may use `[extra]`). */
    pinnedPackageVersionsPre: dictStrStr({ cmd: true, keyAllow: "[]" }).optional(),
    /** `{package: version}` installed after the package (overrides its dependencies). */
    pinnedPackageVersionsPost: dictStrStr({ cmd: true, keyAllow: "[]" }).optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    if (v.wheelFile === undefined && v.package === undefined) {
      ctx.issues.push({
        code: "custom",
        message: "set exactly one of `package` and `wheelFile` (neither is set)",
        input: v,
      });
    }
    if (v.wheelFile !== undefined && v.package !== undefined) {
      ctx.issues.push({
        code: "custom",
        message: "set exactly one of `package` and `wheelFile` (both are set)",
        input: v,
      });
    }
    if (v.wheelFile !== undefined && v.packageVersion !== undefined) {
      ctx.issues.push({
        code: "custom",
        message: "`packageVersion` cannot be set with `wheelFile` (the version comes from the wheel file name)",
        input: v,
        path: ["packageVersion"],
      });
    }
  });
export type PipSpec = z.output<typeof PipSpec>;

/** `custom` input: `TaskCollectCustom` in camelCase; `manifest` may be a path to the JSON file. */
export const CustomSpec = z
  .strictObject({
    /** The manifest object, or an absolute path to `__FRACTAL_MANIFEST__.json`. */
    manifest: z.union([absolutePathStr, z.record(z.string(), z.unknown())], {
      error: "must be a manifest object or an absolute path to __FRACTAL_MANIFEST__.json",
    }),
    /** Absolute path of the interpreter that runs the tasks. */
    pythonInterpreter: absolutePathStr,
    /** Name of the task group (its `pkgName`; not normalised). */
    label: nonEmptyStr,
    /** Absolute folder of the installed package (exactly one of `packageRoot` / `packageName`). */
    packageRoot: absolutePathStr.optional(),
    /** Importable package name; its folder is found with the interpreter (exactly one of `packageRoot` / `packageName`). */
    packageName: cmdSafeStr().optional(),
    // Required (`TaskCollectCustom.version: NonEmptyStr` since 2.23); checked below, so that the
    // other rules are reported together with it.
    /** Version recorded for the group and its tasks. */
    version: nonEmptyStr.optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    if (v.version === undefined) {
      ctx.issues.push({
        code: "custom",
        message:
          'is required (fractal-server 2.23+ needs a version for custom collections); set it to the version of the environment\'s package, e.g. version: "1.0"',
        input: v,
        path: ["version"],
      });
    }
    if ((v.packageRoot === undefined) === (v.packageName === undefined)) {
      ctx.issues.push({
        code: "custom",
        message: `set exactly one of \`packageRoot\` and \`packageName\` (${v.packageRoot === undefined ? "neither is" : "both are"} set)`,
        input: v,
      });
    }
    if (v.packageName !== undefined) {
      const err = validateCmd(v.packageName.replace(/-/g, "_"));
      if (err) ctx.issues.push({ code: "custom", message: err, input: v, path: ["packageName"] });
    }
  });
export type CustomSpec = z.output<typeof CustomSpec>;

/**
 * `pixi` input: adopt a pixi task group collected on the server through `/collect/pixi/` (creating
 * one is refused at `check`: no pixi binary or conda channel here). Adopted only on an exact match.
 */
export const PixiSpec = z.strictObject({
  /** Package name of the group (normalised like the server does). */
  package: cmdSafeStr(),
  /** Version of the group. */
  version: cmdSafeStr(),
  /** Pixi version the group was collected with (checked when set). */
  pixiVersion: cmdSafeStr().optional(),
});
export type PixiSpec = z.output<typeof PixiSpec>;

/**
 * Per-resource server connection (overrides provider config `fractal:url|email|password|token`):
 * the account's `email` and `password` (the provider logs in, `POST /auth/token/login/`), or a
 * bearer `token` obtained elsewhere (servers with `FRACTAL_DISABLE_BASIC_AUTH=true` have no
 * password login; their users get tokens through OAuth). Exactly one of the two.
 */
export const ServerSpec = z
  .strictObject({
    /** Base URL, e.g. `http://127.0.0.1:8000`. */
    url: httpUrlStr,
    /** Account e-mail (with `password`; not with `token`). */
    email: nonEmptyStr.optional(),
    /** Account password (with `email`; stored as a Pulumi secret). */
    password: z.string().min(1, "must not be empty").optional(),
    /**
     * Bearer token instead of `email`/`password`, e.g. from the server's OAuth login when it runs with
     * `FRACTAL_DISABLE_BASIC_AUTH=true` (stored as a Pulumi secret). Sent as is, never renewed: it
     * lasts the server's `JWT_EXPIRE_SECONDS` (180 s by default).
     */
    token: z.string().min(1, "must not be empty").optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    const basic = v.email !== undefined || v.password !== undefined;
    // Messages name fields, never values: `password` and `token` are secrets.
    if (v.token !== undefined && basic) {
      ctx.issues.push({
        code: "custom",
        message: `set either \`token\` or \`email\`/\`password\`, not both (fix: remove server.${v.email !== undefined ? "email" : "password"}${v.email !== undefined && v.password !== undefined ? " and server.password" : ""} to use the bearer token, or remove server.token to log in with the password)`,
        input: v,
        path: ["token"],
      });
    } else if (v.token === undefined && !basic) {
      ctx.issues.push({
        code: "custom",
        message:
          "give the account: `email` and `password` (password login), or `token` (a bearer token, e.g. for a server with FRACTAL_DISABLE_BASIC_AUTH=true); neither is set",
        input: v,
      });
    } else if (v.token === undefined && v.email === undefined) {
      ctx.issues.push({
        code: "custom",
        message: "`password` needs `email` (fix: add server.email, or use server.token instead of the password)",
        input: v,
        path: ["email"],
      });
    } else if (v.token === undefined && v.password === undefined) {
      ctx.issues.push({
        code: "custom",
        message: "`email` needs `password` (fix: add server.password, or use server.token instead of email/password)",
        input: v,
        path: ["password"],
      });
    }
  });
export type ServerSpec = z.output<typeof ServerSpec>;

/** What the TaskGroup resource accepts, after defaults (its schema is in its definition). */
export type TaskGroupInputs = z.output<typeof TaskGroupInputsSchema>;
