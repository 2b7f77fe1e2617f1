// Test fixture: a real Tesseract image for the TesseractService tests, cached by tag across runs.
// Built from examples/tesseracts/hello with the package's own builder (buildTesseractImage); if
// that is unavailable or fails, from a small test-only Dockerfile (pip install of the runtime).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pack } from "tar-stream";
import { DockerClient } from "../../provider/docker";

/** Tag of the cached fixture image (not removed by tests: it is a cache, labelled as a fixture). */
export const FIXTURE_TAG = "hello:pt-service-fixture";
export const FIXTURE_LABEL = { "pulumi-tesseract.test": "fixture" };
const ROOT = join(__dirname, "..", "..");

function caPem(): string {
  const dir = "/usr/local/share/ca-certificates";
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".crt"))
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .join("\n");
  } catch {
    return "";
  }
}

const FALLBACK_API = `from pydantic import BaseModel, Field


class InputSchema(BaseModel):
    name: str = Field(default="world")


class OutputSchema(BaseModel):
    greeting: str


def apply(inputs: InputSchema) -> OutputSchema:
    return OutputSchema(greeting=f"Hello, {inputs.name}!")
`;

/** Test-only Dockerfile: the runtime from the package index, like upstream's image layout. */
function fallbackDockerfile(): string {
  return `FROM debian:bookworm-slim
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      python3 python3-venv libnss-wrapper ca-certificates && update-ca-certificates && rm -rf /var/lib/apt/lists/*
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /python-env && /python-env/bin/pip install --no-cache-dir "tesseract-core[runtime]==1.15.0"
WORKDIR /tesseract
COPY tesseract_api.py /tesseract/tesseract_api.py
RUN mkdir -p /tesseract/input_data /tesseract/output_data /home/tesseract-user && chmod 777 /tesseract /tesseract/output_data /home/tesseract-user
VOLUME ["/tesseract/input_data", "/tesseract/output_data"]
ENV PATH=/python-env/bin:$PATH TESSERACT_NAME=hello TESSERACT_VERSION=0.1.0 TESSERACT_API_PATH=/tesseract/tesseract_api.py \\
    TESSERACT_INPUT_PATH=/tesseract/input_data TESSERACT_OUTPUT_PATH=/tesseract/output_data PYTHONUNBUFFERED=1 HOME=/home/tesseract-user
USER 9999:9999
ENTRYPOINT ["tesseract-runtime"]
CMD ["--help"]
`;
}

async function buildFallback(docker: DockerClient): Promise<void> {
  const p = pack();
  p.entry({ name: "Dockerfile", mtime: new Date(0) }, fallbackDockerfile());
  p.entry({ name: "tesseract_api.py", mtime: new Date(0) }, FALLBACK_API);
  p.entry({ name: "ca/egress.crt", mtime: new Date(0) }, caPem() || "\n");
  p.finalize();
  await docker.build(
    p as unknown as Readable,
    { tags: [FIXTURE_TAG], labels: FIXTURE_LABEL, networkMode: "host" },
    (l) => {
      if (process.env.PT_VERBOSE) process.stderr.write(`[fixture] ${l}\n`);
    },
  );
}

/**
 * Returns the fixture tag on `docker`, building it once if missing. Set PT_FIXTURE_FALLBACK=1 to
 * skip the package builder.
 */
export async function ensureHelloImage(docker = DockerClient.for()): Promise<string> {
  if (await docker.inspectImage(FIXTURE_TAG)) return FIXTURE_TAG;
  if (process.env.PT_FIXTURE_FALLBACK !== "1") {
    try {
      const impl = require("../../provider/resources/tesseract-image-impl") as {
        buildTesseractImage?: (src: string, o: Record<string, unknown>) => Promise<{ imageName: string }>;
      };
      if (impl.buildTesseractImage) {
        await impl.buildTesseractImage(join(ROOT, "examples", "tesseracts", "hello"), {
          tag: FIXTURE_TAG.split(":")[1],
          labels: FIXTURE_LABEL,
          caCertificates: caPem() || undefined,
          buildNetwork: "host",
          onLine: (l: string) => process.env.PT_VERBOSE && process.stderr.write(`[fixture] ${l}\n`),
        });
        if (await docker.inspectImage(FIXTURE_TAG)) return FIXTURE_TAG;
      }
    } catch (err) {
      process.stderr.write(
        `[fixture] package builder failed, using the test Dockerfile: ${(err as Error).message.slice(0, 400)}\n`,
      );
    }
  }
  await buildFallback(docker);
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
