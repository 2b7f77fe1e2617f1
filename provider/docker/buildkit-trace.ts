/**
 * Reads the progress BuildKit streams through `POST /build?version=2`: NDJSON messages whose
 * `{"id":"moby.buildkit.trace","aux":"<base64>"}` carry a protobuf `moby.buildkit.v1.StatusResponse`
 * (vertexes = build steps, statuses, logs of RUN steps), `{"id":"moby.image.id","aux":{"ID":…}}`
 * the image, `errorDetail` a failure. Turned into plain log lines like the CLI's `--progress=plain`
 * (`#3 [build_stage 4/6] RUN …`, `#3 0.512 output`), and, on failure, into a DockerBuildError
 * naming the failing step with the end of its own log.
 */
import { DockerBuildError } from "./errors";
import { decodeFields, type ProtoField, stringOf } from "./protobuf";
import { splitJsonLines } from "./stream";

/** One step of the build as the trace describes it (a subset of `moby.buildkit.v1.Vertex`). */
export interface TraceVertex {
  digest: string;
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error: string;
}

/** One output chunk of a step (`moby.buildkit.v1.VertexLog`). */
export interface TraceLog {
  vertex: string;
  /** 1 stdout, 2 stderr. */
  stream: number;
  msg: Buffer;
}

/** The parts of one `StatusResponse` this package uses. */
export interface TraceStatus {
  vertexes: TraceVertex[];
  logs: TraceLog[];
}

function hasField(fields: ProtoField[], n: number): boolean {
  return fields.some((f) => f.field === n);
}

/** Decodes one `moby.buildkit.v1.StatusResponse` (vertexes = 1, statuses = 2, logs = 3). */
export function decodeStatusResponse(buf: Buffer): TraceStatus {
  const out: TraceStatus = { vertexes: [], logs: [] };
  for (const f of decodeFields(buf)) {
    if (!f.bytes) continue;
    if (f.field === 1) {
      // Vertex: digest=1, inputs=2, name=3, cached=4, started=5, completed=6, error=7
      const v = decodeFields(f.bytes);
      out.vertexes.push({
        digest: stringOf(v, 1),
        name: stringOf(v, 3),
        cached: v.some((x) => x.field === 4 && x.varint === 1n),
        started: hasField(v, 5),
        completed: hasField(v, 6),
        error: stringOf(v, 7),
      });
    } else if (f.field === 3) {
      // VertexLog: vertex=1, timestamp=2, stream=3, msg=4
      const l = decodeFields(f.bytes);
      const msg = l.find((x) => x.field === 4)?.bytes ?? Buffer.alloc(0);
      out.logs.push({
        vertex: stringOf(l, 1),
        stream: Number(l.find((x) => x.field === 3)?.varint ?? 0n),
        msg: Buffer.from(msg),
      });
    }
  }
  return out;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/** Errors of steps BuildKit cancelled because another one failed: not the cause. */
const CANCELLED = /context canceled|canceled$/i;

/**
 * Follows one BuildKit build's trace: numbers the steps in the order they appear, prints each
 * once when it starts (or is cached), its output line by line, and keeps each step's own log for
 * the failure message.
 */
export class BuildKitTrace {
  private readonly numbers = new Map<string, number>();
  private readonly seen = new Map<string, TraceVertex>();
  private readonly printed = new Set<string>();
  private readonly logs = new Map<string, string[]>();
  private readonly pending = new Map<string, string>();
  /** The last lines of the whole build (every step). */
  readonly tail: string[] = [];
  /** The step that failed first (not one cancelled because of it). */
  failed: TraceVertex | undefined;

  constructor(private readonly onLine: (line: string) => void) {}

  private num(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return n;
  }

  private emit(line: string, digest?: string): void {
    this.tail.push(line);
    if (this.tail.length > 200) this.tail.shift();
    if (digest !== undefined) {
      const own = this.logs.get(digest) ?? [];
      own.push(line);
      if (own.length > 200) own.shift();
      this.logs.set(digest, own);
    }
    this.onLine(line);
  }

  /** Feeds one decoded StatusResponse. */
  feed(status: TraceStatus): void {
    for (const v of status.vertexes) {
      const n = this.num(v.digest);
      const merged = { ...this.seen.get(v.digest), ...v };
      this.seen.set(v.digest, merged);
      if (!this.printed.has(v.digest) && (v.started || v.cached) && v.name) {
        this.printed.add(v.digest);
        this.emit(`#${n} ${v.name}${v.cached ? " CACHED" : ""}`);
      }
      if (v.error) {
        this.emit(`#${n} ERROR: ${v.error}`, v.digest);
        if (!this.failed || (CANCELLED.test(this.failed.error) && !CANCELLED.test(v.error))) this.failed = merged;
      }
    }
    for (const l of status.logs) {
      const n = l.vertex ? this.num(l.vertex) : 0;
      const text = (this.pending.get(l.vertex) ?? "") + l.msg.toString("utf8").replace(ANSI, "");
      const lines = text.split(/\r?\n/);
      this.pending.set(l.vertex, lines.pop() ?? "");
      for (const line of lines) if (line.trim()) this.emit(l.vertex ? `#${n} ${line}` : line, l.vertex || undefined);
    }
  }

  /** Flushes the unterminated last line of each step. */
  flush(): void {
    for (const [digest, rest] of this.pending)
      if (rest.trim()) this.emit(digest ? `#${this.num(digest)} ${rest}` : rest, digest || undefined);
    this.pending.clear();
  }

  /** The failing step's name and its own log's end (else the build's), for a DockerBuildError. */
  failure(engineMessage: string): DockerBuildError {
    this.flush();
    const step = this.failed?.name || undefined;
    const own = this.failed ? (this.logs.get(this.failed.digest) ?? []) : [];
    return new DockerBuildError(engineMessage, step, (own.length ? own : this.tail).slice(-30));
  }
}

/**
 * Consumes a BuildKit build's NDJSON stream (`POST /build?version=2`): log lines to `onLine`, the
 * image ID out, a failure thrown as DockerBuildError naming the failing step.
 */
export async function readBuildKitStream(
  body: AsyncIterable<Buffer>,
  onLine: (line: string) => void,
): Promise<string | undefined> {
  const trace = new BuildKitTrace(onLine);
  let imageId: string | undefined;
  for await (const msg of splitJsonLines(body)) {
    const m = msg as {
      id?: string;
      aux?: unknown;
      stream?: string;
      error?: string;
      errorDetail?: { message?: string };
    };
    if (m.error || m.errorDetail) throw trace.failure(m.errorDetail?.message ?? m.error ?? "unknown error");
    if (m.id === "moby.buildkit.trace" && typeof m.aux === "string") {
      let status: TraceStatus;
      try {
        status = decodeStatusResponse(Buffer.from(m.aux, "base64"));
      } catch {
        continue; // a trace this decoder cannot read only loses progress lines
      }
      trace.feed(status);
    } else if (m.id === "moby.image.id") {
      const id = (m.aux as { ID?: string } | undefined)?.ID;
      if (id) imageId = id;
    } else if (typeof m.stream === "string" && m.stream.trim()) {
      trace.feed({ vertexes: [], logs: [{ vertex: "", stream: 1, msg: Buffer.from(m.stream) }] });
    }
  }
  trace.flush();
  if (trace.failed && !imageId) throw trace.failure(trace.failed.error);
  return imageId;
}
