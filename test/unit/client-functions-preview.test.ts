/**
 * The `…Output` functions during `pulumi preview` (mocks with preview=true): no HTTP call is made
 * and the result is unknown, for every function.
 */
// unit: own process
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { type FakeTesseract, startFakeTesseract } from "../helpers/fake-tesseract";

pulumi.runtime.setMocks(
  { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
  "client-functions",
  "preview",
  true,
);

// import after setMocks
import * as fns from "../../provider/functions";

function isKnown(o: pulumi.Output<unknown>): Promise<boolean> {
  return (o as unknown as { isKnown: Promise<boolean> }).isKnown;
}

describe("Tesseract functions in preview", () => {
  let fake: FakeTesseract;
  before(async () => {
    fake = await startFakeTesseract();
  });
  after(async () => {
    await fns.closeTesseractFunctionClients();
    await fake.close();
  });

  it("isDryRun is on", () => {
    assert.equal(pulumi.runtime.isDryRun(), true);
  });

  it("every …Output form is unknown and makes no call, even with a known url", async () => {
    const url = pulumi.output(fake.url);
    const inputs = { a: new Float64Array([1, 2, 3]), b: pulumi.output([4, 5, 6]), s: 2 };
    const outs: pulumi.Output<unknown>[] = [
      fns.applyOutput({ url, inputs }),
      fns.jacobianOutput({ url, inputs, jacInputs: ["a"], jacOutputs: ["result"] }),
      fns.jacobianVectorProductOutput({
        url,
        inputs,
        jvpInputs: ["a"],
        jvpOutputs: ["result"],
        tangentVector: { a: [1, 0, 0] },
      }),
      fns.vectorJacobianProductOutput({
        url,
        inputs,
        vjpInputs: ["a"],
        vjpOutputs: ["result"],
        cotangentVector: { result: [1, 0, 0] },
      }),
      fns.abstractEvalOutput({ url, inputs: { a: { shape: [3], dtype: "float64" } } }),
      fns.getOpenApiSchemaOutput({ url }),
      fns.getAvailableEndpointsOutput({ url }),
    ];
    for (const o of outs) assert.equal(await isKnown(o), false);
    // give any stray callback a chance to run
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(fake.requests.length, 0, `requests made: ${fake.requests.map((r) => r.url).join(", ")}`);
  });
});
