/**
 * `pulumi import tesseract:index:TaskGroup <name> <taskGroupId>`: adopts a task group collected on
 * the fractal-server of the provider configuration (`tesseract:fractalUrl`, and `fractalEmail` +
 * `fractalPassword` or a bearer `fractalToken`). The inputs are rebuilt from the server's task-group record and checked as
 * `check` does; the state is what a create of them stores (the record, the freeze of its collection
 * activity), passed through the server backend's `read`, so the generated code previews with no changes.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { UserError } from "../common/errors";
import { type CheckedInputs, groupOutputs } from "../fractal/backend";
import { FractalClient, type ServerCredentials, type TaskGroupRead } from "../fractal/client";
import { providerConfig } from "../fractal/config";
import { serverRecordedFreeze } from "../fractal/drift-repair";
import { ServerBackend, stateFromRead } from "../fractal/server-backend";
import * as taskGroupImpl from "../resources/task-group-impl";

/** The TaskGroup inputs a pip group on the server was collected with. */
function inputsFromRead(g: TaskGroupRead): Record<string, unknown> {
  if (g.origin !== "pypi")
    throw new UserError(
      `TaskGroup import: task group ${g.id} (${g.pkg_name}==${g.version ?? "?"}) has origin "${g.origin}"; only groups collected from a package index (origin "pypi") can be imported by ID, since a wheel file, a custom manifest or a pixi archive lives on the server and not in the program`,
    );
  const pip: Record<string, unknown> = { package: g.pkg_name };
  if (g.version) pip.packageVersion = g.version;
  if (g.pip_extras) pip.packageExtras = g.pip_extras;
  if (Object.keys(g.pinned_package_versions_pre ?? {}).length)
    pip.pinnedPackageVersionsPre = g.pinned_package_versions_pre;
  if (Object.keys(g.pinned_package_versions_post ?? {}).length)
    pip.pinnedPackageVersionsPost = g.pinned_package_versions_post;
  if (g.python_version) pip.pythonVersion = g.python_version;
  const raw: Record<string, unknown> = { pip, backend: "server", active: g.active };
  // No user group: the group is private to its owner; otherwise keep the group it is shared with.
  if (g.user_group_id === null || g.user_group_id === undefined) raw.privateGroup = true;
  else raw.userGroupId = g.user_group_id;
  return raw;
}

/** Reads task group `<id>` on the configured server; `{ id: "" }` when the server has none. */
export async function importServerTaskGroup(id: string): Promise<provider.ReadResult> {
  const c = providerConfig();
  const missing = c.url ? [] : ["fractalUrl"];
  if (!c.token)
    missing.push(
      ...(["email", "password"] as const).filter((k) => !c[k]).map((k) => `fractal${k[0].toUpperCase()}${k.slice(1)}`),
    );
  if (missing.length)
    throw new UserError(
      `TaskGroup import of server task group ${id} needs tesseract:${missing.join(", tesseract:")} (or tesseract:fractalToken, a bearer token, instead of the email and password) in the stack config (pulumi config set tesseract:fractalPassword --secret ...)`,
    );
  if (c.token && (c.email || c.password))
    throw new UserError(
      `TaskGroup import of server task group ${id}: the stack config sets both tesseract:fractalToken and tesseract:fractalEmail/fractalPassword; keep one`,
    );
  const creds: ServerCredentials = c.token
    ? { url: c.url as string, token: c.token }
    : { url: c.url as string, email: c.email as string, password: c.password as string };
  const client = new FractalClient(creds);
  const g = await client.taskGroup(Number(id));
  if (!g) return { id: "", props: {} };
  const checked = await taskGroupImpl.check(undefined, inputsFromRead(g));
  if (checked.failures?.length)
    throw new UserError(
      `TaskGroup import: task group ${id} on ${creds.url} gives inputs a TaskGroup does not accept:\n${checked.failures.map((f) => `  - ${f.reason}`).join("\n")}`,
    );
  const inputs = checked.inputs as CheckedInputs;
  const envInfo = await serverRecordedFreeze(client, g);
  // With a token, the group's owner as the server names it (what a create records as serverEmail).
  const owner = creds.email ?? (await client.currentUser()).email;
  const created = groupOutputs(
    inputs,
    stateFromRead(g, "imported"),
    "server",
    { url: creds.url, email: owner },
    envInfo,
  );
  const backend = new ServerBackend();
  const props = (await backend.read(created)) ?? created;
  return { id: backend.idOf(props), props: props as unknown as Record<string, unknown>, inputs: { ...inputs } };
}
