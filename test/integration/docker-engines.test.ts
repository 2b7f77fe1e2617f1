/**
 * Engine discovery against real engines, no mocks: a second private dockerd (unix socket plus a
 * tcp listener with TLS certificates made here by openssl), Docker CLI contexts written by the real
 * `docker context create` in a temporary DOCKER_CONFIG, an `ssh://` host through a private OpenSSH
 * server on 127.0.0.1, and the local-socket order inside private mount namespaces (so the shared
 * /var/run/docker.sock can be hidden without touching it). The engine's `/info` DockerRootDir proves which
 * daemon answered.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pack } from "tar-stream";
import {
  DockerClient,
  DockerNotFoundError,
  DockerUnreachableError,
  dockerConnectionSchema,
} from "../../provider/docker";
import { DISCOVERY_ENV, probeWithHiddenSockets } from "../helpers/discovery-probe";
import { PrivateDockerd } from "../helpers/private-dockerd";
import { freePort, PrivateSshd } from "../helpers/private-sshd";
import { makeTlsFiles, type TlsFiles } from "../helpers/tls-certs";

const run = `engines-${process.pid}`;
const ENV_KEYS = [...DISCOVERY_ENV, "PATH"];

let dockerd: PrivateDockerd;
let tls: TlsFiles;
let tcpPort: number;
let configDir: string;
let privateId: string;
let sharedId: string;
const temps: string[] = [];

/** Runs fn with the DOCKER_* variables cleared, then `vars` set; restores everything after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) if (k !== "PATH") delete process.env[k];
  // An empty config folder: the developer's own ~/.docker must not steer these tests.
  process.env.DOCKER_CONFIG = path.join(configDir, "empty");
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The data root (identity) of the engine a fresh client reaches, with where its address came from. */
async function whoAnswers(
  conn?: Parameters<typeof DockerClient.for>[0],
): Promise<{ id: string; client: DockerClient }> {
  const client = new DockerClient(conn);
  try {
    const info = await client.json<{ DockerRootDir: string }>("GET", "/info");
    return { id: info.DockerRootDir, client };
  } finally {
    await client.close();
  }
}

/** The real Docker CLI with a given environment (cross-checks what it reads against what we read). */
function cli(env: Record<string, string>, ...args: string[]): string {
  return execFileSync("docker", args, {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

before(async () => {
  configDir = mkdtempSync("/tmp/ptf-dockercfg-");
  temps.push(configDir);
  mkdirSync(path.join(configDir, "empty"));
  tls = makeTlsFiles();
  temps.push(tls.dir);
  tcpPort = await freePort();
  dockerd = await PrivateDockerd.start({
    name: `eng${process.pid % 10000}`,
    extraArgs: [
      "-H",
      `tcp://127.0.0.1:${tcpPort}`,
      "--tlsverify",
      `--tlscacert=${tls.ca}`,
      `--tlscert=${tls.serverCert}`,
      `--tlskey=${tls.serverKey}`,
    ],
  });
  privateId = (await dockerd.client.json<{ DockerRootDir: string }>("GET", "/info")).DockerRootDir;
  const shared = new DockerClient({ host: "unix:///var/run/docker.sock" });
  sharedId = (await shared.json<{ DockerRootDir: string }>("GET", "/info")).DockerRootDir;
  await shared.close();
  assert.notEqual(privateId, sharedId);
});

after(async () => {
  await dockerd?.dispose();
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe("DOCKER_HOST", () => {
  test("unix:// names the engine, and beats a context", async () => {
    const ctxDir = path.join(configDir, "unix-beats");
    cli({ DOCKER_CONFIG: ctxDir }, "context", "create", "shared", "--docker", "host=unix:///var/run/docker.sock");
    cli({ DOCKER_CONFIG: ctxDir }, "context", "use", "shared");
    await withEnv({ DOCKER_HOST: dockerd.host, DOCKER_CONFIG: ctxDir, DOCKER_CONTEXT: "shared" }, async () => {
      const { id, client } = await whoAnswers();
      assert.equal(id, privateId);
      assert.equal(client.source, "DOCKER_HOST");
    });
  });

  test("tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) reaches a TLS dockerd", async () => {
    const env = { DOCKER_HOST: `tcp://127.0.0.1:${tcpPort}`, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: tls.dir };
    await withEnv(env, async () => {
      const { id, client } = await whoAnswers();
      assert.equal(id, privateId);
      assert.equal(client.host, `tcp://127.0.0.1:${tcpPort}`);
    });
    // The Docker CLI reads the same variables and reaches the same daemon.
    assert.equal(
      cli({ ...env, DOCKER_CONFIG: path.join(configDir, "empty") }, "info", "--format", "{{.DockerRootDir}}"),
      privateId,
    );
  });

  test("tcp:// TLS failures are readable and name the address (no client cert; unknown CA; plain http)", async () => {
    const noClientCert = mkdtempSync("/tmp/ptf-tls-ca-only-");
    temps.push(noClientCert);
    execFileSync("cp", [tls.ca, path.join(noClientCert, "ca.pem")]);
    const other = makeTlsFiles();
    temps.push(other.dir);
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        "no client certificate",
        { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: noClientCert },
        /certificate|handshake|socket|closed|reset/i,
      ],
      ["another CA", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: other.dir }, /certificate|verify|self.signed/i],
      ["no TLS at all", {}, /socket|closed|reset|HTTP|400|parse/i],
    ];
    for (const [what, vars, why] of cases) {
      await withEnv({ DOCKER_HOST: `tcp://127.0.0.1:${tcpPort}`, ...vars }, async () => {
        const client = new DockerClient();
        const err = await client.version().then(
          () => undefined,
          (e: Error) => e,
        );
        await client.close();
        assert.ok(err, `${what}: expected a failure`);
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${tcpPort}`), `${what}: ${err.message}`);
        assert.match(err.message, why, `${what}: ${err.message}`);
        assert.doesNotMatch(err.message, /PRIVATE KEY|BEGIN/, "no key material in errors");
        if (process.env.PT_SHOW_ERRORS) console.log(`${what}: ${err.message}`);
      });
    }
  });
});

describe("the docker input", () => {
  test("host + caPem/certPem/keyPem reaches the TLS dockerd; a wrong key fails without echoing it", async () => {
    await withEnv({}, async () => {
      const conn = {
        host: `tcp://127.0.0.1:${tcpPort}`,
        caPem: tls.read("ca"),
        certPem: tls.read("cert"),
        keyPem: tls.read("key"),
      };
      assert.equal(dockerConnectionSchema.safeParse(conn).success, true);
      const { id, client } = await whoAnswers(conn);
      assert.equal(id, privateId);
      assert.equal(client.source, "the docker.host input");
      const other = makeTlsFiles();
      temps.push(other.dir);
      const bad = new DockerClient({ ...conn, certPem: other.read("cert"), keyPem: other.read("key") });
      const err = await bad.version().then(
        () => undefined,
        (e: Error) => e,
      );
      await bad.close();
      assert.ok(err instanceof DockerUnreachableError, String(err));
      assert.doesNotMatch(err.message, /BEGIN|PRIVATE KEY/);
    });
  });
});

describe("contexts", () => {
  let ctxDir: string;
  before(() => {
    ctxDir = path.join(configDir, "contexts-made-by-cli");
    // Made by the real CLI, so these tests read exactly what `docker context create` writes.
    cli({ DOCKER_CONFIG: ctxDir }, "context", "create", "second", "--docker", `host=${dockerd.host}`);
    cli(
      { DOCKER_CONFIG: ctxDir },
      "context",
      "create",
      "second-tls",
      "--docker",
      `host=tcp://127.0.0.1:${tcpPort},ca=${tls.ca},cert=${tls.cert},key=${tls.key}`,
    );
    cli({ DOCKER_CONFIG: ctxDir }, "context", "create", "shared", "--docker", "host=unix:///var/run/docker.sock");
  });

  test("currentContext of $DOCKER_CONFIG/config.json", async () => {
    cli({ DOCKER_CONFIG: ctxDir }, "context", "use", "second");
    await withEnv({ DOCKER_CONFIG: ctxDir }, async () => {
      const { id, client } = await whoAnswers();
      assert.equal(id, privateId);
      assert.match(client.source ?? "", /context "second" \(currentContext of .*config\.json\)/);
    });
    assert.equal(cli({ DOCKER_CONFIG: ctxDir }, "info", "--format", "{{.DockerRootDir}}"), privateId);
    cli({ DOCKER_CONFIG: ctxDir }, "context", "use", "default");
  });

  test("DOCKER_CONTEXT beats currentContext; a context's TLS material comes from contexts/tls/", async () => {
    cli({ DOCKER_CONFIG: ctxDir }, "context", "use", "shared");
    await withEnv({ DOCKER_CONFIG: ctxDir, DOCKER_CONTEXT: "second-tls" }, async () => {
      const { id, client } = await whoAnswers();
      assert.equal(id, privateId);
      assert.equal(client.host, `tcp://127.0.0.1:${tcpPort}`);
      assert.match(client.source ?? "", /context "second-tls" \(DOCKER_CONTEXT\)/);
    });
    await withEnv({ DOCKER_CONFIG: ctxDir, DOCKER_CONTEXT: "default" }, async () => {
      assert.equal((await whoAnswers()).id, sharedId, "`default` is the built-in context: the local socket");
    });
    cli({ DOCKER_CONFIG: ctxDir }, "context", "use", "default");
  });

  test("the docker input may name a context, and wins over DOCKER_HOST", async () => {
    await withEnv({ DOCKER_CONFIG: ctxDir, DOCKER_HOST: "unix:///var/run/docker.sock" }, async () => {
      assert.equal(dockerConnectionSchema.safeParse({ context: "second-tls" }).success, true);
      const { id, client } = await whoAnswers({ context: "second-tls" });
      assert.equal(id, privateId);
      assert.match(client.source ?? "", /the docker.context input/);
      // A missing context fails at check (preview), naming the fix.
      const bad = dockerConnectionSchema.safeParse({ context: "nope" });
      assert.equal(bad.success, false);
      assert.match(bad.error?.issues[0].message ?? "", /no Docker context named "nope".*docker context ls/);
      // And at run time, should the context vanish after check.
      const err = await new DockerClient({ context: "nope" }).version().then(
        () => undefined,
        (e: Error) => e,
      );
      assert.match(String(err?.message), /Docker context "nope": .*meta\.json not found/);
    });
  });
});

describe("ssh://", () => {
  let sshd: PrivateSshd;
  before(async () => {
    sshd = await PrivateSshd.start();
  });
  after(async () => {
    await sshd?.dispose();
  });

  /** ssh children of this test's config that are still running. */
  function sshChildren(): number {
    const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
    return ps.split("\n").filter((l) => l.startsWith("ssh ") && l.includes(sshd.dir)).length;
  }

  test("DOCKER_HOST=ssh://user@127.0.0.1:port runs `ssh … docker system dial-stdio` (the user's ssh config applies)", async () => {
    // The CLI runs plain `ssh`, which reads ~/.ssh/config; the test's config arrives through an
    // `ssh` wrapper first on PATH instead of touching ~/.ssh.
    await withEnv({ DOCKER_HOST: sshd.url, PATH: `${sshd.binDir}:${process.env.PATH}` }, async () => {
      const { id, client } = await whoAnswers();
      assert.equal(id, sharedId, "the remote side's default engine");
      assert.equal(client.host, sshd.url);
      assert.equal(
        cli(
          { DOCKER_HOST: sshd.url, DOCKER_CONFIG: path.join(configDir, "empty") },
          "info",
          "--format",
          "{{.DockerRootDir}}",
        ),
        sharedId,
        "the Docker CLI takes the same path",
      );
    });
  });

  test("a socket path in the URL and sshOptions: containers run over ssh, one ssh child per connection, all gone on close", async () => {
    const url = `${sshd.url}${dockerd.host.slice("unix://".length)}`;
    const conn = { host: url, sshOptions: ["-F", sshd.configFile] };
    assert.equal(dockerConnectionSchema.safeParse(conn).success, true);
    const client = new DockerClient(conn);
    try {
      assert.equal((await client.json<{ DockerRootDir: string }>("GET", "/info")).DockerRootDir, privateId);
      // Several calls at once open several pooled connections, each its own ssh child.
      await Promise.all([1, 2, 3].map(() => client.listImages()));
      assert.ok(sshChildren() >= 2, `expected several ssh children, saw ${sshChildren()}`);
      const cid = await client.createContainer(`${run}-ssh`, {
        Image: "debian:bookworm-slim",
        Cmd: ["sh", "-c", "echo via-ssh"],
        Labels: { "pulumi-tesseract.test": run },
      });
      await client.startContainer(cid);
      const deadline = Date.now() + 20_000;
      while ((await client.inspectContainer(cid))?.State.Running && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      assert.match(await client.containerLogs(cid), /via-ssh/);
      assert.equal(await client.removeContainer(cid), true);
      // A build streams its tar context through ssh's stdin (8 MiB here) and its log back.
      const ctx = pack();
      ctx.entry({ name: "Dockerfile" }, "FROM debian:bookworm-slim\nCOPY blob /blob\nRUN wc -c /blob\n");
      ctx.entry({ name: "blob" }, randomBytes(8 << 20));
      ctx.finalize();
      const lines: string[] = [];
      const tag = `pulumi-tesseract-test/ssh-build:${run}`;
      const imageId = await client.build(
        ctx as unknown as Readable,
        { tags: [tag], labels: { "pulumi-tesseract.test": run } },
        (l) => lines.push(l),
      );
      assert.match(imageId, /^sha256:/);
      assert.ok(
        lines.some((l) => l.includes("8388608 /blob")),
        lines.join("\n"),
      );
      assert.equal(await client.removeImage(tag, { force: true }), true);
    } finally {
      await client.close();
    }
    const deadline = Date.now() + 5_000;
    while (sshChildren() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(sshChildren(), 0, "no ssh child outlives the client");
  });

  test("ssh failures say what ssh said; a password in the URL fails at check", async () => {
    const client = new DockerClient({
      host: `ssh://nobody@127.0.0.1:${sshd.port}`,
      sshOptions: ["-F", sshd.configFile],
    });
    const err = await client.version().then(
      () => undefined,
      (e: Error) => e,
    );
    await client.close();
    assert.ok(err instanceof DockerUnreachableError, String(err));
    assert.match(err.message, /ssh:\/\/nobody@127\.0\.0\.1:\d+ .*Permission denied \(publickey\)/);
    const bad = dockerConnectionSchema.safeParse({ host: "ssh://me:secret@box" });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /password/);
    assert.equal(dockerConnectionSchema.safeParse({ host: "ssh://me@box", caPem: "-----BEGIN X" }).success, false);
  });
});

describe("local sockets (in private mount namespaces; the shared socket is hidden, not touched)", () => {
  let stale: string;
  before(() => {
    const dir = mkdtempSync("/tmp/ptf-ns-");
    temps.push(dir);
    stale = path.join(dir, "stale.sock");
    // A socket file nobody listens on: what a stopped daemon leaves behind.
    execFileSync("python3", ["-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
  });

  const probeHidden = (env: Record<string, string>) =>
    probeWithHiddenSockets(stale, { DOCKER_CONFIG: path.join(configDir, "empty"), ...env });

  test("the default socket comes first when it answers", async () => {
    await withEnv({}, async () => {
      const { id, client } = await whoAnswers();
      assert.equal(id, sharedId);
      assert.equal(client.host, "unix:///var/run/docker.sock");
    });
  });

  test("then the rootless socket $XDG_RUNTIME_DIR/docker.sock", () => {
    const out = probeHidden({ XDG_RUNTIME_DIR: dockerd.dir });
    assert.equal(out.id, privateId, JSON.stringify(out));
    assert.equal(out.host, `unix://${dockerd.dir}/docker.sock`);
    assert.match(out.source ?? "", /rootless Docker/);
  });

  test("then Podman's $XDG_RUNTIME_DIR/podman/podman.sock", () => {
    const xdg = mkdtempSync("/tmp/ptf-xdg-");
    temps.push(xdg);
    mkdirSync(path.join(xdg, "podman"));
    // Any engine's socket does to prove the order; test/integration/podman-engine.test.ts runs Podman.
    symlinkSync(`${dockerd.dir}/docker.sock`, path.join(xdg, "podman", "podman.sock"));
    const out = probeHidden({ XDG_RUNTIME_DIR: xdg });
    assert.equal(out.id, privateId, JSON.stringify(out));
    assert.match(out.source ?? "", /rootless Podman/);
  });

  test("nothing answers: the error lists every place tried, and why", () => {
    const xdg = mkdtempSync("/tmp/ptf-xdg-");
    temps.push(xdg);
    const out = probeHidden({ XDG_RUNTIME_DIR: xdg });
    assert.equal(out.name, new DockerNotFoundError([], []).name, JSON.stringify(out));
    const msg = out.error ?? "";
    assert.match(msg, /Not set: the docker input, DOCKER_HOST, DOCKER_CONTEXT, currentContext in .*config\.json/);
    assert.match(msg, /unix:\/\/\/var\/run\/docker\.sock \(default Docker socket\): connection refused/);
    assert.match(
      msg,
      new RegExp(`unix://${xdg}/docker\\.sock \\(rootless Docker \\(\\$XDG_RUNTIME_DIR\\)\\): no such file`),
    );
    assert.match(msg, new RegExp(`unix://${xdg}/podman/podman\\.sock \\(rootless Podman .*\\): no such file`));
    assert.match(msg, /unix:\/\/\/run\/podman\/podman\.sock \(rootful Podman\): (no such file|connection refused)/);
    assert.match(msg, /Fix: start dockerd/);
  });
});
