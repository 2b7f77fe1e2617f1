/**
 * The test run's hold on the shared runtime base image (provider/build/runtime-image.ts), so that
 * the suite installs the ~60 runtime packages once instead of once per test: a stack's destroy (or
 * a build outside a stack) removes the runtime base image when nothing else holds it, and nearly
 * every test ends with one. A user's machine keeps it while any of their stacks holds it; this is
 * the same, with the run as the holder. scripts/test.sh runs `hold` after the setup and `release`
 * before the leak check, which then finds nothing of it.
 *
 * Usage: node --import tsx test/helpers/warm-runtime.ts hold|release
 * The image held is the one of the example Tesseracts built with the test machine's build options
 * (hostBuildOptions: the host's CAs, host network), which nearly every test uses.
 */
import path from "node:path";
import { prepareBuild } from "../../provider/build";
import { ensureRuntimeImage, holdRuntime, releaseRuntimeHold } from "../../provider/build/runtime-image";
import { Progress } from "../../provider/common/log";
import { DockerClient } from "../../provider/docker";
import { EXAMPLES, hostBuildOptions } from "./tesseract-image";

/** The run's runtime holder tag (one per machine: a second run re-tags the same image). */
export const SUITE_RUNTIME_HOLDER = "pulumi-tesseract-runtime-holder/test-suite:warm";

async function main(action: string): Promise<void> {
  const engine = DockerClient.for();
  try {
    if (action === "release") {
      await releaseRuntimeHold(engine, SUITE_RUNTIME_HOLDER);
      console.log(`released ${SUITE_RUNTIME_HOLDER}`);
      return;
    }
    if (action !== "hold") throw new Error(`usage: warm-runtime.ts hold|release (got ${action})`);
    const { buildNetwork, caCertificates } = hostBuildOptions("warm");
    const prepared = prepareBuild({ srcDir: path.join(EXAMPLES, "hello"), buildNetwork, caCertificates });
    if (!prepared.runtime) throw new Error("the hello example has no runtime base image");
    const started = Date.now();
    const id = await ensureRuntimeImage(engine, prepared.runtime, {
      networkMode: buildNetwork,
      onLine: () => undefined,
      progress: new Progress("warm runtime"),
    });
    await holdRuntime(engine, id, SUITE_RUNTIME_HOLDER);
    console.log(
      `holding ${prepared.runtime.image} (${id.slice(7, 19)}) as ${SUITE_RUNTIME_HOLDER} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } finally {
    await engine.close();
  }
}

main(process.argv[2] ?? "").catch((err) => {
  console.error(`warm-runtime: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
