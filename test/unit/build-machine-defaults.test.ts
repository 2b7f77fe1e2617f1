import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { withMachineDefaults } from "../../provider/build/machine-defaults";
import { check } from "../../provider/resources/tesseract-image-impl";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

test("machine defaults fill unset buildNetwork/caCertificates from the environment; inputs win", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pt-ca-"));
  const bundle = path.join(dir, "ca.pem");
  writeFileSync(bundle, PEM);
  const env = { PULUMI_TESSERACT_BUILD_NETWORK: "host", PULUMI_TESSERACT_CA_CERTIFICATES: bundle };
  assert.deepEqual(withMachineDefaults({ srcDir: "x" } as Record<string, unknown>, env), {
    srcDir: "x",
    buildNetwork: "host",
    caCertificates: PEM,
  });
  assert.deepEqual(withMachineDefaults({ buildNetwork: "none", caCertificates: "mine" }, env), {
    buildNetwork: "none",
    caCertificates: "mine",
  });
  assert.deepEqual(withMachineDefaults({ srcDir: "x" } as Record<string, unknown>, {}), { srcDir: "x" });
});

test("an unreadable CA bundle named by the environment fails check on caCertificates with the fix", async () => {
  const before = process.env.PULUMI_TESSERACT_CA_CERTIFICATES;
  process.env.PULUMI_TESSERACT_CA_CERTIFICATES = "/nonexistent/ca.pem";
  try {
    const result = await check({} as never, { srcDir: "/nonexistent" } as never);
    assert.equal(result.failures?.[0]?.property, "caCertificates");
    assert.match(
      result.failures?.[0]?.reason ?? "",
      /PULUMI_TESSERACT_CA_CERTIFICATES=\/nonexistent\/ca.pem: cannot read it/,
    );
  } finally {
    if (before === undefined) delete process.env.PULUMI_TESSERACT_CA_CERTIFICATES;
    else process.env.PULUMI_TESSERACT_CA_CERTIFICATES = before;
  }
});
