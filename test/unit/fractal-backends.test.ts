/**
 * Which Fractal backend a TaskGroup uses: `backend` when given, else a server when one is given
 * (the `server` input or the `fractal:url` stack config), else local collection; an existing
 * group stays on the backend it was collected on.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { backendFor, backendOf } from "../../provider/fractal/backends";
import { LocalBackend } from "../../provider/fractal/local-backend";
import { ServerBackend } from "../../provider/fractal/server-backend";

const server = { url: "http://127.0.0.1:8000", email: "admin@example.org", password: "secret" };
const saved = process.env.PULUMI_CONFIG;
afterEach(() => {
  if (saved === undefined) delete process.env.PULUMI_CONFIG;
  else process.env.PULUMI_CONFIG = saved;
});

test("auto without a server: local", () => {
  delete process.env.PULUMI_CONFIG;
  assert.ok(backendFor({ backend: "auto" }) instanceof LocalBackend);
});

test("auto with a server input: server", () => {
  delete process.env.PULUMI_CONFIG;
  assert.ok(backendFor({ backend: "auto", server }) instanceof ServerBackend);
});

test("auto with fractal:url in the stack config: server", () => {
  process.env.PULUMI_CONFIG = JSON.stringify({ "fractal:url": server.url });
  assert.ok(backendFor({ backend: "auto" }) instanceof ServerBackend);
});

test("an explicit backend wins over the configuration", () => {
  process.env.PULUMI_CONFIG = JSON.stringify({ "fractal:url": server.url });
  assert.ok(backendFor({ backend: "local", server }) instanceof LocalBackend);
  delete process.env.PULUMI_CONFIG;
  assert.ok(backendFor({ backend: "server" }) instanceof ServerBackend);
});

test("an existing group stays on its backend", () => {
  assert.equal(backendOf({ resolvedBackend: "server" }).kind, "server");
  assert.equal(backendOf({ resolvedBackend: "local" }).kind, "local");
});

test("ids name the backend and the group", () => {
  const outs = { serverUrl: server.url, taskGroupId: 7, path: "/tasks/pkg/1.0", pkgName: "pkg", version: "1.0" };
  assert.equal(backendOf({ resolvedBackend: "server" }).idOf(outs as never), `fractal:${server.url}:7`);
  assert.equal(backendOf({ resolvedBackend: "local" }).idOf(outs as never), "local:/tasks/pkg/1.0");
});
