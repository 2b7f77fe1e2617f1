/**
 * Hostile-input build rules on the real engine (Debian docker.io, classic builder):
 * - a private index behind basic auth (127.0.0.1) used by the requirements AND custom_build_steps:
 *   the build works, and the credential is in none of `docker history --no-trunc`,
 *   `docker image inspect`, or any layer of `docker save` (nor is a predefined proxy build arg's);
 * - no shared runtime base image with index credentials; a proxy build arg's credentials are not
 *   in the runtime base image's history or config;
 * - a link inside srcDir stays a link in the image; a link leaving srcDir is refused before the
 *   engine sees anything (no image).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { buildTesseractImage, prepareBuild } from "../../provider/build";
import { DockerClient } from "../../provider/docker";
import { startPrivateIndex } from "../helpers/private-index";
import { assertNotInImage, cleanupRun, EXAMPLES, hostBuildOptions, runProbe } from "../helpers/tesseract-image";

const exec = promisify(execFile);
const RUN_ID = `hostile-${process.pid}-${Date.now()}`;
const TOKEN = `ptTok${Math.random().toString(36).slice(2, 12)}`;
const PROXY_TOKEN = `ptPx${Math.random().toString(36).slice(2, 12)}`;
const docker = DockerClient.for();
const tmp = mkdtempSync(path.join(tmpdir(), "pt-hostile-"));
process.env.PULUMI_TESSERACT_QUIET = "1";

after(async () => {
  await cleanupRun(docker, RUN_ID);
  await docker.close();
  rmSync(tmp, { recursive: true, force: true });
});

function helloCopy(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(EXAMPLES, "hello"), dir, { recursive: true });
  return dir;
}

describe("hostile build inputs on the real engine", { concurrency: false, timeout: 1_500_000 }, () => {
  it("index credentials used by custom_build_steps reach no part of the final image", async () => {
    const index = await startPrivateIndex("pt-user", TOKEN, { "pt-secret-req": "1.0", "pt-steps-pkg": "1.0" });
    try {
      const dir = helloCopy("secret-index");
      writeFileSync(path.join(dir, "tesseract_requirements.txt"), "pt-secret-req==1.0\n");
      writeFileSync(
        path.join(dir, "tesseract_config.yaml"),
        [
          "name: pt-hostile-index",
          'version: "0.1.0"',
          "build_config:",
          "  package_data: [[data, data]]",
          "  custom_build_steps:",
          '    - "RUN /python-env/bin/python -m pip install --no-cache-dir pt-steps-pkg==1.0"',
          "",
        ].join("\n"),
      );
      mkdirSync(path.join(dir, "data"));
      writeFileSync(path.join(dir, "data", "real.txt"), "inside\n");
      symlinkSync("real.txt", path.join(dir, "data", "alias.txt"));

      const built = await buildTesseractImage(dir, {
        ...hostBuildOptions(RUN_ID),
        tag: RUN_ID,
        pipExtraIndexUrls: [index.url],
        buildArgs: { FTP_PROXY: `http://px-user:${PROXY_TOKEN}@127.0.0.1:9/` },
        keepBuildCache: false,
        onLine: () => undefined,
      });
      // the custom step installed from the private index (through the proxy, which authenticated)
      const seen = index.requests();
      assert.ok(
        seen.some((l) => /^AUTH \/simple\/pt-steps-pkg\/?$/.test(l)),
        seen.join("\n"),
      );
      assert.ok(
        seen.some((l) => /^AUTH \/packages\/pt_steps_pkg-1\.0/.test(l)),
        seen.join("\n"),
      );
      assert.ok(
        seen.some((l) => /^AUTH \/packages\/pt_secret_req-1\.0/.test(l)),
        seen.join("\n"),
      );

      const secrets = [TOKEN, PROXY_TOKEN, "pt-user:", "px-user:"];
      const history = await assertNotInImage(built.imageId, tmp, secrets);
      assert.match(history, /pt-steps-pkg/, "the history is the one of our build");
      // what the classic builder recorded for the custom step: the loopback proxy, not the index
      assert.match(history, /PIP_EXTRA_INDEX_URL=http:\/\/127\.0\.0\.1:\d+\/simple\//);

      // the packages are there, and the link inside srcDir stayed a link
      const probe = await runProbe(
        docker,
        RUN_ID,
        built.imageName,
        ["/bin/sh", "-c"],
        [
          "/python-env/bin/python -c 'import pt_secret_req, pt_steps_pkg' && readlink /tesseract/data/alias.txt && cat /tesseract/data/alias.txt",
        ],
      );
      assert.equal(probe.code, 0, probe.logs);
      assert.match(probe.logs, /^real\.txt$/m);
      assert.match(probe.logs, /^inside$/m);
    } finally {
      await index.stop();
    }
  });

  it("the shared runtime base image: never with index credentials, and a proxy build arg's are not recorded", async () => {
    // an index URL with credentials: no runtime base image, the build stage installs the runtime
    const withCreds = prepareBuild({
      srcDir: helloCopy("runtime-creds"),
      pipExtraIndexUrls: [`http://pt-user:${TOKEN}@127.0.0.1:9/simple/`],
    });
    assert.equal(withCreds.runtime, undefined);
    assert.ok(!withCreds.context.entries.some((e) => e.name === "runtime.Dockerfile"));
    // without: the runtime is built (noCache: anew, so it gets the proxy arg) with FTP_PROXY carrying
    // credentials, which reaches its RUN steps undeclared and is not recorded
    const lines: string[] = [];
    const built = await buildTesseractImage(helloCopy("runtime-proxy"), {
      ...hostBuildOptions(RUN_ID),
      tag: `${RUN_ID}-rt`,
      noCache: true,
      buildArgs: { FTP_PROXY: `http://px-user:${PROXY_TOKEN}@127.0.0.1:9/` },
      onLine: (l) => lines.push(l),
    });
    try {
      const from = lines.findIndex((l) =>
        /^Step 1\/\d+ : FROM pulumi-tesseract-runtime:[0-9a-f]{16} AS build_stage/.test(l),
      );
      assert.ok(from > 0, "the runtime base image was built first, then the Tesseract from it");
      const runtimeId = lines
        .slice(0, from)
        .flatMap((l) => /^\s*---> ([0-9a-f]{12})\s*$/.exec(l)?.[1] ?? [])
        .pop();
      assert.ok(runtimeId);
      // outside a stack it is kept only as the untagged parent of the kept build stage
      const history = (await exec("docker", ["history", "--no-trunc", runtimeId])).stdout;
      assert.match(history, /tesseract-core\[runtime\]/, "the runtime image's history");
      for (const s of [PROXY_TOKEN, "px-user:"])
        assert.ok(!history.includes(s), `runtime history holds ${s.slice(0, 4)}...`);
      const inspect = (await exec("docker", ["image", "inspect", runtimeId])).stdout;
      for (const s of [PROXY_TOKEN, "px-user:"])
        assert.ok(!inspect.includes(s), `runtime inspect holds ${s.slice(0, 4)}...`);
    } finally {
      if (built.cacheTag) await docker.removeImage(built.cacheTag).catch(() => undefined);
    }
  });

  it("a link leaving srcDir is refused before the engine builds anything", async () => {
    const dir = helloCopy("outside-link");
    const outside = path.join(tmp, "outside-secret");
    mkdirSync(outside);
    writeFileSync(path.join(outside, "id_rsa"), `${TOKEN}\n`);
    symlinkSync(outside, path.join(dir, "ssh"));
    const tag = `${RUN_ID}-link`;
    await assert.rejects(
      buildTesseractImage(dir, { ...hostBuildOptions(RUN_ID), tag, onLine: () => undefined }),
      (err: Error) => {
        assert.match(err.message, /ssh is a symbolic link to .*outside-secret, outside the folder/);
        assert.match(err.message, /followLinksOutside/);
        return true;
      },
    );
    const images = await docker.listImages({ label: [`pulumi-tesseract.test=${RUN_ID}`] });
    assert.ok(!images.some((i) => (i.RepoTags ?? []).some((t) => t.endsWith(`:${tag}`))), "no image was built");
  });
});
