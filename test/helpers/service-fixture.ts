// Test fixture: a real Tesseract image for the TesseractService tests, cached by tag across test
// files and removed at the end of the suite (test/final/shared-leaks.test.ts). Built from
// examples/tesseracts/hello with the package's own builder, so a broken builder fails these tests.
import { join } from "node:path";
import { buildTesseractImage } from "../../provider/build";
import { hostCaCertificates } from "../../provider/build-context/host-ca";
import { DockerClient } from "../../provider/docker";

/** Tag of the cached fixture image. */
export const FIXTURE_TAG = "hello:pt-service-fixture";
export const FIXTURE_LABEL = { "pulumi-tesseract.test": "fixture" };
const ROOT = join(__dirname, "..", "..");

/** Returns the fixture tag on `docker`, building it once if missing. */
export async function ensureHelloImage(docker = DockerClient.for()): Promise<string> {
  if (await docker.inspectImage(FIXTURE_TAG)) return FIXTURE_TAG;
  await buildTesseractImage(join(ROOT, "examples", "tesseracts", "hello"), {
    tag: FIXTURE_TAG.split(":")[1],
    labels: FIXTURE_LABEL,
    caCertificates: hostCaCertificates(),
    buildNetwork: "host",
    // no build stage left behind (it would carry the runtime base image's labels until the end)
    keepBuildCache: false,
    onLine: (l: string) => {
      if (process.env.PT_VERBOSE) process.stderr.write(`[fixture] ${l}\n`);
    },
  });
  return FIXTURE_TAG;
}

if (require.main === module) {
  const t0 = Date.now();
  ensureHelloImage()
    .then((tag) => {
      console.log(`${tag} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
