/**
 * The BuildKit build path without an engine: BuildKit's trace (protobuf `StatusResponse` inside
 * the `/build` NDJSON stream) decoded into log lines and a DockerBuildError naming the failing
 * step; the builder choice and the `secrets` / `host_credentials` / `injectSsh` rules at check; the
 * BuildKit Dockerfile (cache, secret, tmpfs and ssh mounts) next to the classic one, which is unchanged; secret
 * values in no context entry, hash, label, build arg or failure.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { buildTesseractImage, prepareBuild } from "../../provider/build";
import { decodeStatusResponse, readBuildKitStream } from "../../provider/docker/buildkit-trace";
import { DockerBuildError } from "../../provider/docker/errors";
import { bytesField, decodeFields, varintField } from "../../provider/docker/protobuf";
import * as impl from "../../provider/resources/tesseract-image-impl";
import { FakeEngine } from "../helpers/fake-engine";
import { EXAMPLES } from "../helpers/tesseract-image";

const tmp = mkdtempSync(path.join(tmpdir(), "pt-bk-unit-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const SECRET = "ptUnitSecret-9f3a";

/** A `moby.buildkit.v1.Vertex`. */
function vertex(v: { digest: string; name?: string; cached?: boolean; started?: boolean; error?: string }): Buffer {
  const ts = bytesField(1, varintField(1, 1700000000));
  return Buffer.concat([
    bytesField(1, v.digest),
    ...(v.name ? [bytesField(3, v.name)] : []),
    ...(v.cached ? [varintField(4, true)] : []),
    ...(v.started ? [bytesField(5, ts)] : []),
    ...(v.error ? [bytesField(6, ts), bytesField(7, v.error)] : []),
  ]);
}

/** A `moby.buildkit.v1.VertexLog`. */
function log(digest: string, msg: string): Buffer {
  return Buffer.concat([bytesField(1, digest), varintField(3, 1), bytesField(4, msg)]);
}

/** A `StatusResponse` of vertexes (field 1) and logs (field 3). */
function status(vertexes: Buffer[], logs: Buffer[] = []): Buffer {
  return Buffer.concat([...vertexes.map((v) => bytesField(1, v)), ...logs.map((l) => bytesField(3, l))]);
}

function ndjson(...messages: unknown[]): Readable {
  return Readable.from([Buffer.from(messages.map((m) => `${JSON.stringify(m)}\r\n`).join(""))]);
}

const trace = (buf: Buffer) => ({ id: "moby.buildkit.trace", aux: buf.toString("base64") });

describe("protobuf and the BuildKit trace", () => {
  test("fields round-trip: varints past 7 bits, nested messages, unknown fields skipped", () => {
    const buf = Buffer.concat([varintField(1, 300), bytesField(2, "ünïcode"), varintField(15, 2n ** 40n)]);
    const fields = decodeFields(buf);
    assert.equal(fields[0].varint, 300n);
    assert.equal(fields[1].bytes?.toString("utf8"), "ünïcode");
    assert.equal(fields[2].field, 15);
    assert.equal(fields[2].varint, 2n ** 40n);
    assert.throws(() => decodeFields(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);
  });

  test("a StatusResponse: vertexes with their state, logs with their step", () => {
    const s = decodeStatusResponse(
      status(
        [vertex({ digest: "sha256:a", name: "[build_stage 1/3] FROM x", cached: true, started: true })],
        [log("sha256:a", "hello\n")],
      ),
    );
    assert.deepEqual(s.vertexes, [
      {
        digest: "sha256:a",
        name: "[build_stage 1/3] FROM x",
        cached: true,
        started: true,
        completed: false,
        error: "",
      },
    ]);
    assert.equal(s.logs[0].vertex, "sha256:a");
    assert.equal(s.logs[0].stream, 1);
    assert.equal(s.logs[0].msg.toString(), "hello\n");
  });

  test("a successful stream: numbered steps, their output by line, the image ID", async () => {
    const lines: string[] = [];
    const id = await readBuildKitStream(
      ndjson(
        trace(status([vertex({ digest: "d1", name: "[1/2] FROM base", started: true })])),
        trace(status([vertex({ digest: "d2", name: "[2/2] RUN make", started: true })], [log("d2", "comp")])),
        trace(status([], [log("d2", "iling\n\u001b[31mdone\u001b[0m\n")])),
        trace(status([vertex({ digest: "d1", name: "[1/2] FROM base", cached: true })])),
        { id: "moby.image.id", aux: { ID: "sha256:abc" } },
        { stream: "Successfully tagged x:1\n" },
      ),
      (l) => lines.push(l),
    );
    assert.equal(id, "sha256:abc");
    assert.deepEqual(lines, [
      "#1 [1/2] FROM base",
      "#2 [2/2] RUN make",
      "#2 compiling",
      "#2 done",
      "Successfully tagged x:1",
    ]);
  });

  test("a failure names the step that failed (not the ones cancelled by it) with that step's log", async () => {
    await assert.rejects(
      readBuildKitStream(
        ndjson(
          trace(status([vertex({ digest: "ok", name: "[build_stage 2/4] COPY a b", started: true })])),
          trace(
            status(
              [vertex({ digest: "pip", name: "[build_stage 4/4] RUN pip install -r r.txt", started: true })],
              [log("pip", "Looking in indexes: x\nERROR: 401 Unauthorized\n")],
            ),
          ),
          trace(
            status([
              vertex({
                digest: "other",
                name: "[run_stage 2/9] RUN apt-get",
                started: true,
                error: "context canceled",
              }),
              vertex({ digest: "pip", name: "[build_stage 4/4] RUN pip install -r r.txt", error: "exit code: 1" }),
            ]),
          ),
          { errorDetail: { message: "executor failed running: exit code: 1" }, error: "executor failed" },
        ),
        () => undefined,
      ),
      (err: DockerBuildError) => {
        assert.ok(err instanceof DockerBuildError);
        assert.equal(err.failedStep, "[build_stage 4/4] RUN pip install -r r.txt");
        assert.equal(err.engineMessage, "executor failed running: exit code: 1");
        assert.deepEqual(err.logTail, [
          "#2 Looking in indexes: x",
          "#2 ERROR: 401 Unauthorized",
          "#2 ERROR: exit code: 1",
        ]);
        assert.match(err.message, /^image build failed at \[build_stage 4\/4\] RUN pip install/);
        return true;
      },
    );
  });

  test("an undecodable trace loses progress lines, not the build", async () => {
    const id = await readBuildKitStream(
      ndjson(
        { id: "moby.buildkit.trace", aux: Buffer.from([0x0a, 0x7f]).toString("base64") },
        {
          id: "moby.image.id",
          aux: { ID: "sha256:def" },
        },
      ),
      () => undefined,
    );
    assert.equal(id, "sha256:def");
  });
});

/** hello with `host_credentials` naming `secretId` (and a requirement, so there is an install step). */
function credentialed(name: string, secretId = "idx", installer = ""): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(EXAMPLES, "hello"), dir, { recursive: true });
  writeFileSync(
    path.join(dir, "tesseract_requirements.txt"),
    "--extra-index-url https://pkgs.example.com/simple/\nprivpkg\n",
  );
  writeFileSync(
    path.join(dir, "tesseract_config.yaml"),
    `name: cred\nversion: "1.0.0"\nbuild_config:\n  host_credentials:\n    - {host: "pkgs.example.com:8443", secret_id: ${secretId}, username: "bot$user"}\n${installer}`,
  );
  return dir;
}

describe("the builder choice and the secrets rules", () => {
  const hello = path.join(EXAMPLES, "hello");

  test("auto: the classic builder unless the build needs BuildKit; the classic context and hash unchanged", () => {
    const plain = prepareBuild({ srcDir: hello });
    assert.equal(plain.builder, "classic");
    assert.equal(prepareBuild({ srcDir: hello, builder: "auto" }).contextHash, plain.contextHash);
    assert.equal(prepareBuild({ srcDir: hello, builder: "classic" }).contextHash, plain.contextHash);
    assert.doesNotMatch(plain.context.dockerfile, /--mount/);
    const bk = prepareBuild({ srcDir: hello, builder: "buildkit" });
    assert.equal(bk.builder, "buildkit");
    assert.notEqual(bk.contextHash, plain.contextHash, "another builder, another image");
    assert.equal(prepareBuild({ srcDir: hello, secrets: { a: SECRET } }).builder, "buildkit");
  });

  test("host_credentials: BuildKit, a secret mount per id, the netrc only in a tmpfs; no value anywhere", () => {
    const p = prepareBuild({ srcDir: credentialed("cred"), secrets: { idx: SECRET } });
    assert.equal(p.builder, "buildkit");
    const df = p.context.dockerfile;
    assert.match(df, /--mount=type=cache,target=\/root\/\.cache\/pip,id=pulumi-tesseract-pip,sharing=locked/);
    assert.match(df, /--mount=type=secret,id=idx,required=true/);
    assert.match(df, /--mount=type=tmpfs,target=\/run\/pulumi-tesseract-netrc/);
    // the port is not part of a netrc machine name; the username is quoted for the shell
    assert.match(
      df,
      /printf 'machine %s login %s password %s\\n' pkgs\.example\.com 'bot\$user' "\$\(cat \/run\/secrets\/idx\)"/,
    );
    assert.match(
      df,
      /NETRC=\/run\/pulumi-tesseract-netrc\/netrc PIP_NO_INPUT=1 \/python-env\/bin\/python -m pip install -r/,
    );
    for (const e of p.context.entries) assert.ok(!(e.data ?? Buffer.alloc(0)).includes(SECRET), e.name);
    assert.ok(!JSON.stringify(p.labels).includes(SECRET));
    assert.ok(!JSON.stringify(p.buildArgs).includes(SECRET));
    // a rotated value does not rebuild; another id does
    assert.equal(
      prepareBuild({ srcDir: credentialed("cred"), secrets: { idx: "other-value" } }).contextHash,
      p.contextHash,
    );
    assert.notEqual(
      prepareBuild({ srcDir: credentialed("cred"), secrets: { idx: SECRET, more: "x" } }).contextHash,
      p.contextHash,
    );
  });

  test("uv: its cache mount and its cache instead of UV_NO_CACHE", () => {
    const p = prepareBuild({ srcDir: credentialed("cred-uv"), secrets: { idx: SECRET }, installer: "uv" });
    assert.match(p.context.dockerfile, /--mount=type=cache,target=\/root\/\.cache\/uv,id=pulumi-tesseract-uv/);
    assert.match(p.context.dockerfile, /UV_LINK_MODE=copy/);
    assert.doesNotMatch(p.context.dockerfile.split("--mount=type=cache")[1], /UV_NO_CACHE/);
  });

  test("injectSsh: BuildKit, an SSH mount on the install, git and openssh-client in the build stage", () => {
    const dir = path.join(tmp, "ssh");
    cpSync(hello, dir, { recursive: true });
    writeFileSync(path.join(dir, "tesseract_requirements.txt"), "pkg @ git+ssh://git@git.example.com/pkg.git\n");
    const p = prepareBuild({ srcDir: dir, injectSsh: true });
    assert.equal(p.builder, "buildkit");
    assert.match(p.context.dockerfile, /apt-get install -y --no-install-recommends git openssh-client\b/);
    assert.match(
      p.context.dockerfile,
      /--mount=type=ssh \\\n {4}GIT_SSH_COMMAND="ssh -o StrictHostKeyChecking=accept-new" \/python-env\/bin\/python -m pip install/,
    );
    assert.throws(
      () => prepareBuild({ srcDir: hello, injectSsh: true, builder: "classic" }),
      /injectSsh \(an SSH mount\) need BuildKit/,
    );
  });

  test("builder: classic with what needs BuildKit fails naming builder and the fix", () => {
    assert.throws(
      () => prepareBuild({ srcDir: credentialed("cred-classic"), builder: "classic", secrets: { idx: SECRET } }),
      (err: Error & { property?: string }) => {
        assert.equal(err.property, "builder");
        assert.match(
          err.message,
          /build_config\.host_credentials \(secret mounts\) and secrets need BuildKit \(fix: set builder: "auto" or "buildkit"/,
        );
        assert.ok(!err.message.includes(SECRET));
        return true;
      },
    );
  });

  test("a credential's secret id missing from secrets fails naming the id, never a value", async () => {
    const dir = credentialed("cred-missing", "pypi_token");
    const res = await impl.check({} as never, { srcDir: dir, secrets: { other: SECRET } } as never);
    assert.equal(res.failures?.length, 1, JSON.stringify(res.failures));
    // a secret field is named without its keys (common/secrets.ts)
    assert.equal(res.failures?.[0].property, "secrets[secret]");
    assert.match(
      res.failures?.[0].reason ?? "",
      /secret id pypi_token, which secrets does not hold \(fix: add pypi_token: <the password or token for pkgs\.example\.com:8443>/,
    );
    assert.ok(!JSON.stringify(res.failures).includes(SECRET));
    const none = await impl.check({} as never, { srcDir: dir } as never);
    assert.match(none.failures?.[0].property ?? "", /^secrets/);
  });

  test("check: a bad secret id or builder is refused naming the field; a good one passes", async () => {
    const bad = await impl.check({} as never, { srcDir: hello, secrets: { "a b": SECRET } } as never);
    assert.match(bad.failures?.[0].property ?? "", /^secrets/);
    assert.ok(!JSON.stringify(bad.failures).includes(SECRET));
    const builder = await impl.check({} as never, { srcDir: hello, builder: "kaniko" } as never);
    assert.equal(builder.failures?.[0].property, "builder");
    assert.match(builder.failures?.[0].reason ?? "", /must be "auto"/);
    const ok = await impl.check({} as never, { srcDir: credentialed("cred-ok"), secrets: { idx: SECRET } } as never);
    assert.deepEqual(ok.failures ?? [], []);
  });

  test("an engine without BuildKit (Podman's API): a build that needs it fails saying so, before building", async () => {
    const engine = new FakeEngine();
    engine.buildKitMissing = "the engine at fake is Podman (Libpod API), whose Docker-compatible API has no BuildKit";
    await assert.rejects(
      buildTesseractImage(credentialed("cred-podman"), { secrets: { idx: SECRET }, onLine: () => undefined }, engine),
      (err: Error & { property?: string }) => {
        assert.equal(err.name, "TesseractBuildError");
        assert.equal(err.property, "secrets");
        assert.match(err.message, /needs BuildKit .* but the engine at fake is Podman/);
        assert.ok(!err.message.includes(SECRET));
        return true;
      },
    );
    assert.equal(engine.images.size, 0);
  });
});
