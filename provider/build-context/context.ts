import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pack } from "tar-stream";
import { API_FILE, TesseractSourceError } from "../tesseract-config/load";
import { isPylock, type TesseractConfig } from "../tesseract-config/schema";
import { CA_DIR, type DockerfileOptions, ENTRYPOINT_SH, renderDockerfile } from "./dockerfile";
import { DockerIgnore, UPSTREAM_DOCKERIGNORE } from "./dockerignore";
import { parseRequirementsFile } from "./requirements";
import { RUNTIME_DOCKERFILE } from "./runtime";

/** One file or folder of the build context. */
export interface ContextEntry {
  /** Slash-separated path inside the context; folders end without a slash. */
  name: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  data?: Buffer;
  /** A symlink's target, verbatim. */
  linkname?: string;
}

export interface BuildContextOptions {
  /** tesseract-core version whose runtime is installed (default {@link DEFAULT_RUNTIME_VERSION}). */
  runtimeVersion?: string;
  /** PEM text of CA certificates to trust during the build. */
  caCertificates?: string;
  /** Whether a primary / extra pip index is given (values are passed as build args, not written). */
  pipIndexUrl?: boolean;
  pipExtraIndexUrls?: boolean;
  /** Build-stage installer: `pip` (default) or `uv`. */
  installer?: "uv" | "pip";
  /** Copy what links leaving srcDir (or a local package folder) point to, instead of refusing them. */
  followLinksOutside?: boolean;
  /**
   * The runtime base image the build stage starts from (`runtime.ts`): its tag, and its Dockerfile,
   * written into the context as `runtime.Dockerfile` (so the context's hash covers it, and a
   * `generateOnly` folder says how to build it). Ignored for conda.
   */
  runtime?: { image: string; dockerfile: string };
  /** The build runs on BuildKit (cache and secret mounts, see `DockerfileOptions.buildKit`). */
  buildKit?: DockerfileOptions["buildKit"];
}

export interface BuildContext {
  entries: ContextEntry[];
  dockerfile: string;
  /** sha256 over every entry's name, type, mode and content (sorted): the context's identity. */
  hash: string;
  /** Files of the source folder that went into `__tesseract_source__/`, relative paths. */
  sourceFiles: string[];
}

/** Pinned runtime version: the tesseract-core version the tooling is tested with. */
export const DEFAULT_RUNTIME_VERSION = "1.15.0";

/** Fixed mtime for every tar entry, so the same sources give the same bytes. */
const MTIME = new Date(0);
const MAX_FILES = 20_000;
const MAX_DEPTH = 40;

/** One file, folder or symbolic link found by {@link walkFolder}. */
export interface WalkedEntry {
  rel: string;
  abs: string;
  dir: boolean;
  /** For a link kept as a link: its target, verbatim (as `readlink` gives it). */
  link?: string;
}

/** Options of {@link walkFolder}. */
export interface WalkOptions {
  /** Follow (copy what they point to) links that leave the walked folder, instead of refusing them. */
  followLinksOutside?: boolean;
}

/** A symbolic link that leaves the folder of a build context (what it points to is not copied). */
export class LinkOutsideError extends Error {
  constructor(
    readonly link: string,
    readonly target: string,
  ) {
    super(
      `${link} is a symbolic link to ${target}, outside the folder: the build context never copies content from outside srcDir ` +
        "(fix: replace the link with the files it points to, exclude it in .dockerignore, or set followLinksOutside: true to copy what it points to)",
    );
    this.name = "LinkOutsideError";
  }
}

/** Whether `p` is `root` or below it (both absolute, resolved). */
function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

/**
 * Walks a folder, honouring a DockerIgnore, the way the Docker CLI builds a context: symbolic links
 * are never followed. A link whose target (resolved through every link on the way) stays inside the
 * folder is kept as a link; one that leaves it (or dangles outside it) throws a LinkOutsideError
 * naming it, unless `followLinksOutside` copies what it points to (with loop protection). Sockets,
 * FIFOs and devices are skipped: they have no content to copy (and reading a FIFO would block).
 */
export function walkFolder(
  root: string,
  ignore: DockerIgnore | undefined,
  prefix = "",
  options: WalkOptions = {},
): WalkedEntry[] {
  const out: WalkedEntry[] = [];
  const visiting = new Set<string>();
  const realRoot = safeRealpath(root);
  const push = (e: WalkedEntry) => {
    out.push(e);
    if (out.length > MAX_FILES)
      throw new Error(
        `${root}: more than ${MAX_FILES} files (fix: exclude what the image does not need with .dockerignore)`,
      );
  };
  const visit = (absDir: string, rel: string, depth: number) => {
    if (depth > MAX_DEPTH) throw new Error(`${absDir}: folders nested deeper than ${MAX_DEPTH} levels (symlink loop?)`);
    const real = safeRealpath(absDir);
    if (visiting.has(real)) return;
    visiting.add(real);
    for (const name of readdirSync(absDir).sort()) {
      const abs = path.join(absDir, name);
      const r = rel ? `${rel}/${name}` : name;
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(abs);
      } catch {
        continue; // vanished while walking
      }
      const ignored = ignore?.ignores(r) ?? false;
      if (st.isSymbolicLink()) {
        if (ignored) continue;
        const target = readlinkSync(abs);
        let resolved: string | undefined;
        try {
          resolved = realpathSync(abs);
        } catch {
          resolved = undefined; // dangling or a loop: judged by where it points
        }
        const inside = resolved
          ? isWithin(realRoot, resolved)
          : isWithin(realRoot, path.resolve(safeRealpath(absDir), target));
        if (inside) {
          push({ rel: prefix + r, abs, dir: false, link: target });
          continue;
        }
        if (!options.followLinksOutside || !resolved) throw new LinkOutsideError(abs, resolved ?? target);
        let tst: ReturnType<typeof statSync>;
        try {
          tst = statSync(abs);
        } catch {
          continue;
        }
        if (tst.isDirectory()) {
          push({ rel: prefix + r, abs, dir: true });
          visit(abs, r, depth + 1);
        } else if (tst.isFile()) push({ rel: prefix + r, abs, dir: false });
        continue;
      }
      if (st.isDirectory()) {
        if (ignored && !ignore?.hasExclusions) continue;
        if (!ignored) push({ rel: prefix + r, abs, dir: true });
        visit(abs, r, depth + 1);
      } else if (st.isFile() && !ignored) {
        push({ rel: prefix + r, abs, dir: false });
      }
    }
    visiting.delete(real);
  };
  visit(root, "", 0);
  return out;
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The `.dockerignore` rules for a source folder: upstream's defaults, then the folder's own file. */
export function sourceIgnore(srcDir: string): DockerIgnore {
  const file = path.join(srcDir, ".dockerignore");
  return DockerIgnore.parse(existsSync(file) ? readFileSync(file, "utf8") : "", UPSTREAM_DOCKERIGNORE);
}

/** Splits PEM text into individual certificates. */
export function splitPem(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => `${m[0]}\n`);
}

/** The CA files of `caCertificates`: one certificate per `ca-certificates/<name>`. */
export function caFiles(caCertificates: string | undefined): { name: string; pem: string }[] {
  return splitPem(caCertificates ?? "").map((pem, k) => ({
    name: `pulumi-tesseract-${String(k).padStart(2, "0")}.crt`,
    pem,
  }));
}

/**
 * Generates the build context of a Tesseract in memory, like tesseract-core's
 * `prepare_build_context`: `__tesseract_source__/` (the source folder minus `.dockerignore`d
 * files, with the requirements file rewritten), `local_requirements/` (local path dependencies),
 * `__package_data__/` (package_data from outside the folder), `entrypoint.sh`, `.dockerignore`,
 * `Dockerfile`, and `ca-certificates/` when CA certificates are given. The runtime is installed
 * from the package index, so there is no `__tesseract_runtime__/`.
 */
export function generateBuildContext(
  srcDir: string,
  config: TesseractConfig,
  options: BuildContextOptions = {},
): BuildContext {
  const src = path.resolve(srcDir);
  const entries = new Map<string, ContextEntry>();
  const addDir = (name: string, mode = 0o755) => {
    const parts = name.split("/");
    for (let k = 1; k <= parts.length; k++) {
      const d = parts.slice(0, k).join("/");
      if (!entries.has(d)) entries.set(d, { name: d, type: "directory", mode });
    }
  };
  const addFile = (name: string, data: Buffer | string, mode = 0o644, dirMode = 0o755) => {
    const dir = path.posix.dirname(name);
    if (dir !== ".") addDir(dir, dirMode);
    entries.set(name, { name, type: "file", mode, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  };
  const addLink = (name: string, linkname: string, dirMode: number) => {
    const dir = path.posix.dirname(name);
    if (dir !== ".") addDir(dir, dirMode);
    entries.set(name, { name, type: "symlink", mode: 0o777, linkname });
  };
  const problems: string[] = [];
  const bc = config.build_config;
  const walkOptions: WalkOptions = { followLinksOutside: options.followLinksOutside };
  /** Walks a folder into `base/`; a link leaving it becomes a problem (naming the link), not a throw. */
  const addTree = (
    root: string,
    ignore: DockerIgnore,
    base: string,
    fileMode: (rel: string) => number,
    dirMode: number,
  ) => {
    let walked: WalkedEntry[];
    try {
      walked = walkFolder(root, ignore, "", walkOptions);
    } catch (err) {
      if (!(err instanceof LinkOutsideError)) throw err;
      problems.push(err.message);
      return [];
    }
    for (const f of walked) {
      const name = `${base}/${f.rel}`;
      if (f.link !== undefined) addLink(name, f.link, dirMode);
      else if (f.dir) addDir(name, dirMode);
      else addFile(name, readFileSync(f.abs), fileMode(f.rel), dirMode);
    }
    return walked;
  };
  /** A file read by path (requirements, environment) must not be a link leaving srcDir either. */
  const leavesSrc = (file: string): boolean => {
    if (options.followLinksOutside || !existsSync(file) || !lstatSync(file).isSymbolicLink()) return false;
    const real = safeRealpath(file);
    if (isWithin(safeRealpath(src), real)) return false;
    problems.push(new LinkOutsideError(file, real).message);
    return true;
  };

  // __tesseract_source__: files 0777 like upstream's COPY --chmod=777 for package_data, the API 0444
  addDir("__tesseract_source__", 0o777);
  const sourceFiles = addTree(
    src,
    sourceIgnore(src),
    "__tesseract_source__",
    (rel) => (rel === API_FILE ? 0o444 : 0o777),
    0o777,
  )
    .filter((f) => !f.dir)
    .map((f) => f.rel);

  // requirements: local path dependencies staged into local_requirements/ and rewritten
  let requirementsFile = "tesseract_requirements.txt";
  let hasRequirements = false;
  /** The requirements file is a PEP 751 lock file (installed as it is, by uv). */
  let lockFile = false;
  let hasLocalRequirements = false;
  let needsGit = false;
  const stage = (p: string, extras: string, used: Set<string>): string | undefined => {
    const resolved = path.resolve(src, p);
    if (!existsSync(resolved)) {
      problems.push(
        `local dependency not found: ${p} (resolved to ${resolved}) (fix: correct the path in ${requirementsFile}; paths are relative to srcDir)`,
      );
      return undefined;
    }
    const base = path.basename(resolved);
    let destName = base;
    for (let n = 1; used.has(destName); n++) destName = `${base}_${n}`;
    used.add(destName);
    if (statSync(resolved).isDirectory()) {
      addDir(`local_requirements/${destName}`);
      addTree(
        resolved,
        DockerIgnore.parse("", ["**/__pycache__"]),
        `local_requirements/${destName}`,
        () => 0o644,
        0o755,
      );
    } else addFile(`local_requirements/${destName}`, readFileSync(resolved));
    hasLocalRequirements = true;
    return `./local_requirements/${destName}${extras}`;
  };
  if (bc.requirements.provider === "uv-pip") {
    requirementsFile = bc.requirements.requirements_file;
    const reqPath = path.join(src, requirementsFile);
    const lines: string[] = [];
    if (isPylock(requirementsFile)) {
      // A PEP 751 lock file: uv installs it as it is (exact versions, hashes), alone.
      lockFile = true;
      if ((options.installer ?? "pip") !== "uv")
        problems.push(
          `requirements_file ${requirementsFile}: a PEP 751 lock file is installed with uv (fix: set installer: "uv", or export a requirements.txt, e.g. \`uv export --format requirements-txt\`)`,
        );
      if (!existsSync(reqPath))
        problems.push(
          `${reqPath}: requirements_file not found (fix: create it or remove requirements_file from tesseract_config.yaml)`,
        );
      else if (!leavesSrc(reqPath)) {
        const text = readFileSync(reqPath, "utf8");
        // Local `directory`/`archive` entries name paths on this machine, which the build cannot see.
        if (/^\s*(directory|archive)\s*=\s*\{[^}]*\bpath\s*=/m.test(text))
          problems.push(
            `${reqPath}: a package from a local path (directory/archive with path =) cannot be installed in the build (fix: lock packages from an index, or list the local package in a requirements.txt)`,
          );
        addFile(`__tesseract_source__/${requirementsFile}`, text, 0o777, 0o777);
        hasRequirements = true;
      }
    } else if (existsSync(reqPath) && !leavesSrc(reqPath)) {
      const parsed = parseRequirementsFile(reqPath);
      const used = new Set<string>();
      lines.push(...parsed.remote);
      for (const l of parsed.local) {
        const staged = stage(l.path, l.extras, used);
        if (staged) lines.push(staged);
      }
    } else if (bc.requirements.requirements_file !== "tesseract_requirements.txt") {
      problems.push(
        `${reqPath}: requirements_file not found (fix: create it or remove requirements_file from tesseract_config.yaml)`,
      );
    }
    if (!lockFile) {
      hasRequirements = lines.length > 0;
      needsGit = lines.some((l) => /(^|\s|@\s*)git\+/.test(l));
      addFile(`__tesseract_source__/${requirementsFile}`, lines.length ? `${lines.join("\n")}\n` : "", 0o777, 0o777);
    }
  } else {
    requirementsFile = "tesseract_environment.yaml";
    const envPath = path.join(src, requirementsFile);
    if (leavesSrc(envPath)) {
      // reported by leavesSrc
    } else if (!existsSync(envPath)) {
      problems.push(
        `tesseract_config.yaml sets requirements.provider: conda, but there is no ${requirementsFile} in ${src} (fix: write one, e.g. \`conda env export --no-builds > ${requirementsFile}\`)`,
      );
    } else {
      const YAML = require("yaml") as typeof import("yaml");
      const env = (YAML.parse(readFileSync(envPath, "utf8")) ?? {}) as { dependencies?: unknown[] };
      const used = new Set<string>();
      for (const dep of env.dependencies ?? []) {
        if (dep && typeof dep === "object" && Array.isArray((dep as { pip?: unknown[] }).pip)) {
          const d = dep as { pip: unknown[] };
          d.pip = d.pip.map((p) => {
            if (typeof p !== "string" || ![".", "/", "file://"].some((x) => p.trim().startsWith(x))) return p;
            const m = /^(.+?)(\[[^\]]*\])?\s*$/.exec(p.trim())!;
            return stage(m[1], m[2] ?? "", used) ?? p;
          });
        }
      }
      addFile(`__tesseract_source__/${requirementsFile}`, YAML.stringify(env), 0o777, 0o777);
      hasRequirements = true;
    }
  }

  // package_data: inside the folder → COPY from __tesseract_source__; outside → __package_data__/
  const packageData: [string, string][] = [];
  const targets = (bc.package_data ?? []).map(([, t]) => t);
  const dupes = [...new Set(targets.filter((t, k) => targets.indexOf(t) !== k))];
  if (dupes.length)
    problems.push(
      `build_config.package_data has duplicate destination(s): ${dupes.sort().join(", ")} (fix: give every entry its own destination)`,
    );
  const usedPd = new Set<string>();
  for (const [source, target] of bc.package_data ?? []) {
    const resolved = path.resolve(src, source);
    if (!existsSync(resolved)) {
      problems.push(
        `build_config.package_data: source ${JSON.stringify(source)} not found (resolved to ${resolved}) (fix: paths are relative to the folder of tesseract_api.py)`,
      );
      continue;
    }
    const rel = path.relative(src, resolved);
    const inside = !rel.startsWith("..") && !path.isAbsolute(rel);
    if (inside) {
      const ctxPath = `__tesseract_source__/${rel.split(path.sep).join("/")}`;
      if (rel !== "" && !entries.has(ctxPath)) {
        problems.push(
          `build_config.package_data: source ${JSON.stringify(source)} is excluded by .dockerignore (fix: remove it from .dockerignore or from package_data)`,
        );
        continue;
      }
      packageData.push([rel === "" ? "__tesseract_source__/" : ctxPath, target]);
    } else {
      const ext = path.extname(resolved);
      const stem = path.basename(resolved, ext);
      let destName = path.basename(resolved);
      for (let n = 1; usedPd.has(destName); n++) destName = `${stem}_${n}${ext}`;
      usedPd.add(destName);
      const base = `__package_data__/${destName}`;
      if (statSync(resolved).isDirectory()) {
        addDir(base, 0o777);
        addTree(resolved, DockerIgnore.parse("", UPSTREAM_DOCKERIGNORE), base, () => 0o777, 0o777);
      } else addFile(base, readFileSync(resolved), 0o777, 0o777);
      packageData.push([base, target]);
    }
  }

  // CA certificates, one per file
  const caNames: string[] = [];
  if (options.caCertificates) {
    const certs = caFiles(options.caCertificates);
    if (!certs.length)
      problems.push(
        "caCertificates: no PEM certificate found (fix: pass the text of a -----BEGIN CERTIFICATE----- file)",
      );
    for (const { name, pem } of certs) {
      caNames.push(name);
      addFile(`${CA_DIR}/${name}`, pem);
    }
  }
  const runtime = bc.requirements.provider === "conda" ? undefined : options.runtime;
  if (runtime) addFile(RUNTIME_DOCKERFILE, runtime.dockerfile);
  if (problems.length) throw new TesseractSourceError("srcDir", problems);

  const dockerfile = renderDockerfile(config, {
    runtimeVersion: options.runtimeVersion ?? DEFAULT_RUNTIME_VERSION,
    requirementsFile,
    hasRequirements,
    lockFile,
    hasLocalRequirements,
    needsGit,
    packageData,
    caFiles: caNames,
    pipIndexUrl: Boolean(options.pipIndexUrl),
    pipExtraIndexUrls: Boolean(options.pipExtraIndexUrls),
    installer: options.installer ?? "pip",
    ...(runtime ? { runtimeImage: runtime.image } : {}),
    ...(options.buildKit ? { buildKit: options.buildKit } : {}),
  });
  addFile("Dockerfile", dockerfile);
  addFile("entrypoint.sh", ENTRYPOINT_SH, 0o555);
  addFile(".dockerignore", `${UPSTREAM_DOCKERIGNORE.join("\n")}\n`);

  const sorted = [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const h = createHash("sha256");
  for (const e of sorted) {
    h.update(`${e.type}\0${e.name}\0${e.mode.toString(8)}\0`);
    if (e.data) h.update(createHash("sha256").update(e.data).digest("hex"));
    if (e.linkname !== undefined) h.update(`\0${e.linkname}`);
    h.update("\n");
  }
  return { entries: sorted, dockerfile, hash: h.digest("hex"), sourceFiles };
}

/** The context as a deterministic tar stream (sorted entries, fixed mtimes, uid/gid 0). */
export function contextTar(ctx: BuildContext): Readable {
  const p = pack();
  for (const e of ctx.entries) {
    const header = {
      name: e.type === "directory" ? `${e.name}/` : e.name,
      mode: e.mode,
      mtime: MTIME,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
    };
    if (e.type === "directory") p.entry({ ...header, type: "directory" });
    else if (e.type === "symlink") p.entry({ ...header, type: "symlink", linkname: e.linkname });
    else p.entry({ ...header, type: "file", size: e.data!.length }, e.data!);
  }
  p.finalize();
  return p as unknown as Readable;
}

/** Writes the context to a folder (like `tesseract build --generate-only`), replacing its content. */
export function writeContext(ctx: BuildContext, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const e of ctx.entries) {
    const target = path.join(dir, ...e.name.split("/"));
    if (e.type === "directory") mkdirSync(target, { recursive: true });
    else if (e.type === "symlink") {
      mkdirSync(path.dirname(target), { recursive: true });
      symlinkSync(e.linkname as string, target);
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, e.data!, { mode: e.mode });
    }
  }
}
