/**
 * The BuildKit build path on the real engine (Debian docker.io 20.10: `POST /build?version=2` and a
 * `/session` serving the build's secrets):
 * - a Tesseract whose requirement comes only from a private index behind basic auth (127.0.0.1,
 *   `--extra-index-url` in its requirements file), with `build_config.host_credentials` and
 *   `secrets`, builds (its `tesseract-runtime check` included), the package is in the image, and
 *   neither the password nor the netrc is in `docker history --no-trunc`, `docker image inspect`
 *   or any file of `docker save`;
 * - a wrong secret fails with the failing step named and the pip log, without the secret;
 * - a secret id the credentials name but `secrets` lacks fails before the engine sees anything;
 * - injectSsh: a `git+ssh://` requirement on a private sshd clones with an ssh-agent's key (no key
 *   in the image); without SSH_AUTH_SOCK the build fails on injectSsh;
 * - the session over the client's other transports: ssh:// (dial-stdio) and tcp+TLS.
 * Cleanup: the run's images, the runtime hold, the BuildKit build cache (`POST /build/prune`).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { buildTesseractImage, prepareBuild } from "../../provider/build";
import { ensureRuntimeImage, holdRuntime, releaseRuntimeHold } from "../../provider/build/runtime-image";
import { Progress } from "../../provider/common/log";
import { DockerClient } from "../../provider/docker";
import { PrivateDockerd } from "../helpers/private-dockerd";
import { startPrivateIndex } from "../helpers/private-index";
import { freePort, PrivateSshd } from "../helpers/private-sshd";
import { assertNotInImage, cleanupRun, EXAMPLES, hostBuildOptions, runProbe } from "../helpers/tesseract-image";
import { makeTlsFiles } from "../helpers/tls-certs";

const _exec = promisify(execFile);
const RUN_ID = `buildkit-${process.pid}-${Date.now()}`;
const TOKEN = `ptBk${Math.random().toString(36).slice(2, 12)}`;
const WRONG = `ptWrong${Math.random().toString(36).slice(2, 12)}`;
const RUNTIME_HOLDER = `pulumi-tesseract-runtime-holder/buildkit-test:${process.pid}`;
const docker = DockerClient.for();
const tmp = mkdtempSync(path.join(tmpdir(), "pt-buildkit-"));
process.env.PULUMI_TESSERACT_QUIET = "1";

before(async () => {
  // the runtime base image, held for the file: outside a stack a BuildKit build keeps no build
  // stage image, so without a hold each build would remove the runtime and the next install it again
  const prepared = prepareBuild({ srcDir: path.join(EXAMPLES, "hello"), ...hostBuildOptions(RUN_ID) });
  assert.ok(prepared.runtime);
  const id = await ensureRuntimeImage(docker, prepared.runtime, {
    networkMode: "host",
    onLine: () => undefined,
    progress: new Progress("runtime", [], () => undefined),
  });
  await holdRuntime(docker, id, RUNTIME_HOLDER);
});

after(async () => {
  await cleanupRun(docker, RUN_ID);
  await releaseRuntimeHold(docker, RUNTIME_HOLDER).catch(() => undefined);
  // BuildKit's cache records (layers, the pip cache mount): the suite's other builds use the
  // classic builder, which keeps none there, so what is unused is this file's
  await docker.pruneBuildCache(undefined, true).catch(() => undefined);
  await docker.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A copy of hello whose one requirement is on the private index, with a host credential for it. */
function privateHello(name: string, port: number): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(EXAMPLES, "hello"), dir, { recursive: true });
  writeFileSync(
    path.join(dir, "tesseract_requirements.txt"),
    `--extra-index-url http://127.0.0.1:${port}/simple/\npt-bk-private==1.0\n`,
  );
  writeFileSync(
    path.join(dir, "tesseract_config.yaml"),
    [
      "name: pt-buildkit",
      'version: "0.1.0"',
      "build_config:",
      "  host_credentials:",
      "    - host: 127.0.0.1",
      "      secret_id: private_index",
      "      username: pt-user",
      "",
    ].join("\n"),
  );
  return dir;
}

describe("BuildKit build path on the real engine", { concurrency: false, timeout: 900_000 }, () => {
  it("host_credentials + secrets: builds from the private index, and the credential is in no layer or history entry", async () => {
    const index = await startPrivateIndex("pt-user", TOKEN, { "pt-bk-private": "1.0" });
    try {
      const dir = privateHello("private", index.port);
      const lines: string[] = [];
      const built = await buildTesseractImage(dir, {
        ...hostBuildOptions(RUN_ID),
        tag: RUN_ID,
        secrets: { private_index: TOKEN },
        onLine: (l) => lines.push(l),
      });
      const log = lines.join("\n");
      assert.match(log, /RUN --mount=type=cache,target=\/root\/\.cache\/pip/, "the BuildKit Dockerfile's install step");
      assert.match(log, /tesseract-runtime check/);
      assert.ok(!log.includes(TOKEN), "the build log holds the secret");
      assert.equal(built.buildStageImageId, undefined, "BuildKit keeps no build stage image");
      const seen = index.requests();
      assert.ok(
        seen.some((l) => /^AUTH \/packages\/pt_bk_private-1\.0/.test(l)),
        seen.join("\n"),
      );

      // the RUN line itself says `printf 'machine %s login %s password %s'`: only ids and the host
      const secrets = [TOKEN, "machine 127.0.0.1"];
      const history = await assertNotInImage(built.imageId, tmp, secrets, [
        ...secrets,
        "pulumi-tesseract-netrc/netrc\u0000",
      ]);
      assert.match(history, /tesseract-runtime check/, "the history is the one of our build");

      // the private package is in the image; no netrc anywhere in it
      const probe = await runProbe(
        docker,
        RUN_ID,
        built.imageName,
        ["/bin/sh", "-c"],
        [
          "/python-env/bin/python -c 'import pt_bk_private; print(pt_bk_private.__name__)' && ! ls /run/pulumi-tesseract-netrc/netrc 2>/dev/null && ! find / -xdev -name netrc -o -name .netrc 2>/dev/null | grep .",
        ],
      );
      assert.equal(probe.code, 0, probe.logs);
      assert.match(probe.logs, /^pt_bk_private$/m);
    } finally {
      await index.stop();
    }
  });

  it("a wrong secret fails naming the step, with pip's log, never the secret", async () => {
    const index = await startPrivateIndex("pt-user", TOKEN, { "pt-bk-private": "1.0" });
    try {
      const dir = privateHello("wrong", index.port);
      // another requirement line: the cached install of the first test is not reused
      writeFileSync(
        path.join(dir, "tesseract_requirements.txt"),
        `--extra-index-url http://127.0.0.1:${index.port}/simple/\npt-bk-private==1.0 # wrong\npt-bk-private\n`,
      );
      await assert.rejects(
        buildTesseractImage(dir, {
          ...hostBuildOptions(RUN_ID),
          tag: `${RUN_ID}-wrong`,
          secrets: { private_index: WRONG },
          onLine: () => undefined,
        }),
        (err: Error & { property?: string }) => {
          assert.match(err.message, /failed/);
          assert.match(err.message, /at \[build_stage \d+\/\d+\] RUN --mount=type=cache/, err.message);
          assert.match(err.message, /401|pt-bk-private/, "pip's log tail");
          assert.match(
            err.message,
            /fix: check the requirements, the package index, and that secrets holds the right password/,
          );
          assert.ok(!err.message.includes(WRONG), "the message holds the secret");
          assert.ok(!err.message.includes(TOKEN));
          assert.equal(err.property, "srcDir");
          return true;
        },
      );
      assert.ok(!index.requests().some((l) => l.startsWith("AUTH ")), "the wrong password was refused");
    } finally {
      await index.stop();
    }
  });

  it("a secret id the credentials name but secrets lacks fails before any build", async () => {
    const dir = privateHello("missing", 9);
    await assert.rejects(
      buildTesseractImage(dir, {
        ...hostBuildOptions(RUN_ID),
        tag: `${RUN_ID}-missing`,
        secrets: { other: TOKEN },
        onLine: () => undefined,
      }),
      (err: Error & { property?: string }) => {
        assert.equal(err.property, "secrets");
        assert.match(err.message, /secret id private_index, which secrets does not hold/);
        assert.ok(!err.message.includes(TOKEN));
        return true;
      },
    );
    const images = await docker.listImages({ label: [`pulumi-tesseract.test=${RUN_ID}`] });
    assert.ok(!images.some((i) => (i.RepoTags ?? []).some((t) => t.endsWith("-missing"))), "no image was built");
  });
});

describe("injectSsh: the SSH agent forwarded into the install step", { timeout: 600_000 }, () => {
  it("a git+ssh:// requirement clones with the agent's key (the key is in no layer); without an agent: a clear error", async () => {
    const sshd = await PrivateSshd.start();
    const agentDir = mkdtempSync(path.join(tmpdir(), "pt-agent-"));
    const agentSock = path.join(agentDir, "agent.sock");
    const agentOut = execFileSync("ssh-agent", ["-a", agentSock], { encoding: "utf8" });
    const agentPid = /SSH_AGENT_PID=(\d+)/.exec(agentOut)?.[1];
    const savedSock = process.env.SSH_AUTH_SOCK;
    try {
      execFileSync("ssh-add", [path.join(sshd.dir, "client_key")], {
        env: { ...process.env, SSH_AUTH_SOCK: agentSock },
        stdio: "ignore",
      });
      // a package in a git repository reached only over ssh, with the agent's key
      const repo = path.join(tmp, "ssh-repo");
      mkdirSync(path.join(repo, "pt_ssh_pkg"), { recursive: true });
      writeFileSync(path.join(repo, "pt_ssh_pkg", "__init__.py"), "VALUE = 'over ssh'\n");
      writeFileSync(
        path.join(repo, "pyproject.toml"),
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "pt-ssh-pkg"\nversion = "1.0"\n',
      );
      const git = (...args: string[]) =>
        execFileSync("git", ["-C", repo, "-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
          stdio: "ignore",
        });
      git("init", "-q");
      git("add", "-A");
      git("commit", "-qm", "init");

      const dir = path.join(tmp, "ssh");
      cpSync(path.join(EXAMPLES, "hello"), dir, { recursive: true });
      writeFileSync(
        path.join(dir, "tesseract_requirements.txt"),
        `pt-ssh-pkg @ git+ssh://root@127.0.0.1:${sshd.port}${repo}\n`,
      );
      const options = { ...hostBuildOptions(RUN_ID), tag: `${RUN_ID}-ssh`, injectSsh: true, onLine: () => undefined };

      delete process.env.SSH_AUTH_SOCK;
      await assert.rejects(buildTesseractImage(dir, options), (err: Error & { property?: string }) => {
        assert.equal(err.property, "injectSsh");
        assert.match(err.message, /SSH_AUTH_SOCK is not set/);
        return true;
      });

      process.env.SSH_AUTH_SOCK = agentSock;
      const built = await buildTesseractImage(dir, options);
      const probe = await runProbe(
        docker,
        RUN_ID,
        built.imageName,
        ["/bin/sh", "-c"],
        ["/python-env/bin/python -c 'import pt_ssh_pkg; print(pt_ssh_pkg.VALUE)'"],
      );
      assert.equal(probe.code, 0, probe.logs);
      assert.match(probe.logs, /^over ssh$/m);
      const key = readFileSync(path.join(sshd.dir, "client_key"), "utf8").split("\n")[1];
      await assertNotInImage(built.imageId, tmp, [key]);
    } finally {
      if (savedSock === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = savedSock;
      if (agentPid) process.kill(Number(agentPid));
      rmSync(agentDir, { recursive: true, force: true });
      await sshd.dispose();
    }
  });
});

/** A one-file tar (ustar) holding `Dockerfile`. */
function dockerfileTar(text: string): Readable {
  const body = Buffer.from(text);
  const header = Buffer.alloc(512);
  header.write("Dockerfile", 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
  );
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Readable.from([Buffer.concat([header, body, pad, Buffer.alloc(1024)])]);
}

/**
 * A BuildKit build whose one RUN checks the secret it mounts against its sha256 (so the build
 * fails unless the session served exactly that value): the session over `client`'s transport.
 */
async function secretBuild(client: DockerClient, tag: string): Promise<string> {
  const value = `ptTr${Math.random().toString(36).slice(2, 12)}`;
  const sha = createHash("sha256").update(value).digest("hex");
  return client.build(
    dockerfileTar(
      `FROM debian:bookworm-slim\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | grep -q ${sha}\n`,
    ),
    { tags: [tag], labels: { "pulumi-tesseract.test": RUN_ID }, noCache: true, buildKit: { secrets: { tok: value } } },
    () => undefined,
  );
}

describe("the BuildKit session over the client's other transports", { concurrency: false, timeout: 300_000 }, () => {
  it("ssh:// (docker system dial-stdio through a private sshd to this engine)", async () => {
    const sshd = await PrivateSshd.start();
    const client = new DockerClient({
      host: `${sshd.url}/var/run/docker.sock`,
      sshOptions: ["-F", sshd.configFile],
    });
    try {
      const id = await secretBuild(client, `pt-bk-ssh:${process.pid}`);
      assert.match(id, /^sha256:/);
      await client.removeImage(`pt-bk-ssh:${process.pid}`);
    } finally {
      await client.close();
      await sshd.dispose();
    }
  });

  it("tcp:// with TLS (a private dockerd with a --tlsverify listener)", async () => {
    const tls = makeTlsFiles();
    const port = await freePort();
    const dockerd = await PrivateDockerd.start({
      name: `bk${process.pid % 10000}`,
      extraArgs: [
        "-H",
        `tcp://127.0.0.1:${port}`,
        "--tlsverify",
        `--tlscacert=${tls.ca}`,
        `--tlscert=${tls.serverCert}`,
        `--tlskey=${tls.serverKey}`,
      ],
    });
    const client = new DockerClient({
      host: `tcp://127.0.0.1:${port}`,
      caPem: tls.read("ca"),
      certPem: tls.read("cert"),
      keyPem: tls.read("key"),
    });
    try {
      assert.match(await secretBuild(client, "pt-bk-tls:1"), /^sha256:/);
    } finally {
      await client.close();
      await dockerd.dispose();
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });
});
