import * as pulumi from "@pulumi/pulumi";

/**
 * What a lifecycle module (`lib/resources/<name>-impl.js`) exports. The names are part of the
 * stack state's contract: providers serialized by older versions call them by name.
 */
export interface Lifecycle<Inputs, Outputs> {
  /** Receives the stack configuration (only TaskGroup needs it). */
  configure?(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
  check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>>;
  diff(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>>;
  read(id: string, props: Outputs): Promise<pulumi.dynamic.ReadResult<Outputs>>;
  update(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>>;
  remove(id: string, props: Outputs): Promise<void>;
}

/**
 * The provider object Pulumi serializes into the state of a dynamic resource. `load` must be an
 * arrow that only does `require("pulumi-tesseract/lib/resources/<name>-impl.js")`: the methods load
 * the lifecycle module by package name in the provider process at call time, so no schema, pool
 * or closure state is captured, and fixes reach existing resources (including their delete).
 */
export function dynamicProvider<Inputs, Outputs>(
  load: () => Lifecycle<Inputs, Outputs>,
): pulumi.dynamic.ResourceProvider<Inputs, Outputs> {
  return {
    configure: async (req) => {
      await load().configure?.(req);
    },
    check: (olds, news) => load().check(olds, news),
    diff: (id, olds, news) => load().diff(id, olds, news),
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read(id, props as Outputs),
    update: (id, olds, news) => load().update(id, olds, news),
    delete: (id, props) => load().remove(id, props),
  };
}

/**
 * The resource's own URN, as the hidden input `__urn` (resource-context.ts): the dynamic-provider
 * process is not told which resource it creates, and needs to know to attach progress lines to
 * the resource's row and to derive per-stack defaults. Computed like `pulumi.createUrn`, but
 * without depending on the parent (a component parent's dependencies are its children, this
 * resource among them), so it never delays or cycles. The lifecycle strips it before validation
 * and diff: it never triggers a change.
 */
export function urnInput(
  name: string,
  module: string,
  type: string,
  opts: pulumi.CustomResourceOptions | undefined,
): pulumi.Input<string> {
  const own = `pulumi-nodejs:dynamic/${module}:${type}::${name}`;
  const root = `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::`;
  const parent = opts?.parent;
  if (!parent) return `${root}${own}`;
  return new Promise<string>((resolve) => {
    parent.urn.apply((urn) => {
      const prefix = `${urn.substring(0, urn.lastIndexOf("::"))}$`;
      resolve(prefix.endsWith("::pulumi:pulumi:Stack$") ? `${root}${own}` : `${prefix}${own}`);
    });
  });
}
