/**
 * A Slurm-served TesseractService's `endpoint` (computed in the program from the `slurm` input and
 * the `jobs` output): the first running replica, the login as given with the fields left out
 * dropped, a secret exactly when the login holds a private key; a `slurm` given as an Output that
 * comes out empty leaves the service's `url` (it is not a Slurm service then).
 */
// unit: own process
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const JOBS = [
  { status: "PENDING", replica: 0, jobId: "11", host: "", port: 0 },
  { status: "RUNNING", replica: 1, jobId: "12", host: "10.0.0.7", port: 8123 },
];

pulumi.runtime.setMocks(
  {
    newResource: (args) => ({
      id: `${args.name}-id`,
      state: { ...args.inputs, url: "http://10.0.0.7:8123", jobs: args.inputs.slurm ? JOBS : undefined },
    }),
    call: () => ({}),
  },
  "slurm-endpoint",
  "test",
  false,
);

function resolved<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply(resolve));
}

test("the endpoint of a Slurm service: first running replica, login without empty fields, secret with a key", async () => {
  const { TesseractService } = await import("../../provider");
  const keyed = new TesseractService("keyed", {
    slurm: { login: { host: "login.example", privateKey: pulumi.secret(KEY), user: undefined }, srcDir: "/src" },
  });
  const plain = new TesseractService("plain", {
    slurm: { login: { host: pulumi.output("login.example"), port: 2222 }, srcDir: "/src" },
  });
  assert.deepEqual(await resolved(keyed.endpoint), {
    kind: "slurm",
    login: { host: "login.example", privateKey: KEY },
    host: "10.0.0.7",
    port: 8123,
  });
  assert.equal(await pulumi.isSecret(keyed.endpoint), true);
  assert.deepEqual(await resolved(plain.endpoint), {
    kind: "slurm",
    login: { host: "login.example", port: 2222 },
    host: "10.0.0.7",
    port: 8123,
  });
  assert.equal(await pulumi.isSecret(plain.endpoint), false);
});

test("a `slurm` Output that comes out empty: the endpoint is the service's url", async () => {
  const { TesseractService } = await import("../../provider");
  const svc = new TesseractService("none", { image: "hello:1", slurm: pulumi.output(undefined) });
  assert.equal(await resolved(svc.endpoint), "http://10.0.0.7:8123");
});
