import { cpSync } from "node:fs";
import * as path from "node:path";
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
