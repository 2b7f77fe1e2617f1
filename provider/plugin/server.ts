/**
 * Serves the provider with `@pulumi/pulumi/provider`'s `main()`. Two gRPC handlers of that server
 * (3.248) fall short of what this provider needs, and are completed here without forking it:
 * - `Configure` answers without passing the configuration on: ours hands `tesseract:*` to the
 *   provider and accepts secrets but not output values or resource references (plain inputs);
 * - `Diff` drops `detailedDiff`: ours passes the old inputs in and returns per-property kinds;
 * - `Read` fails when the engine sends no properties (`pulumi import`): ours reads by ID then.
 * Every other handler is `main()`'s own.
 */
import { createRequire } from "node:module";
import type { TesseractProvider } from "./provider";

// The gRPC and protobuf modules exactly as @pulumi/pulumi loads them.
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/provider"));
const grpc = pulumiRequire("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const provproto = pulumiRequire("@pulumi/pulumi/proto/provider_pb") as any;
const provrpc = pulumiRequire("@pulumi/pulumi/proto/provider_grpc_pb") as any;
const structproto = pulumiRequire("google-protobuf/google/protobuf/struct_pb") as any;

type Callback = (err: unknown, value?: unknown) => void;
type Call = { request: any };

function mapToObject(map: { forEach(fn: (v: string, k: string) => void): void } | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  map?.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** The completed handlers, with main()'s service object as the fallback for the rest. */
function extend(base: Record<string, unknown>, provider: TesseractProvider): Record<string, unknown> {
  const handlers = Object.create(base) as Record<string, unknown>;
  handlers.configure = (call: Call, callback: Callback) => {
    const req = call.request;
    provider
      .configure(mapToObject(req.getVariablesMap()), req.getArgs()?.toJavaScript())
      .then(() => {
        const resp = new provproto.ConfigureResponse();
        resp.setAcceptsecrets(true);
        resp.setAcceptresources(false);
        resp.setAcceptoutputs(false);
        callback(undefined, resp);
      })
      .catch((err: unknown) => callback(err));
  };
  handlers.diff = (call: Call, callback: Callback) => {
    const req = call.request;
    provider
      .diffDetailed(
        req.getId(),
        req.getUrn(),
        req.getOlds()?.toJavaScript() ?? {},
        req.getNews()?.toJavaScript() ?? {},
        req.getOldInputs()?.toJavaScript(),
      )
      .then((result) => {
        const resp = new provproto.DiffResponse();
        const C = provproto.DiffResponse.DiffChanges;
        resp.setChanges(
          result.changes === true ? C.DIFF_SOME : result.changes === false ? C.DIFF_NONE : C.DIFF_UNKNOWN,
        );
        if (result.replaces?.length) resp.setReplacesList(result.replaces);
        if (result.deleteBeforeReplace) resp.setDeletebeforereplace(true);
        const detail = resp.getDetaileddiffMap();
        for (const [key, kind] of Object.entries(result.detailedDiff)) {
          const d = new provproto.PropertyDiff();
          d.setKind(kind);
          d.setInputdiff(true);
          detail.set(key, d);
        }
        resp.setDiffsList(Object.keys(result.detailedDiff));
        resp.setHasdetaileddiff(true);
        callback(undefined, resp);
      })
      .catch((err: unknown) => {
        console.error(err instanceof Error ? err.stack : err);
        callback(err);
      });
  };
  handlers.read = (call: Call, callback: Callback) => {
    const req = call.request;
    provider
      .read(req.getId(), req.getUrn(), req.getProperties()?.toJavaScript() ?? {})
      .then((result) => {
        const resp = new provproto.ReadResponse();
        resp.setId(result.id ?? "");
        // Nothing found: no properties at all, which the engine reports as "does not exist".
        if (result.id) resp.setProperties(structproto.Struct.fromJavaScript(result.props ?? {}));
        if (result.inputs !== undefined) resp.setInputs(structproto.Struct.fromJavaScript(result.inputs));
        callback(undefined, resp);
      })
      .catch((err: unknown) => callback(err));
  };
  return handlers;
}

/**
 * Runs `main(provider, args)`. The ResourceProvider service main() registers gets the completed
 * handlers; pulumi.log is pointed at the engine so progress lines show in `pulumi up`.
 */
export async function serve(provider: TesseractProvider, args: string[]): Promise<void> {
  connectLog(args);
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (this: import("@grpc/grpc-js").Server, service, implementation) {
    const impl =
      service === provrpc.ResourceProviderService
        ? extend(implementation as unknown as Record<string, unknown>, provider)
        : implementation;
    return addService.call(this, service, impl as typeof implementation);
  };
  const { main } = pulumiRequire("@pulumi/pulumi/provider") as typeof import("@pulumi/pulumi/provider");
  try {
    await main(provider, args);
  } finally {
    grpc.Server.prototype.addService = addService;
  }
}

/** The engine address is the first argument that is not a flag. */
function connectLog(args: string[]): void {
  const engineAddr = args.find((a) => /^[\w.-]+:\d+$/.test(a));
  if (!engineAddr) return;
  try {
    const state = pulumiRequire("@pulumi/pulumi/runtime/state") as {
      getStore(): { settings: { options: { engineAddr?: string } } };
    };
    state.getStore().settings.options.engineAddr = engineAddr;
  } catch {
    // progress then goes to stderr, which the engine also shows
  }
}
