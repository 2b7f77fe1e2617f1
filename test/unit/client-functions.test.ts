/**
 * The Tesseract functions during `pulumi up` (mocks with preview=false): Promise and `…Output`
 * forms call the Tesseract, keep typed arrays intact through `pulumi.Input` lifting, return plain
 * JSON, propagate secretness, and make no call while the url is unknown.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { type FakeTesseract, startFakeTesseract } from "../helpers/fake-tesseract";

pulumi.runtime.setMocks(
  { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
  "client-functions",
  "up",
  false,
);

import * as fns from "../../provider/functions";

function internals(o: pulumi.Output<unknown>): {
  isKnown: Promise<boolean>;
  isSecret: Promise<boolean>;
  promise(): Promise<unknown>;
} {
  return o as unknown as { isKnown: Promise<boolean>; isSecret: Promise<boolean>; promise(): Promise<unknown> };
}

describe("Tesseract functions during up", () => {
  let fake: FakeTesseract;
  before(async () => {
    fake = await startFakeTesseract();
  });
  after(async () => {
    await fns.closeTesseractFunctionClients();
    await fake.close();
  });

  it("isDryRun is off", () => {
    assert.equal(pulumi.runtime.isDryRun(), false);
  });

  it("applyOutput calls the Tesseract with lifted inputs and returns plain JSON", async () => {
    fake.requests.length = 0;
    const out = fns.applyOutput({
      url: pulumi.output(fake.url),
      inputs: {
        a: new Float64Array([1.5, 2.5]),
        n: pulumi.output({ shape: [1], dtype: "int32" as const, data: [7] }),
        nested: { s: Promise.resolve(3), list: [pulumi.output(1), 2] },
      },
    });
    const result = (await internals(out).promise()) as fns.ApplyResult;
    assert.equal(fake.requests.length, 1);
    const sent = JSON.parse(fake.requests[0].body).inputs;
    assert.equal(sent.a.dtype, "float64");
    assert.equal(sent.a.data.encoding, "base64");
    assert.equal(sent.n.dtype, "int32");
    assert.deepEqual(sent.nested, { s: 3, list: [1, 2] });
    assert.deepEqual(result.outputs, {
      a: { shape: [2], dtype: "float64", data: [1.5, 2.5] },
      n: { shape: [1], dtype: "int32", data: [7] },
      nested: { s: 3, list: [1, 2] },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(result)), result);
  });

  it("Promise forms return the same plain results", async () => {
    const r = await fns.apply({ url: fake.url, inputs: { x: { shape: [2], dtype: "bool", data: [true, false] } } });
    assert.deepEqual(r.outputs, { x: { shape: [2], dtype: "bool", data: [true, false] } });
    assert.deepEqual((await fns.getAvailableEndpoints({ url: fake.url })).endpoints, ["apply", "health", "jacobian"]);
    await assert.rejects(
      fns.jacobian({ url: fake.url, inputs: {}, jacInputs: ["a"], jacOutputs: ["y"] }),
      /does not implement the jacobian endpoint/,
    );
  });

  it("secret inputs make a secret result", async () => {
    const out = fns.applyOutput({ url: fake.url, inputs: { token: pulumi.secret("abc") } });
    assert.equal(await internals(out).isSecret, true);
    assert.deepEqual(((await internals(out).promise()) as fns.ApplyResult).outputs, { token: "abc" });
  });

  it("makes no call while the url is unknown", async () => {
    fake.requests.length = 0;
    const unknownUrl = pulumi.output(pulumi.unknown) as unknown as pulumi.Output<string>;
    const out = fns.applyOutput({ url: unknownUrl, inputs: { a: [1] } });
    assert.equal(await internals(out).isKnown, false);
    const eps = fns.getAvailableEndpointsOutput({ url: unknownUrl });
    assert.equal(await internals(eps).isKnown, false);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(fake.requests.length, 0);
  });

  it("waits for dependsOn resources", async () => {
    fake.requests.length = 0;
    class Thing extends pulumi.CustomResource {
      constructor(name: string) {
        super("test:index:Thing", name, {});
      }
    }
    const res = new Thing("dep");
    const out = fns.getAvailableEndpointsOutput({ url: fake.url }, { dependsOn: [res] });
    assert.deepEqual(((await internals(out).promise()) as fns.GetAvailableEndpointsResult).endpoints.length, 3);
  });
});
