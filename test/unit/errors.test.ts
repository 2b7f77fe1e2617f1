/**
 * One error hierarchy: every error class the package exports extends TesseractPulumiError, and
 * `property` names the input at fault as data (the image check reads it from there).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import * as pkg from "../../provider";
import { check } from "../../provider/resources/tesseract-image-impl";

test("every exported error class extends TesseractPulumiError", () => {
  const classes = (Object.entries(pkg) as [string, unknown][]).filter(
    (e): e is [string, ErrorConstructor] =>
      typeof e[1] === "function" && /Error$/.test(e[0]) && e[1].prototype instanceof Error,
  );
  assert.ok(classes.length >= 12, `found ${classes.map(([n]) => n).join(", ")}`);
  for (const [name, cls] of classes) {
    assert.ok(
      (cls as unknown) === pkg.TesseractPulumiError || cls.prototype instanceof pkg.TesseractPulumiError,
      `${name} does not extend TesseractPulumiError`,
    );
  }
  for (const name of [
    "UserError",
    "TesseractBuildError",
    "TesseractSourceError",
    "DockerApiError",
    "DockerBuildError",
    "DockerUnreachableError",
    "TesseractError",
    "FractalHttpError",
    "FractalLoginError",
    "FractalActivityError",
  ])
    assert.ok(name in pkg, `${name} is not exported`);
});

test("a bad tag fails check on `tag`, taken from the error's property", async () => {
  const dir = path.resolve(__dirname, "../../examples/tesseracts/hello");
  const r = await check({ srcDir: dir }, { srcDir: dir, tag: "Bad Tag!" });
  assert.ok(r.failures?.length, JSON.stringify(r));
  assert.deepEqual(
    r.failures.map((f) => f.property),
    ["tag"],
    JSON.stringify(r.failures),
  );
});

test("fractal-server: a 5xx is the server's failure, not a user error; a refused login names `server`", async () => {
  const { FractalHttpError, FractalLoginError, UserError } = pkg;
  const e500 = new FractalHttpError(500, "Internal Server Error", "POST /api/v2/task/collect/pip/");
  assert.equal(e500 instanceof UserError, false);
  assert.equal(e500.serverSide, true);
  assert.equal(new FractalHttpError(422, "bad", "POST x").serverSide, false);
  const login = new FractalLoginError(
    "fractal-server at http://h refused the login of a@b (400: LOGIN_BAD_CREDENTIALS)",
  );
  assert.ok(login instanceof UserError);
  assert.equal(login.property, "server");
  assert.ok(login.hint);
});

test("check failures take the property and the fix from the error's data", async () => {
  const { failureOf } = await import("../../provider/common/check");
  const { TesseractPulumiError, messageWithFix } = await import("../../provider/common/errors");
  const err = new TesseractPulumiError("PULUMI_TESSERACT_CA_CERTIFICATES=/x: cannot read it (ENOENT)", {
    property: "caCertificates",
    hint: 'set PULUMI_TESSERACT_CA_CERTIFICATES to "host"',
  });
  assert.deepEqual(failureOf(err, "srcDir"), {
    property: "caCertificates",
    reason:
      'PULUMI_TESSERACT_CA_CERTIFICATES=/x: cannot read it (ENOENT) (fix: set PULUMI_TESSERACT_CA_CERTIFICATES to "host")',
  });
  // A message that already says the fix is not repeated; a plain error falls back to the given property.
  assert.equal(
    messageWithFix(new TesseractPulumiError("raise timeoutSeconds now", { hint: "raise timeoutSeconds" })),
    "raise timeoutSeconds now",
  );
  assert.deepEqual(failureOf(new Error("boom"), "srcDir"), { property: "srcDir", reason: "boom" });
});
