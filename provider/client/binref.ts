/**
 * `json+binref` responses: the runtime writes array bytes to `.bin` files under its output path
 * (`run_<id>/<uuid>.bin`) and answers `"buffer": "<path>:<offset>[:<compressed size>]"`. A caller
 * that can read that folder (the host side of a mounted output path) reads the bytes straight from
 * the file, with no base64 on either side.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { DTYPE_INFO, type DType } from "./dtypes";
import { lz4FrameDecompress } from "./lz4";
import { product } from "./ndarray";

const BINREF = /^(?<path>.+?)(:(?<offset>\d+)(:(?<size>\d+))?)?$/;

/** Reads `length` bytes at `offset` of `file` into a fresh (aligned) ArrayBuffer. */
function readExact(file: string, offset: number, length: number): ArrayBuffer {
  const ab = new ArrayBuffer(length);
  const view = new Uint8Array(ab);
  const fd = openSync(file, "r");
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, view, done, length - done, offset + done);
      if (n === 0) throw new TypeError(`binref ${file}: ends before ${length} bytes at offset ${offset}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return ab;
}

/**
 * The little-endian bytes of one binref array. Relative paths resolve against `baseDir` (the
 * service's output folder as the caller sees it) and must stay inside it.
 */
export function readBinref(
  buffer: string,
  shape: readonly number[],
  dtype: DType,
  compression: string | null | undefined,
  baseDir: string,
): ArrayBuffer {
  const m = BINREF.exec(buffer);
  if (!m?.groups) throw new TypeError(`binref buffer ${JSON.stringify(buffer)} is not <path>[:<offset>[:<size>]]`);
  const { path, offset, size } = m.groups;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw new TypeError(`binref ${path}: remote paths are not read by this client`);
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  if (!isAbsolute(path) && relative(resolve(baseDir), file).startsWith("..")) {
    throw new TypeError(`binref ${path} points outside the output folder ${baseDir}`);
  }
  const bytes = product(shape) * DTYPE_INFO[dtype].itemSize;
  const at = Number(offset ?? 0);
  if (compression === "lz4") {
    if (size === undefined) throw new TypeError(`binref ${buffer}: a compressed buffer needs its size`);
    return lz4FrameDecompress(new Uint8Array(readExact(file, at, Number(size))), bytes);
  }
  return readExact(file, at, bytes);
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
    writeFileSync(file, bytes, { mode: 0o644 });
    this.files.push(file);
    return `${name}:0`;
  };

  /** Deletes the files written for this call. */
  remove(): void {
    for (const f of this.files) rmSync(f, { force: true });
    this.files.length = 0;
  }
}
