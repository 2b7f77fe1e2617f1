/**
 * The one place tests find the Python venvs `scripts/setup.sh` makes (`source scripts/env.sh`
 * exports them): `PULUMI_TESSERACT_VENV` (tesseract-core, `build`, fractal-server 2.18.5) and
 * `PULUMI_TESSERACT_FRACTAL_VENV` (the fractal-server the test server runs).
 */
import { existsSync } from "node:fs";
import path from "node:path";

/** The venv with tesseract-core, or undefined outside `source scripts/env.sh`. */
export function venvDir(): string | undefined {
  return process.env.PULUMI_TESSERACT_VENV;
}

/** A program of the venv (`python`, `tesseract`, ...) when it exists; tests that need it skip without. */
export function venvBin(name: string): string | undefined {
  const dir = venvDir();
  const p = dir && path.join(dir, "bin", name);
  return p && existsSync(p) ? p : undefined;
}

/** The venv's python when it exists. */
export function venvPython(): string | undefined {
  return venvBin("python");
}

/** A program of the venv; throws (naming the fix) when the venv is not set up. */
export function requireVenvBin(name: string): string {
  const dir = venvDir();
  if (!dir) throw new Error("PULUMI_TESSERACT_VENV is not set: run bash scripts/setup.sh, then source scripts/env.sh");
  return path.join(dir, "bin", name);
}

/**
 * The venv the test fractal-server runs from: `PULUMI_TESSERACT_FRACTAL_VENV` (fractal-server 2.24.4
 * on Python >= 3.12), else `PULUMI_TESSERACT_VENV` (2.18.5), as scripts/fractal-server.sh picks it.
 */
export function fractalVenv(): string {
  for (const v of [process.env.PULUMI_TESSERACT_FRACTAL_VENV, process.env.PULUMI_TESSERACT_VENV]) {
    if (v && existsSync(path.join(v, "bin", "fractalctl"))) return v;
  }
  throw new Error("no venv with fractalctl: run bash scripts/setup.sh, then source scripts/env.sh");
}
