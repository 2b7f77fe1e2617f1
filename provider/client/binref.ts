/**
 * `json+binref` responses: the runtime writes array bytes to `.bin` files under its output path
 * (`run_<id>/<uuid>.bin`) and answers `"buffer": "<path>:<offset>[:<compressed size>]"`. A caller
 * that can read that folder (the host side of a mounted output path) reads the bytes straight from
 * the file, with no base64 on either side. Only regular files whose real path is inside that folder
 * are read, without blocking the process (see `openConfined`).
 */
import { randomBytes } from "node:crypto";
import { constants, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open, readlink, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { typedFromBytes } from "./array-bytes";
import { DTYPE_INFO } from "./dtypes";
import { BadResponse, LimitExceeded, limitExceeded } from "./limits";
import { lz4FrameDecompress } from "./lz4";
import { product } from "./ndarray";
import type { BinrefJob } from "./response-body";

const BINREF = /^(?<path>.+?)(:(?<offset>\d+)(:(?<size>\d+))?)?$/;

/** Files are read in pieces of this size, so an abort (the call's timeout) is seen between them. */
const READ_PIECE = 64 * 1024 * 1024;

/** True when `child` is `root` itself or below it (both real paths). */
function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** Rejects when `signal` aborts, so a read stuck in the kernel does not hold the call past its timeout. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  // the work may still fail after the call gave up on it: that is not an unhandled rejection
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolveP, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolveP(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** The real path of an open descriptor (Linux `/proc`), or undefined where there is none. */
async function realPathOfFd(fd: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * Opens the file a binref names, confined to `root` (the real path of the output folder): the
 * file's real path (symlinks resolved) must be inside it, it must be a regular file (a FIFO or a
 * device is refused without blocking: opened with O_NONBLOCK, checked with fstat before any read),
 * and the descriptor's own real path is checked again after opening (a path swapped in between is
 * caught).
 */
async function openConfined(path: string, baseDir: string, root: string): Promise<{ fh: FileHandle; size: number }> {
  const candidate = isAbsolute(path) ? path : resolve(baseDir, path);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (err) {
    throw new BadResponse(
      `binref ${JSON.stringify(path)}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (!isInside(root, real)) {
    throw new BadResponse(
      `binref ${JSON.stringify(path)} points outside the output folder ${baseDir}${real !== candidate ? " (through a symbolic link)" : ""}: refused (only files inside outputPath are read)`,
    );
  }
  const fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = st.isFIFO()
        ? "a FIFO"
        : st.isDirectory()
          ? "a directory"
          : st.isCharacterDevice() || st.isBlockDevice()
            ? "a device"
            : st.isSocket()
              ? "a socket"
              : "something else";
      throw new BadResponse(`binref ${JSON.stringify(path)} is ${kind}, not a regular file: refused`);
    }
    const opened = await realPathOfFd(fh.fd);
    if (opened !== undefined && !isInside(root, opened))
      throw new BadResponse(
        `binref ${JSON.stringify(path)} changed to point outside the output folder ${baseDir} while being opened: refused`,
      );
    return { fh, size: st.size };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Reads `length` bytes at `offset` into a fresh (aligned) ArrayBuffer, checking `signal` between pieces. */
async function readExact(
  fh: FileHandle,
  what: string,
  offset: number,
  length: number,
  signal?: AbortSignal,
): Promise<ArrayBuffer> {
  const ab = new ArrayBuffer(length);
  const view = new Uint8Array(ab);
  let done = 0;
  while (done < length) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(view, done, Math.min(READ_PIECE, length - done), offset + done);
    if (bytesRead === 0) throw new BadResponse(`binref ${what}: ends before ${length} bytes at offset ${offset}`);
    done += bytesRead;
  }
  return ab;
}

/** Reads one binref array's little-endian bytes (see `openConfined` for what may be read). */
async function readOne(
  job: BinrefJob,
  baseDir: string,
  root: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<void> {
  const { buffer, compression, nd } = job;
  const m = BINREF.exec(buffer);
  if (!m?.groups)
    throw new BadResponse(`${job.path}: binref buffer ${JSON.stringify(buffer)} is not <path>[:<offset>[:<size>]]`);
  const { path, offset, size } = m.groups;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw new BadResponse(`${job.path}: binref ${path}: remote paths are not read by this client`);
  const bytes = product(nd.shape) * DTYPE_INFO[nd.dtype].itemSize;
  const at = Number(offset ?? 0);
  let length = bytes;
  if (compression === "lz4") {
    if (size === undefined) throw new BadResponse(`${job.path}: binref ${buffer}: a compressed buffer needs its size`);
    length = Number(size);
    if (!Number.isSafeInteger(length) || length > maxBytes)
      throw limitExceeded("maxResponseBytes", maxBytes, `${job.path}: the compressed binref buffer (${size} bytes)`);
  }
  const { fh, size: fileSize } = await openConfined(path, baseDir, root);
  try {
    if (!Number.isSafeInteger(at) || at + length > fileSize)
      throw new BadResponse(
        `${job.path}: binref ${buffer}: the file holds ${fileSize} bytes, the array needs ${length} at offset ${at}`,
      );
    const raw = await readExact(fh, buffer, at, length, signal);
    const ab = compression === "lz4" ? lz4FrameDecompress(new Uint8Array(raw), bytes) : raw;
    nd.data = typedFromBytes(nd.dtype, ab, nd.shape);
  } finally {
    await fh.close();
  }
}

/**
 * Reads the binref arrays of one response (collected by the parser) from `baseDir`, the service's
 * output folder as this process sees it, without blocking the process and within `signal`.
 * Absolute paths are allowed only when they lead inside that folder.
 */
export async function readBinrefs(
  jobs: readonly BinrefJob[],
  baseDir: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<void> {
  if (!jobs.length) return;
  signal?.throwIfAborted();
  const work = (async () => {
    let root: string;
    try {
      root = await realpath(baseDir);
    } catch (err) {
      throw new BadResponse(
        `the output folder ${baseDir} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    for (const job of jobs) {
      try {
        await readOne(job, baseDir, root, maxBytes, signal);
      } catch (err) {
        if (err instanceof BadResponse && !err.message.startsWith(job.path))
          throw new BadResponse(`${job.path}: ${err.message}`);
        if (!(err instanceof BadResponse) && !(err instanceof LimitExceeded) && !signal?.aborted)
          throw new BadResponse(`${job.path}: ${(err as Error).message}`);
        throw err;
      }
    }
  })();
  return untilAborted(work, signal);
}

/**
 * Large request arrays as files in the service's input folder: each array's bytes go to
 * `pt-in-<random>.bin` there, referenced as `"<name>:0"` (the runtime resolves it against its input
 * path). `remove()` deletes them once the call is over.
 */
export class BinrefInputs {
  private readonly files: string[] = [];
  private readonly prefix = `pt-in-${randomBytes(8).toString("hex")}`;

  constructor(private readonly dir: string) {}

  /** The writer `encodeRequestBody` calls for each large array. */
  readonly writer = (bytes: Buffer): string => {
    const name = `${this.prefix}-${this.files.length}.bin`;
    const file = join(this.dir, name);
    // O_EXCL: never follows a link planted at this name, never overwrites another file
    writeFileSync(file, bytes, { mode: 0o644, flag: "wx" });
    this.files.push(file);
    return `${name}:0`;
  };

  /** Deletes the files written for this call. */
  remove(): void {
    for (const f of this.files) rmSync(f, { force: true });
    this.files.length = 0;
  }
}
