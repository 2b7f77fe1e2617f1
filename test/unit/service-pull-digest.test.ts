/**
 * Pulling pushed digests onto a service's engine (provider/serve/pull.ts through DockerPlatform) on
 * the in-memory engine: an absent digest is pulled with the service's registryAuth, a present one
 * is not, an absent tag keeps the "never pulls" error, and each registry failure maps to an
 * ImagePullError naming the input and the fix, never the password. The real pull (TLS registry
 * with htpasswd, a second dockerd) runs in test/integration/service-pull-digest.test.ts.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { TesseractPulumiError } from "../../provider/common/errors";
import { Progress } from "../../provider/common/log";
import { TESSERACT_SERVICE_SECRETS } from "../../provider/common/secret-fields";
import { DockerApiError, DockerPullError, DockerUnreachableError } from "../../provider/docker/errors";
import { validateInputs } from "../../provider/serve/args";
import { UPDATE_IN_PLACE } from "../../provider/serve/container-target";
import { DockerPlatform } from "../../provider/serve/docker-platform";
import { ImagePullError, isDigestReference, registryOf } from "../../provider/serve/pull";
import { FakeEngine } from "../helpers/fake-engine";
import { serviceInputsOf } from "../helpers/service-inputs";

process.env.PULUMI_TESSERACT_QUIET = "1";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REF = `127.0.0.1:5000/team/hello@${DIGEST}`;
const PASSWORD = "s3cret-pull-pw";
const AUTH = { registry: "127.0.0.1:5000", username: "tess", password: PASSWORD };

let engine: FakeEngine;
let platform: DockerPlatform;

beforeEach(() => {
  engine = new FakeEngine();
  platform = new DockerPlatform({ engineFor: () => engine, waitHealthy: async () => ({ ok: true, seconds: 0 }) });
});

function progress(): Progress {
  return new Progress("test", [PASSWORD]);
}

/** Creates the service and returns the error it failed with. */
async function failure(raw: Record<string, unknown>): Promise<Error> {
  const err = await platform.create(serviceInputsOf(raw), progress()).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, "create should fail");
  return err;
}

describe("digest references", () => {
  test("recognised and their registry found as the engine does", () => {
    assert.ok(isDigestReference(REF));
    assert.ok(!isDigestReference("127.0.0.1:5000/team/hello:1.0"));
    assert.ok(!isDigestReference(`hello@sha256:${"ab".repeat(31)}`));
    assert.equal(registryOf(REF), "127.0.0.1:5000");
    assert.equal(registryOf(`ghcr.io/org/x@${DIGEST}`), "ghcr.io");
    assert.equal(registryOf(`localhost/x@${DIGEST}`), "localhost");
    assert.equal(registryOf(`org/x@${DIGEST}`), "docker.io");
    assert.equal(registryOf(`x@${DIGEST}`), "docker.io");
  });
});

describe("pulling on create", () => {
  test("an absent digest is pulled with registryAuth, then served", async () => {
    engine.registry.add(REF);
    const served = await platform.create(serviceInputsOf({ image: REF, registryAuth: AUTH }), progress());
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith("pullImage")),
      [`pullImage ${REF}`],
    );
    assert.deepEqual(engine.pullAuths, [{ username: "tess", password: PASSWORD, serveraddress: "127.0.0.1:5000" }]);
    assert.equal(served.containers.length, 1);
    assert.equal(served.imageIds[0], (await engine.inspectImage(REF))?.Id);
  });

  test("credentials for another registry are not sent", async () => {
    engine.registry.add(REF);
    await platform.create(serviceInputsOf({ image: REF, registryAuth: { ...AUTH, registry: "ghcr.io" } }), progress());
    assert.deepEqual(engine.pullAuths, [undefined]);
  });

  test("a present digest is not pulled", async () => {
    engine.addImage([REF]);
    await platform.create(serviceInputsOf({ image: REF, registryAuth: AUTH }), progress());
    assert.ok(!engine.calls.some((c) => c.startsWith("pullImage")));
  });

  test("the same digest listed twice is pulled once", async () => {
    engine.registry.add(REF);
    const served = await platform.create(serviceInputsOf({ images: [REF, REF] }), progress());
    assert.equal(engine.calls.filter((c) => c.startsWith("pullImage")).length, 1);
    assert.equal(served.containers.length, 2);
  });

  test("an absent tag is never pulled: the error names the digest option", async () => {
    const err = await failure({ image: "127.0.0.1:5000/team/hello:1.0", registryAuth: AUTH });
    assert.ok(!engine.calls.some((c) => c.startsWith("pullImage")));
    assert.ok(err instanceof TesseractPulumiError);
    assert.equal(err.property, "image");
    assert.match(err.message, /never pulls images by tag/);
    assert.match(err.message, /@sha256:/);
  });

  test("healing on an engine that lost the image pulls the digest again", async () => {
    engine.registry.add(REF);
    const inputs = serviceInputsOf({ image: REF, replicas: 1 });
    const served = await platform.create(inputs, progress());
    engine.kill(served.containers[0].id);
    await engine.removeContainer(served.containers[0].id);
    await engine.removeImage(REF);
    const after = await platform.update({ ...inputs, ...served } as never, inputs, progress());
    assert.equal(after.containers.length, 1);
    assert.equal(engine.calls.filter((c) => c.startsWith("pullImage")).length, 2);
  });
});

describe("pull failures", () => {
  const cases: { name: string; fail: Error; auth?: typeof AUTH; property: string; message: RegExp; hint: RegExp }[] = [
    {
      name: "refused credentials (401)",
      fail: new DockerApiError(401, "POST", "/images/create", "unauthorized: authentication required"),
      auth: AUTH,
      property: "registryAuth",
      message: /refused the credentials of user tess/,
      hint: /registryAuth\.username and registryAuth\.password/,
    },
    {
      name: "refused credentials inside the stream (403)",
      fail: new DockerPullError("denied: requested access to the resource is denied"),
      auth: AUTH,
      property: "registryAuth",
      message: /refused the credentials/,
      hint: /registryAuth\.password/,
    },
    {
      name: "credentials required, none given",
      fail: new DockerApiError(500, "POST", "/images/create", "Head ...: no basic auth credentials"),
      property: "registryAuth",
      message: /requires credentials/,
      hint: /set registryAuth/,
    },
    {
      name: "unknown digest (404)",
      fail: new DockerApiError(404, "POST", "/images/create", "manifest unknown"),
      auth: AUTH,
      property: "image",
      message: /not in the registry 127\.0\.0\.1:5000: no such manifest/,
      hint: /push the image first/,
    },
    {
      name: "registry unreachable",
      fail: new DockerApiError(
        500,
        "POST",
        "/images/create",
        'Get "https://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
      ),
      auth: AUTH,
      property: "image",
      message: /cannot be reached from the Docker engine/,
      hint: /registry 127\.0\.0\.1:5000 is running/,
    },
    {
      name: "registry's certificate not trusted",
      fail: new DockerApiError(500, "POST", "/images/create", "x509: certificate signed by unknown authority"),
      auth: AUTH,
      property: "image",
      message: /TLS with the registry failed/,
      hint: /certs\.d\/127\.0\.0\.1:5000\/ca\.crt/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      engine.pullFailure = c.fail;
      const err = await failure({ image: REF, ...(c.auth ? { registryAuth: c.auth } : {}) });
      assert.ok(err instanceof ImagePullError, String(err));
      assert.ok(err instanceof TesseractPulumiError);
      assert.equal(err.property, c.property);
      assert.match(err.message, c.message);
      assert.match(err.hint ?? "", c.hint);
      assert.ok(!err.message.includes(PASSWORD), "the password is never in the message");
      assert.equal(engine.containers.size, 0, "nothing started");
    });
  }

  test("the password is redacted from the registry's text", async () => {
    engine.pullFailure = new DockerPullError(`unauthorized: bad password ${PASSWORD}`);
    const err = await failure({ image: REF, registryAuth: AUTH });
    assert.ok(!err.message.includes(PASSWORD));
  });

  test("an engine that went away stays a DockerUnreachableError", async () => {
    engine.pullFailure = new DockerUnreachableError(engine.host, "ECONNREFUSED");
    const err = await failure({ image: REF });
    assert.ok(err instanceof DockerUnreachableError);
  });

  test("a create that fails after pulling removes what it pulled; a present image stays", async () => {
    engine.registry.add(REF);
    engine.addImage(["plain:1"], { tesseract: false });
    const err = await failure({ images: [REF, "plain:1"] });
    assert.match(err.message, /not a Tesseract/);
    assert.equal(await engine.inspectImage(REF), undefined, "the pulled image is removed");
    assert.ok(await engine.inspectImage("plain:1"), "an image it did not pull stays");
  });

  test("delete leaves a pulled image on the engine", async () => {
    engine.registry.add(REF);
    const inputs = serviceInputsOf({ image: REF });
    const served = await platform.create(inputs, progress());
    await platform.remove({ ...inputs, ...served } as never, progress());
    assert.equal(engine.containers.size, 0);
    assert.ok(await engine.inspectImage(REF), "pulled images stay, as built ones do");
  });
});

describe("registryAuth input", () => {
  test("a secret, applied in place", () => {
    assert.ok((TESSERACT_SERVICE_SECRETS as readonly string[]).includes("registryAuth.password"));
    assert.ok((UPDATE_IN_PLACE as readonly string[]).includes("registryAuth"));
  });

  test("bad values fail at check naming the field, never the password", () => {
    const { failures } = validateInputs(
      { serviceName: "s", image: REF, registryAuth: { registry: "https://x", username: "", password: PASSWORD } },
      new Set(),
      process.cwd(),
    );
    const props = failures.map((f) => f.property);
    assert.ok(props.includes("registryAuth.registry"), JSON.stringify(props));
    assert.ok(props.includes("registryAuth.username"), JSON.stringify(props));
    assert.ok(!JSON.stringify(failures).includes(PASSWORD));
  });

  test("refused with kubernetes, pointing at imagePullSecret", () => {
    const { failures } = validateInputs(
      { serviceName: "s", image: REF, registryAuth: AUTH, kubernetes: {} },
      new Set(),
      process.cwd(),
    );
    // A top-level key holding a secret is named `registryAuth[secret]` (common/secrets.ts).
    const f = failures.find((x) => x.property?.startsWith("registryAuth"));
    assert.ok(f, JSON.stringify(failures));
    assert.match(f.reason, /kubernetes\.imagePullSecret/);
  });
});
