import { randomInt } from "node:crypto";
import { createServer } from "node:net";

/** The port the Tesseract runtime listens on inside the container (as upstream). */
export const CONTAINER_API_PORT = 8000;
/** The debugpy port inside the container when `debug` is on (as upstream). */
export const CONTAINER_DEBUG_PORT = 5678;
/** Ephemeral range upstream picks from when no port is given. */
export const AUTO_PORT_RANGE: PortRange = { kind: "range", start: 49152, end: 65535 };
/** Attempts for auto-picked ports that turn out to be taken when Docker binds them (as upstream). */
export const PORT_ATTEMPTS = 5;

export type PortSpec = { kind: "fixed"; port: number } | PortRange;
export interface PortRange {
  kind: "range";
  /** First port of the range. */
  start: number;
  /** Last port of the range, inclusive. */
  end: number;
}

/**
 * Parses the `port` input: `"8080"` (fixed), `"8000-8010"` (any free port of the range, both ends
 * included), or undefined (any free port in 49152–65535). Returns a message on bad syntax.
 */
export function parsePort(value: string | number | undefined): PortSpec | { error: string } {
  if (value === undefined || value === "") return AUTO_PORT_RANGE;
  const text = String(value).trim();
  const single = /^(\d{1,5})$/.exec(text);
  if (single) {
    const port = Number(single[1]);
    if (port < 1 || port > 65535) return { error: `port ${port} is outside 1-65535 (fix: e.g. "8080")` };
    return { kind: "fixed", port };
  }
  const range = /^(\d{1,5})\s*-\s*(\d{1,5})$/.exec(text);
  if (range) {
    const start = Number(range[1]);
    const end = Number(range[2]);
    if (start < 1 || end > 65535) return { error: `range ${text} must lie within 1-65535 (fix: e.g. "8000-8010")` };
    if (start > end)
      return { error: `range ${text} starts after it ends (fix: write the lower port first, e.g. "${end}-${start}")` };
    return { kind: "range", start, end };
  }
  return {
    error: 'must be a port ("8080"), a range ("8000-8010"), or omitted for a free port in 49152-65535',
  };
}

/** Number of ports a spec offers. */
export function portCount(spec: PortSpec): number {
  return spec.kind === "fixed" ? 1 : spec.end - spec.start + 1;
}

/**
 * Host ports handed out by this process and not yet bound by Docker. Services created in the same
 * `pulumi up` run concurrently in one provider process; this keeps them from racing for the same
 * port before Docker has bound it.
 */
const reserved = new Set<number>();

/** Releases ports reserved by {@link pickPort} once Docker holds them (or gave up on them). */
export function releasePorts(ports: Iterable<number | undefined>): void {
  for (const p of ports) if (p !== undefined) reserved.delete(p);
}

/** True when nothing on this host listens on `host:port` (a bind attempt, as upstream does). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PickOptions {
  /** Address the port will be published on; probed with a bind. */
  hostIp: string;
  /** Probe with a local bind (only meaningful when the engine runs on this host). */
  probe: boolean;
  /** Ports to skip (e.g. ones that just failed). */
  avoid?: ReadonlySet<number>;
  /** Try this port first (e.g. the port a replica had before it was repaired). */
  prefer?: number;
}

/**
 * Picks a host port from a spec. Fixed ports are returned as is. For ranges, ports are tried in
 * random order (up to 200 probes, so huge ranges stay cheap), skipping ports reserved by this
 * process; the result is reserved until {@link releasePorts}. Returns undefined when none is free.
 */
export async function pickPort(spec: PortSpec, opts: PickOptions): Promise<number | undefined> {
  if (spec.kind === "fixed") return spec.port;
  const tried = new Set<number>();
  const size = spec.end - spec.start + 1;
  const budget = Math.min(size, 200);
  const candidates: number[] = [];
  if (opts.prefer !== undefined && opts.prefer >= spec.start && opts.prefer <= spec.end) candidates.push(opts.prefer);
  while (tried.size < budget) {
    let port: number;
    if (candidates.length) port = candidates.shift()!;
    else if (size <= 200) {
      // small range: walk it in a random rotation so every port is tried once
      const offset = randomInt(size);
      for (let i = 0; i < size; i++) candidates.push(spec.start + ((offset + i) % size));
      continue;
    } else port = spec.start + randomInt(size);
    if (tried.has(port)) continue;
    tried.add(port);
    if (reserved.has(port) || opts.avoid?.has(port)) continue;
    if (opts.probe && !(await isPortFree(port, opts.hostIp))) continue;
    if (reserved.has(port)) continue; // another pick won the race during the probe
    reserved.add(port);
    return port;
  }
  return undefined;
}

/**
 * True when a Docker error says the host port could not be bound: "port is already allocated"
 * (another container) or "address already in use" (another process).
 */
export function isPortConflict(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /port is already allocated|address already in use|bind: .*in use/i.test(text);
}
