/**
 * The few protobuf wire-format helpers the BuildKit build path needs (the trace BuildKit streams
 * through `POST /build`, and the messages of the session's gRPC services): small messages, so
 * hand-written rather than a generated codec.
 */

/** One field of a message: its number, wire type, and the value (a varint or the bytes of a length-delimited field). */
export interface ProtoField {
  field: number;
  wireType: number;
  /** Varint (wire type 0) value; fixed64/32 values as numbers too. */
  varint?: bigint;
  /** Length-delimited (wire type 2) bytes. */
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, i + 1];
    shift += 7n;
  }
  throw new Error("protobuf: truncated varint");
}

/** The fields of one message, in order (repeated fields appear once per value). Throws on malformed input. */
export function decodeFields(buf: Buffer): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    pos = next;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) {
      const [v, p] = readVarint(buf, pos);
      out.push({ field, wireType, varint: v });
      pos = p;
    } else if (wireType === 2) {
      const [len, p] = readVarint(buf, pos);
      const end = p + Number(len);
      if (end > buf.length) throw new Error("protobuf: truncated length-delimited field");
      out.push({ field, wireType, bytes: buf.subarray(p, end) });
      pos = end;
    } else if (wireType === 1) {
      if (pos + 8 > buf.length) throw new Error("protobuf: truncated fixed64");
      out.push({ field, wireType, varint: buf.readBigUInt64LE(pos) });
      pos += 8;
    } else if (wireType === 5) {
      if (pos + 4 > buf.length) throw new Error("protobuf: truncated fixed32");
      out.push({ field, wireType, varint: BigInt(buf.readUInt32LE(pos)) });
      pos += 4;
    } else throw new Error(`protobuf: unsupported wire type ${wireType}`);
  }
  return out;
}

function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return Buffer.from(bytes);
}

/** A length-delimited field (bytes, string or an embedded message). */
export function bytesField(field: number, value: Buffer | string): Buffer {
  const b = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
}

/** A varint field (int, enum, bool). */
export function varintField(field: number, value: number | bigint | boolean): Buffer {
  return Buffer.concat([varint(field << 3), varint(typeof value === "boolean" ? (value ? 1 : 0) : value)]);
}

/** The first string value of `field`, or "" (proto3's default). */
export function stringOf(fields: ProtoField[], field: number): string {
  const f = fields.find((x) => x.field === field && x.bytes);
  return f?.bytes ? f.bytes.toString("utf8") : "";
}
