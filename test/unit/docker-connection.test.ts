// Engine addresses without an engine: the `docker` input schema, the ssh command line (the Docker
// CLI's), context files and environment precedence. The real engines are in
// test/integration/docker-engines.test.ts and podman-engine.test.ts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { connectionKey, dockerConnectionSchema, resolveHost } from "../../provider/docker";
import { resolveExplicit } from "../../provider/docker/discovery";
import { parseSshUrl, sshArgs } from "../../provider/docker/ssh";
import { DISCOVERY_ENV } from "../helpers/discovery-probe";

const tmp = mkdtempSync("/tmp/ptf-conn-unit-");
after(() => rmSync(tmp, { recursive: true, force: true }));

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const keys = DISCOVERY_ENV;
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  for (const k of keys) delete process.env[k];
  process.env.DOCKER_CONFIG = path.join(tmp, "none");
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) process.env[k] = v;
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test("the docker input accepts unix, tcp and ssh hosts and names what is wrong otherwise", () => {
  for (const host of [
    "unix:///var/run/docker.sock",
    "tcp://127.0.0.1:2376",
    "tcp://build-box",
    "ssh://me@build-box",
    "ssh://me@build-box:2222",
    "ssh://build-box/run/user/1000/docker.sock",
  ])
    assert.equal(dockerConnectionSchema.safeParse({ host }).success, true, host);
  const cases: [unknown, RegExp][] = [
    [{ host: "http://x:1" }, /unix:\/\/\/path.*tcp:\/\/HOST:PORT or ssh:\/\/USER@HOST/],
    [{ host: "ssh://me:pw@box" }, /password/],
    [{ host: "ssh://me@box?x=1" }, /query|must be/],
    [{ host: "tcp://a:1", context: "x" }, /either `host` or `context`/],
    [{ context: "-bad" }, /context name/],
    [{ host: "unix:///s", caPem: "-----BEGIN CERTIFICATE-----" }, /only applies to tcp/],
    [{ host: "tcp://a:1", certPem: "-----BEGIN CERTIFICATE-----" }, /go together/],
    [{ host: "tcp://a:1", sshOptions: ["-i", "k"] }, /ssh:\/\/ host/],
  ];
  for (const [input, why] of cases) {
    const r = dockerConnectionSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    assert.match(r.error?.issues.map((i) => i.message).join("; ") ?? "", why, JSON.stringify(input));
  }
});

test("ssh:// becomes the Docker CLI's ssh command line, never an http URL", () => {
  assert.deepEqual(sshArgs("ssh://me@box:2222"), [
    "-o",
    "ConnectTimeout=30",
    "-T",
    "-l",
    "me",
    "-p",
    "2222",
    "--",
    "box",
    "docker",
    "system",
    "dial-stdio",
  ]);
  assert.deepEqual(sshArgs("ssh://box/var/run/other.sock", ["-o", "ConnectTimeout=5", "-T"]), [
    "-o",
    "ConnectTimeout=5",
    "-T",
    "--",
    "box",
    "docker",
    "--host=unix:///var/run/other.sock",
    "system",
    "dial-stdio",
  ]);
  assert.equal(parseSshUrl("ssh://me@[::1]:22").host, "::1");
  assert.throws(() => parseSshUrl("ssh://me:pw@box"), /plain-text password/);
  assert.throws(() => parseSshUrl("ssh://box#x"), /fragments/);
  withEnv({}, () => assert.equal(resolveHost({ host: "ssh://me@box" }), "ssh://me@box"));
  withEnv({ DOCKER_HOST: "ssh://me@box" }, () => assert.equal(resolveHost(undefined), "ssh://me@box"));
});

test("precedence: input, DOCKER_HOST, DOCKER_CONTEXT, currentContext; tcp gets the CLI's default ports", () => {
  const cfg = path.join(tmp, "cfg");
  const meta = (name: string, host: string) => {
    const dir = path.join(cfg, "contexts", "meta", createHash("sha256").update(name).digest("hex"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }));
  };
  meta("a", "tcp://10.0.0.1:2375");
  meta("b", "ssh://me@b-host");
  writeFileSync(path.join(cfg, "config.json"), JSON.stringify({ currentContext: "a" }));
  withEnv({ DOCKER_CONFIG: cfg }, () => {
    assert.equal(resolveExplicit(undefined)?.source, `context "a" (currentContext of ${cfg}/config.json)`);
    process.env.DOCKER_CONTEXT = "b";
    assert.equal(resolveExplicit(undefined)?.host, "ssh://me@b-host");
    process.env.DOCKER_HOST = "tcp://10.9.9.9";
    assert.equal(resolveExplicit(undefined)?.host, "tcp://10.9.9.9:2375");
    assert.equal(resolveExplicit({ context: "a" })?.host, "tcp://10.0.0.1:2375");
    assert.equal(resolveExplicit({ context: "default" })?.source, "DOCKER_HOST");
    delete process.env.DOCKER_HOST;
    assert.equal(resolveExplicit({ context: "default" }), undefined, "default = the local sockets");
    assert.throws(
      () => resolveExplicit({ context: "zzz" }),
      /Docker context "zzz": .*meta\.json not found.*docker context ls/,
    );
  });
  withEnv(
    { DOCKER_HOST: "tcp://10.9.9.9", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: path.join(tmp, "no-certs") },
    () => {
      const ep = resolveExplicit(undefined);
      assert.equal(ep?.host, "tcp://10.9.9.9:2376");
      assert.deepEqual(ep?.tls, { ca: undefined, cert: undefined, key: undefined, verify: true });
    },
  );
});

test("connectionKey carries no key material", () => {
  const key = "-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----";
  const k = connectionKey({
    host: "tcp://a:1",
    caPem: "-----BEGIN CERTIFICATE-----x",
    certPem: "-----BEGIN CERTIFICATE-----y",
    keyPem: key,
  });
  assert.doesNotMatch(k, /SECRET|BEGIN/);
  assert.notEqual(k, connectionKey({ host: "tcp://a:1" }));
});
