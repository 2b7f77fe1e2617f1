/**
 * Task groups of the origins TaskGroup does not create itself, read faithfully.
 *
 * `pixi` groups are collected through fractal-server's `POST /api/v2/task/collect/pixi/` (a
 * `{pkg}-{version}.tar.gz` solved by pixi against conda channels). No pixi binary and no conda
 * channel are reachable where this provider runs its tests, so creating one is refused at `check`;
 * a pixi group someone collected on the server is adopted by a `pixi` input only when it matches
 * exactly (package, version, pixi version if given), and reads back with `origin: "pixi"`.
 */
import type { FractalClient, TaskGroupListItem, TaskGroupRead } from "./client";
import { normalizePackageName } from "./validators";

/** The `pixi` input: which server group to adopt. */
export interface PixiSpec {
  package: string;
  version: string;
  pixiVersion?: string;
}

/** The refusal for creating pixi groups (local backend, or none on the server to adopt). */
export function pixiCreateRefusal(spec: PixiSpec, where: "local" | "server", url?: string): string {
  const id = `${normalizePackageName(spec.package)}==${spec.version}`;
  const base =
    "creating pixi task groups is not supported (it needs a pixi binary and conda channels, which are not reachable here)";
  return where === "local"
    ? `${base}; the local backend cannot adopt one either. Use the server backend to adopt a pixi group collected through fractal-server's /api/v2/task/collect/pixi/`
    : `${base}, and ${url ?? "the server"} has no pixi group ${id} of this user to adopt: collect it through fractal-server's /api/v2/task/collect/pixi/ (fractal web or client) first, then this resource adopts it`;
}

/** Why a server group does not match the spec exactly (empty when it does). */
export function pixiMismatches(g: Pick<TaskGroupRead, "origin" | "pixi_version">, spec: PixiSpec): string[] {
  const out: string[] = [];
  if (g.origin !== "pixi") out.push(`origin: server has ${g.origin}, wanted pixi`);
  if (spec.pixiVersion !== undefined && (g.pixi_version ?? null) !== spec.pixiVersion)
    out.push(
      `pixi_version: server has ${JSON.stringify(g.pixi_version ?? null)}, wanted ${JSON.stringify(spec.pixiVersion)}`,
    );
  return out;
}

/** The user's own group with this (pkg_name, version), if any. */
export async function findOwnedGroup(
  client: FractalClient,
  pkgName: string,
  version: string,
): Promise<TaskGroupListItem | undefined> {
  const me = await client.currentUser();
  return (await client.taskGroups()).find(
    (g) => g.pkg_name === pkgName && (g.version ?? undefined) === version && (g.user_email ?? me.email) === me.email,
  );
}

/**
 * The pixi group to adopt: `{ group }` on an exact match, `{ problem }` otherwise (no such group,
 * or one that differs).
 */
export async function findPixiGroup(
  client: FractalClient,
  spec: PixiSpec,
  url: string,
): Promise<{ group?: TaskGroupRead; problem?: string }> {
  const pkgName = normalizePackageName(spec.package);
  const slim = await findOwnedGroup(client, pkgName, spec.version);
  if (!slim) return { problem: pixiCreateRefusal(spec, "server", url) };
  const g = await client.taskGroup(slim.id);
  if (!g) return { problem: pixiCreateRefusal(spec, "server", url) };
  const mismatches = pixiMismatches(g, spec);
  if (mismatches.length)
    return {
      problem: `task group ${g.id} (${pkgName}==${spec.version}) on ${url} is not the pixi group asked for (${mismatches.join("; ")}); it is adopted only on an exact match`,
    };
  return { group: g };
}
