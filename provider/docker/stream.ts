/** Splits a newline-delimited JSON stream (as /build and /images/create send it) into objects. */
export async function* splitJsonLines(body: AsyncIterable<Buffer>): AsyncGenerator<unknown> {
  let buffered = "";
  for await (const chunk of body) {
    buffered += chunk.toString("utf8");
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line);
      nl = buffered.indexOf("\n");
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered.trim());
}

/**
 * Non-TTY container logs are multiplexed in frames: an 8-byte header [stream, 0, 0, 0, size
 * (uint32 big-endian)] then the payload. Returns stdout and stderr interleaved as text.
 */
export function demuxLogs(raw: Buffer): string {
  const out: string[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    out.push(raw.subarray(offset + 8, offset + 8 + size).toString("utf8"));
    offset += 8 + size;
  }
  return out.join("");
}

/**
 * Incremental demultiplexer of a non-TTY attach or logs stream: frames of an 8-byte header
 * [stream (1 stdout, 2 stderr), 0, 0, 0, size (uint32 big-endian)] and a payload, which may be
 * split across chunks. Collects stdout and stderr bytes separately.
 */
export class FrameDemuxer {
  /** Bytes received but not yet part of a complete frame (kept as a list: a frame may be large). */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  readonly stdout: Buffer[] = [];
  readonly stderr: Buffer[] = [];

  /** Feeds the next chunk of the stream. */
  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    while (this.pendingLength >= 8) {
      if (this.pending[0].length < 8) this.pending = [Buffer.concat(this.pending)];
      const head = this.pending[0];
      const size = head.readUInt32BE(4);
      if (this.pendingLength < 8 + size) return;
      const buf = this.pending.length === 1 ? head : Buffer.concat(this.pending, this.pendingLength);
      (buf[0] === 2 ? this.stderr : this.stdout).push(buf.subarray(8, 8 + size));
      const rest = buf.subarray(8 + size);
      this.pending = rest.length ? [rest] : [];
      this.pendingLength = rest.length;
    }
  }

  /** Everything written to stdout so far, as UTF-8 text. */
  stdoutText(): string {
    return Buffer.concat(this.stdout).toString("utf8");
  }

  /** Everything written to stderr so far, as UTF-8 text. */
  stderrText(): string {
    return Buffer.concat(this.stderr).toString("utf8");
  }
}
