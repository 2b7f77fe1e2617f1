/** What bench/client.ts and bench/client-large.ts share: the Python client driver, medians, results. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { hostCaCertificates } from "../provider/build-context/host-ca";
import { buildTesseractImage, removeTesseractImage } from "../provider/resources/tesseract-image-impl";
import * as service from "../provider/resources/tesseract-service-impl";
import { requireVenvBin } from "../test/helpers/venv";

/** A served Tesseract and how to take it down again. */
export interface Served {
  url: string;
  stop(): Promise<void>;
}

/**
 * The Tesseract in `srcDir` built by TesseractImage and served by TesseractService (a container
 * whose port is published on 127.0.0.1, with `serviceInputs` such as mounted folders), both
 * removed again by `stop`.
 */
export async function serveAsContainer(
  srcDir: string,
  name: string,
  serviceInputs: Record<string, unknown> = {},
): Promise<Served> {
  const built = await buildTesseractImage(srcDir, {
    tag: name,
    caCertificates: hostCaCertificates(),
    buildNetwork: "host",
  });
  const checked = await service.check(
    {},
    { serviceName: name, image: built.tags[0], outputFormat: "json+base64", ...serviceInputs },
  );
  const { id, outs } = await service.create(checked.inputs as Record<string, unknown>);
  return {
    url: (outs as service.ServiceOutputs).url,
    stop: async () => {
      await service.remove(id, outs as service.ServiceOutputs);
      await removeTesseractImage(built);
    },
  };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** tesseract-core's Python client (bench/client_py.py) in a subprocess, driven one command per line. */
export class PythonSide {
  private child: ChildProcessWithoutNullStreams;
  private lines: AsyncIterator<string>;
  private stderr = "";
  constructor(url: string, args: string[] = []) {
    this.child = spawn(requireVenvBin("python"), [path.join(__dirname, "client_py.py"), url, ...args]);
    this.child.stderr.on("data", (b) => {
      this.stderr = (this.stderr + b).slice(-4000);
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  async next(timeoutMs = 600_000): Promise<{ times_ms: number[]; errors?: number; peak_rss_mb: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`python side timed out: ${this.stderr}`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.lines.next(), timeout]);
      if (r.done) throw new Error(`python side exited: ${this.stderr}`);
      return JSON.parse(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  run(cmd: string) {
    this.child.stdin.write(`${cmd}\n`);
    return this.next();
  }
  close() {
    this.child.stdin.end("quit\n");
    setTimeout(() => this.child.kill("SIGKILL"), 5000).unref();
  }
}
