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
