import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { buildTesseractImage } from "../../provider/build";
import { hostCaCertificates } from "../../provider/build-context/host-ca";
import type { DockerClient } from "../../provider/docker";

export { hostCaCertificates };

/** Build options every test build needs on this machine: the proxy CA and host networking. */
export function hostBuildOptions(runId: string) {
  return {
    caCertificates: hostCaCertificates(),
    buildNetwork: "host",
    labels: { "pulumi-tesseract.test": runId },
  };
}

export const EXAMPLES = path.join(__dirname, "../../examples/tesseracts");

/** Copies examples/tesseracts/hello to `src` and builds it as `tag` (labelled with the run), quietly. */
export async function buildHelloCopy(src: string, tag: string, runId: string) {
  cpSync(path.join(EXAMPLES, "hello"), src, { recursive: true });
  return buildTesseractImage(src, { tag, ...hostBuildOptions(runId), onLine: () => undefined });
}

/** Removes every image and container labelled with this test run (and only those). */
export async function cleanupRun(docker: DockerClient, runId: string): Promise<void> {
  await removeRunContainers(docker, runId);
  for (const img of await docker.listImages({ label: [`pulumi-tesseract.test=${runId}`] })) {
    for (const t of img.RepoTags ?? []) if (t !== "<none>:<none>") await docker.removeImage(t).catch(() => undefined);
    await docker.removeImage(img.Id, { force: true }).catch(() => undefined);
  }
}

/** Removes the containers a test run labelled `pulumi-tesseract.test=<runId>` (images stay). */
export async function removeRunContainers(docker: DockerClient, runId: string): Promise<void> {
  for (const c of await docker.listContainers({ label: [`pulumi-tesseract.test=${runId}`] }))
    await docker.removeContainer(c.Id);
}

/**
 * Runs one command in a container of `image` (labelled with the test run, removed right after):
 * its exit code and output. For looking inside a built image.
 */
export async function runProbe(
  docker: DockerClient,
  runId: string,
  image: string,
  entrypoint: string[],
  cmd: string[],
): Promise<{ code: number; logs: string }> {
  const id = await docker.createContainer(`probe-${runId}-${Date.now()}`, {
    Image: image,
    Entrypoint: entrypoint,
    Cmd: cmd,
    Labels: { "pulumi-tesseract.test": runId },
    AttachStdout: true,
    AttachStderr: true,
  });
  try {
    await docker.startContainer(id);
    const code = await docker.waitContainer(id);
    return { code, logs: await docker.containerLogs(id) };
  } finally {
    await docker.removeContainer(id);
  }
}

const exec = promisify(execFile);

/** Every regular file below `dir`. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * Asserts that none of `secrets` is in the image's `docker history --no-trunc`, its
 * `docker image inspect`, or any file of its `docker save` (unpacked into a new folder in `dir`,
 * layers included), and none of `inFiles` in those files. Returns the history, for the caller's own checks.
 */
export async function assertNotInImage(
  imageId: string,
  dir: string,
  secrets: string[],
  inFiles: string[] = secrets,
): Promise<string> {
  const history = (await exec("docker", ["history", "--no-trunc", imageId])).stdout;
  for (const s of secrets) assert.ok(!history.includes(s), `docker history holds ${s.slice(0, 4)}...`);
  const inspect = (await exec("docker", ["image", "inspect", imageId])).stdout;
  for (const s of secrets) assert.ok(!inspect.includes(s), `docker image inspect holds ${s.slice(0, 4)}...`);
  const saved = mkdtempSync(path.join(dir, "saved-"));
  await exec("docker", ["save", "-o", path.join(saved, "image.tar"), imageId], { maxBuffer: 1 << 20 });
  await exec("tar", ["-xf", path.join(saved, "image.tar"), "-C", saved]);
  const layers = filesBelow(saved).filter((f) => f.endsWith("layer.tar"));
  assert.ok(layers.length >= 5, `docker save gave ${layers.length} layers`);
  for (const f of filesBelow(saved)) {
    if (statSync(f).size === 0) continue;
    const bytes = readFileSync(f);
    for (const s of inFiles) assert.equal(bytes.indexOf(s), -1, `${path.relative(saved, f)} holds ${s.slice(0, 4)}...`);
  }
  rmSync(saved, { recursive: true, force: true });
  return history;
}
