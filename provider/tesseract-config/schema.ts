import { z } from "zod";

/**
 * `tesseract_config.yaml`, rule for rule as tesseract-core 1.15's pydantic models
 * (`tesseract_core/sdk/api_parse.py`): every object rejects unknown keys, strings are strict (a YAML
 * number is not a string), booleans are lax the way pydantic's are.
 */

const LAX_TRUE = new Set(["1", "on", "t", "true", "y", "yes"]);
const LAX_FALSE = new Set(["0", "off", "f", "false", "n", "no"]);

/** pydantic's lax bool: true/false, 0/1, and the strings yes/no/on/off/t/f/y/n/true/false/0/1. */
const laxBool = z.preprocess(
  (v) => {
    if (v === 0 || v === 1) return v === 1;
    if (typeof v === "string") {
      const s = v.toLowerCase(); // pydantic does not trim
      if (LAX_TRUE.has(s)) return true;
      if (LAX_FALSE.has(s)) return false;
    }
    return v;
  },
  z.boolean({ error: "must be a boolean (true or false)" }),
);

const strictStr = z.string({ error: "must be a string (quote it in YAML)" });

/**
 * Python 3.11's `PureWindowsPath(value).is_absolute()`: a drive (`C:` or a UNC `\\server\share`,
 * also behind the `\\?\` prefix) and a root. `/` counts as `\`. A lone `\x` or `C:x` is not absolute.
 */
export function isWindowsAbsolute(value: string): boolean {
  let part = value.replace(/\//g, "\\");
  let prefix = "";
  if (part.startsWith("\\\\")) {
    if (part.startsWith("\\\\?\\")) {
      prefix = part.slice(0, 4);
      part = part.slice(4);
      if (part.startsWith("UNC\\")) {
        prefix += part.slice(0, 3);
        part = `\\${part.slice(3)}`;
      }
    }
  }
  if (part[0] === "\\" && part[1] === "\\" && part[2] !== "\\") {
    const index = part.indexOf("\\", 2);
    if (index !== -1 && part.indexOf("\\", index + 1) !== index + 1) return true; // UNC: a drive and a root
  }
  let first = part[0];
  let drive = prefix;
  if (part[1] === ":" && /^[A-Za-z]$/.test(part[0] ?? "")) {
    drive += part.slice(0, 2);
    first = part[2];
  }
  return drive.length > 0 && first === "\\";
}

/** `RelativePath`: neither a POSIX (`PurePosixPath`) nor a Windows (`PureWindowsPath`) absolute path. */
const relativePath = strictStr.refine((s) => !s.startsWith("/") && !isWindowsAbsolute(s), {
  error: "must be a relative path (relative to the folder of tesseract_api.py)",
});

export const VERSION_PATTERN = /^\d+\.\d+\.\d+[a-zA-Z-0-9]*$/;

const HOST_CREDENTIAL_PATTERNS = {
  host: /^[A-Za-z0-9.\-:]+$/,
  secret_id: /^[A-Za-z0-9._-]+$/,
  username: /^[\x21-\x7e]+$/,
};

const hostCredential = z.strictObject({
  host: strictStr.regex(HOST_CREDENTIAL_PATTERNS.host, "host contains disallowed characters"),
  secret_id: strictStr.regex(HOST_CREDENTIAL_PATTERNS.secret_id, "secret_id contains disallowed characters"),
  username: strictStr
    .regex(HOST_CREDENTIAL_PATTERNS.username, "username contains disallowed characters")
    .default("__token__"),
});

const PYLOCK_NAME = /^pylock(\.[^.]+)?\.toml$/;

export const pipRequirementsSchema = z.strictObject({
  provider: z.literal("uv-pip", {
    error: 'must be "uv-pip" or "conda" ("python-pip" was renamed "uv-pip" in tesseract-core 1.12)',
  }),
  python_version: strictStr.nullable().default(null),
  requirements_file: strictStr
    // upstream: `value == Path(value).name` (POSIX), so "..", "a\\b" and " " pass; "", ".", "a/" do not
    .refine((s) => s.length > 0 && !s.includes("/") && s !== ".", {
      error: "requirements_file must be a bare filename in the Tesseract source directory, not a path",
    })
    .default("tesseract_requirements.txt"),
});

export const condaRequirementsSchema = z.strictObject({
  provider: z.literal("conda"),
});

const requirementsSchema = z.preprocess(
  (v) => v,
  z.discriminatedUnion("provider", [pipRequirementsSchema, condaRequirementsSchema], {
    error: (issue) =>
      issue.code === "invalid_union"
        ? 'requirements.provider must be "uv-pip" or "conda" ("python-pip" was renamed "uv-pip" in tesseract-core 1.12)'
        : undefined,
  }),
);

export const buildConfigSchema = z
  .strictObject({
    base_image: strictStr.default("debian:bookworm-slim"),
    target_platform: strictStr.default("native"),
    extra_packages: z.array(strictStr).default([]),
    package_data: z
      .array(
        z.tuple([relativePath, strictStr], { error: "each package_data entry must be a [source, destination] pair" }),
      )
      .nullable()
      .default([]),
    custom_build_steps: z.array(strictStr).nullable().default([]),
    inherit_base_image_packages: laxBool.default(false),
    requirements: requirementsSchema.default({
      provider: "uv-pip",
      python_version: null,
      requirements_file: "tesseract_requirements.txt",
    }),
    host_credentials: z.array(hostCredential).default([]),
    build_env: z.record(strictStr, strictStr).default({}),
    skip_checks: laxBool.default(false),
  })
  .check((ctx) => {
    const req = ctx.value.requirements;
    if (req.provider === "uv-pip" && req.python_version != null && ctx.value.inherit_base_image_packages) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        path: ["inherit_base_image_packages"],
        message:
          "python_version cannot be used with inherit_base_image_packages: the base image's Python packages belong " +
          "to a different interpreter than the one python_version installs. Set only one of the two.",
      });
    }
  });

export const BUILD_CONFIG_DEFAULTS = () => buildConfigSchema.parse({});

export const tesseractConfigSchema = z.strictObject({
  name: strictStr.min(1, "must not be empty"),
  version: strictStr
    .min(1)
    .max(128)
    .refine((v) => v === "unknown" || VERSION_PATTERN.test(v), {
      error:
        "is not a valid version number for a Tesseract: use three dot-separated numbers (e.g. 1.2.3), optionally " +
        'followed by a suffix (e.g. 1.2.3-nightly), or "unknown"',
    })
    .default("unknown"),
  description: strictStr.default(""),
  // YAML null (every option commented out) means the defaults.
  build_config: z.preprocess((v) => (v === null ? {} : v), buildConfigSchema).default(BUILD_CONFIG_DEFAULTS),
  env: z.record(strictStr, strictStr).default({}),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

export type TesseractConfig = z.output<typeof tesseractConfigSchema>;
export type TesseractBuildConfig = z.output<typeof buildConfigSchema>;

/** Whether a requirements file name is a PEP 751 lock file. */
export function isPylock(filename: string): boolean {
  return PYLOCK_NAME.test(filename);
}

/** Fields of each config object, for override key paths (mirrors pydantic's model_fields). */
export const CONFIG_FIELDS: Record<string, readonly string[]> = {
  "": ["name", "version", "description", "build_config", "env", "metadata"],
  build_config: [
    "base_image",
    "target_platform",
    "extra_packages",
    "package_data",
    "custom_build_steps",
    "inherit_base_image_packages",
    "requirements",
    "host_credentials",
    "build_env",
    "skip_checks",
  ],
  "build_config.requirements": ["provider", "python_version", "requirements_file"],
};
