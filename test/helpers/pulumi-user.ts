/**
 * A new user's shell for running documented commands: the real `pulumi` CLI (built by setup) with
 * this machine's stand-in Node.js language host (test/helpers/nodejs-host: it starts
 * `@pulumi/pulumi/cmd/run` of the project exactly as the real host does), a home folder of its own
 * (so `pulumi login --local` and `~/.pulumi` start empty), and an `npm` that installs the packed
 * tarball where a command names the package `pulumi-tesseract` (standing in for the registry).
 * Only the answers a user types are set in the environment: the passphrase and "yes".
 *
 * `pulumi login --local` keeps state in `~/.pulumi`, and the CLI finds `~` through the user
 * database (/etc/passwd), not `$HOME`: the shell runs in a private mount namespace whose
 * `~/.pulumi` is a folder of the test's own, so the user's real one is neither read nor written.
 */
import { execFileSync, type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./stack";

export const CACHE =
  process.env.PULUMI_TESSERACT_CACHE ?? path.join(process.env.HOME ?? "/root", ".cache", "pulumi-tesseract");

/** The folder of the Pulumi CLI that setup built (its dynamic-provider plugin lies beside it). */
export function pulumiBinDir(): string {
  const version = require(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "package.json")).version;
  return path.join(CACHE, `pulumi-v${version}`, "bin");
}

export interface UserShellOptions {
  /** Folder for the user's home, bin and npm wrapper. */
  root: string;
  /** Folder whose `node` the user has (first on PATH). */
  nodeBin: string;
  /** The packed package (`npm pack`), installed where a command names `pulumi-tesseract`. */
  tarball: string;
  /** npm arguments replaced as given, e.g. `{ "typescript@<7": "typescript@5" }` for a pinned row. */
  npmArgs?: Record<string, string>;
}

/** The environment of the user's shell (see the file comment). */
export function userShellEnv(o: UserShellOptions): NodeJS.ProcessEnv {
  const home = path.join(o.root, "home");
  const bin = path.join(o.root, "bin");
  mkdirSync(home, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const realNpm = execFileSync("bash", ["-c", "command -v npm"], { encoding: "utf8" }).trim();
  const cases = Object.entries({ "pulumi-tesseract": o.tarball, ...(o.npmArgs ?? {}) })
    .map(([from, to]) => `    ${shellQuote(from)}) args+=(${shellQuote(to)}) ;;`)
    .join("\n");
  writeFileSync(
    path.join(bin, "npm"),
    `#!/usr/bin/env bash\nargs=()\nfor a in "$@"; do\n  case "$a" in\n${cases}\n    *) args+=("$a") ;;\n  esac\ndone\nexec ${shellQuote(realNpm)} "\${args[@]}"\n`,
  );
  chmodSync(path.join(bin, "npm"), 0o755);
  symlinkSync(
    path.join(REPO_ROOT, "test", "helpers", "nodejs-host", "pulumi-language-nodejs"),
    path.join(bin, "pulumi-language-nodejs"),
  );
  const env: NodeJS.ProcessEnv = {};
  // What a user's login shell has: no test-suite Pulumi settings (backend, home, passphrase).
  for (const [k, v] of Object.entries(process.env)) if (!/^(PULUMI_|PT_|npm_)/.test(k)) env[k] = v;
  return {
    ...env,
    HOME: home,
    PATH: [bin, o.nodeBin, pulumiBinDir(), process.env.PATH].join(":"),
    npm_config_cache: path.join(CACHE, "npm-cache"),
    npm_config_update_notifier: "false",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // The answers to the prompts of `pulumi stack init` (local backend) and `pulumi up`/`destroy`.
    PULUMI_CONFIG_PASSPHRASE: "readme-passphrase",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // This machine's builds reach the package index only through the host's network and its
    // TLS-intercepting proxy (README: machine defaults; docs/tesseract-image.md).
    PULUMI_TESSERACT_BUILD_NETWORK: "host",
    PULUMI_TESSERACT_CA_CERTIFICATES: "host",
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs `script` with bash (`-euo pipefail`) in the user's shell (see the file comment). */
export function runUserShell(
  script: string,
  o: { root: string; cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): SpawnSyncReturns<string> {
  const dotPulumi = path.join(o.root, "dot-pulumi");
  mkdirSync(dotPulumi, { recursive: true });
  const wrapper = [
    'home="$(getent passwd "$(id -u)" | cut -d: -f6)"',
    'mkdir -p "$home/.pulumi"',
    'mount --bind "$PT_DOT_PULUMI" "$home/.pulumi"',
    'exec bash -euo pipefail -c "$1"',
  ].join(" && ");
  return spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", wrapper, "user-shell", script], {
    cwd: o.cwd,
    env: { ...o.env, PT_DOT_PULUMI: dotPulumi },
    encoding: "utf8",
    timeout: o.timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}
