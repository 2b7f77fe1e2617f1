/**
 * Progress reaches an engine as the real one would receive it: a fake Engine gRPC service on
 * 127.0.0.1 (the real engine and display: test/e2e/progress-once.test.ts). Step lines are
 * ephemeral and carry the URN of the resource the call works for; summaries and warnings are kept.
 * The address is found as the provider plugin sets it (the SDK's settings, plugin/server.ts).
 */
// unit: own process
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { connectToEngine, Progress } from "../../provider/common/log";
import { inResource } from "../../provider/common/resource-context";

const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi"));
const grpc = pulumiRequire("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const engrpc = pulumiRequire("@pulumi/pulumi/proto/engine_grpc_pb") as any;
const empty = pulumiRequire("google-protobuf/google/protobuf/empty_pb") as any;
const state = pulumiRequire("@pulumi/pulumi/runtime/state") as {
  getStore(): { settings: { options: { engineAddr?: string } } };
};

interface Logged {
  message: string;
  urn: string;
  ephemeral: boolean;
  severity: number;
}
const logged: Logged[] = [];
const server = new grpc.Server();
const URN = "urn:pulumi:dev::proj::tesseract:index:TesseractImage::hello";

before(async () => {
  type Callback = (e: import("@grpc/grpc-js").ServiceError | null, r?: unknown) => void;
  const unimplemented = (_c: unknown, cb: Callback) =>
    cb({ code: grpc.status.UNIMPLEMENTED } as import("@grpc/grpc-js").ServiceError);
  server.addService(engrpc.EngineService, {
    log: (call: { request: any }, cb: Callback) => {
      const r = call.request;
      logged.push({ message: r.getMessage(), urn: r.getUrn(), ephemeral: r.getEphemeral(), severity: r.getSeverity() });
      cb(null, new empty.Empty());
    },
    getRootResource: unimplemented,
    setRootResource: unimplemented,
    startDebugging: unimplemented,
    requirePulumiVersion: unimplemented,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  state.getStore().settings.options.engineAddr = `127.0.0.1:${port}`;
});

after(() => {
  state.getStore().settings.options.engineAddr = "";
  server.forceShutdown();
});

test("step lines are ephemeral on the resource's row; summaries and warnings stay", async () => {
  assert.equal(connectToEngine(), true, "the address set in the SDK's settings counts (the plugin's case)");
  await inResource(URN, async () => {
    const p = new Progress("TesseractImage hello:0.1.0", ["hunter2-secret"]);
    p.info("Step 1/9 : FROM python (token hunter2-secret)");
    await new Promise((r) => setTimeout(r, 10));
    p.summary("built 0123456789ab in 1.0 s");
    p.warn("base image missing");
  });
  new Progress("TesseractImage x").info("outside any resource");
  for (let i = 0; i < 100 && logged.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    logged.map(({ message, urn, ephemeral }) => ({ message, urn, ephemeral })),
    [
      { message: "TesseractImage hello:0.1.0: Step 1/9 : FROM python (token [secret])", urn: URN, ephemeral: true },
      { message: "TesseractImage hello:0.1.0: built 0123456789ab in 1.0 s", urn: URN, ephemeral: false },
      { message: "TesseractImage hello:0.1.0: base image missing", urn: URN, ephemeral: false },
      { message: "TesseractImage x: outside any resource", urn: "", ephemeral: true },
    ],
  );
});
