/**
 * Rules for the `tesseract_config.yaml` fields that are written into the generated Dockerfile
 * unquoted. tesseract-core 1.15's schema takes any string for them (its Jinja template pastes them
 * in as they are, so a newline there becomes a Dockerfile line of its own and a `"` in
 * `extra_packages` ends a shell string). These rules are checked when a build is prepared, on top
 * of the upstream-identical schema (schema.ts, differential-fuzzed against upstream), so the schema
 * keeps agreeing with upstream and the difference is one documented list (docs/tesseract-image.md).
 * Values that are free text (`description`, `env` values, `metadata`) are escaped instead (dq()).
 */
import type { TesseractConfig } from "./schema";

/** A Docker image reference: `name[:tag][@digest]`, registry and path included; no whitespace or quotes. */
export const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;
/** `native` or `os/arch[/variant]` (what `--platform` takes). */
export const PLATFORM = /^(native|[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_.]+)?)$/;
/**
 * An apt package argument: a Debian package name with an optional `:arch`, `=version` or
 * `/release` (letters, digits and `+ . - _ : = ~ /`); no whitespace, quotes, `$` or globs.
 */
export const APT_PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._:=~/-]*$/;
/** An environment variable name as `ENV` writes it unquoted. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Characters an `ENV` value cannot hold (a Dockerfile instruction is one line). */
const LINE_BREAKING = /[\n\r\0]/;

const show = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);

/** Problems of the fields that reach the Dockerfile (field, value, fix), empty when none. */
export function dockerfileFieldProblems(config: TesseractConfig): string[] {
  const bc = config.build_config;
  const out: string[] = [];
  if (!IMAGE_REFERENCE.test(bc.base_image))
    out.push(
      `build_config.base_image ${show(bc.base_image)} is not an image reference: it is written into the FROM line of the Dockerfile ` +
        "(fix: a name such as debian:bookworm-slim or registry.example.com/team/base:1.2@sha256:...; no spaces, newlines or quotes)",
    );
  if (!PLATFORM.test(bc.target_platform.trim()))
    out.push(
      `build_config.target_platform ${show(bc.target_platform)} is not a platform: it is written into the FROM lines ` +
        '(fix: "native" or os/arch such as linux/amd64 or linux/arm64/v8)',
    );
  bc.extra_packages.forEach((p, k) => {
    if (!APT_PACKAGE.test(p))
      out.push(
        `build_config.extra_packages[${k}] ${show(p)} is not an apt package name: it is written into apt-get install lines ` +
          "(fix: one package per entry, such as libgomp1 or curl=7.88.1-10; no spaces, quotes, $ or globs)",
      );
  });
  for (const [field, rec] of [
    ["env", config.env],
    ["build_config.build_env", bc.build_env],
  ] as const) {
    for (const [key, value] of Object.entries(rec)) {
      if (!ENV_NAME.test(key))
        out.push(
          `${field} key ${show(key)} is not an environment variable name: it is written into an ENV line ` +
            "(fix: letters, digits, _ . and -, not starting with a digit)",
        );
      if (LINE_BREAKING.test(value))
        out.push(
          `${field}.${ENV_NAME.test(key) ? key : "<key>"}: the value holds a line break or NUL, which an ENV instruction cannot carry ` +
            "(fix: put multi-line values into a file shipped with package_data and point the variable at it)",
        );
    }
  }
  const req = bc.requirements;
  if (req.provider === "uv-pip" && LINE_BREAKING.test(req.requirements_file))
    out.push(
      `build_config.requirements.requirements_file ${show(req.requirements_file)} holds a line break or NUL ` +
        "(fix: a plain file name such as tesseract_requirements.txt)",
    );
  return out;
}
