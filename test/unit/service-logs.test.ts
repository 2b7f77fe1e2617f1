/**
 * getTesseractServiceLogs refuses arguments it cannot use before reaching any engine or cluster
 * (the Docker and Kubernetes paths run for real in test/integration/tesseract-service.test.ts and
 * test/e2e/kubernetes-service.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../provider/common/errors";
import { getTesseractServiceLogs } from "../../provider/listing/service-logs";

describe("getTesseractServiceLogs arguments", () => {
  it("needs containerIds or a Kubernetes endpoint, and says which output to pass", async () => {
    for (const args of [{}, { containerIds: [] }, { endpoint: "http://127.0.0.1:8000" }]) {
      await assert.rejects(getTesseractServiceLogs(args), (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /containerIds: service\.containerIds/);
        return true;
      });
    }
  });

  it("refuses a tail that is not a positive integer", async () => {
    for (const tail of [0, -1, 1.5]) {
      await assert.rejects(getTesseractServiceLogs({ containerIds: ["x"], tail }), /tail must be a positive integer/);
    }
  });
});
