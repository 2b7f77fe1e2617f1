/**
 * TaskGroup with a bearer token, through the real Pulumi engine (Automation API, file backend),
 * against a real fractal-server of its own (test/helpers/fractal-token-server.ts: the shared test
 * PostgreSQL, its own port and database) that first runs with password login, gives a token by its
 * own `POST /auth/token/login/`, then is restarted with `FRACTAL_DISABLE_BASIC_AUTH=true` (same JWT
 * secret, `JWT_EXPIRE_SECONDS` 7200). Then: the login route is gone and email/password fail with a
 * clear error; a wheel collected with `server.token` and a custom group with the stack's
 * `fractal:token` are deactivated in place and destroyed, the token never in plain text in the
 * state; an expired token (signed by the server's secret, as its JWT strategy does) and a token
 * that is no JWT fail with the clear error and leave nothing on the server. The provider plugin
 * (real CLI, YAML) takes `tesseract:fractalToken` and a per-resource `server.token` alike.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { FractalClient, FractalLoginError } from "../../provider/fractal/client";
import { TaskGroup } from "../../provider/resources/task-group";
import { buildFixtureWheel, REPO_ROOT } from "../helpers/fractal-server";
import { TokenFractalServer } from "../helpers/fractal-token-server";
import { CliProject } from "../helpers/plugin-cli";
import { createTestStack, type TestStack } from "../helpers/stack";

const FIXTURE_PKG = "pt-fractal-tasks";
const CUSTOM_LABEL = "pt-custom-token-tasks";
const YAML_LABELS = ["pt-yaml-token-config", "pt-yaml-token-input"];

function build(): void {
  // Shims load lib/: compile first (type errors elsewhere in the repo do not block emit).
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "pipe", timeout: 300_000 });
  } catch {
    // emitted anyway; the tests below fail loudly if lib/ is unusable
  }
}

/** `pulumi stack export` as a user runs it (the Automation API's exportStack adds --show-secrets). */
function stackExport(ts: TestStack): string {
  return execFileSync("pulumi", ["stack", "export", "--stack", ts.stack.name], {
    cwd: ts.stack.workspace.workDir,
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("TaskGroup with a bearer token (fractal-server without password login)", { timeout: 1_500_000 }, () => {
  let srv: TokenFractalServer | undefined;
  let token: string;
  let userId: number;
  let wheel: string;
  const stacks: TestStack[] = [];
  const projects: CliProject[] = [];
  const customRoot = path.join(REPO_ROOT, "test/helpers/fixtures/fractal-tasks/src/pt_fractal_tasks");

  /** The groups of the test's packages on the server, read with the good token. */
  const groupsLeft = async () =>
    (await new FractalClient({ url: (srv as TokenFractalServer).url, token }).taskGroups()).filter((g) =>
      [FIXTURE_PKG, CUSTOM_LABEL, ...YAML_LABELS].includes(g.pkg_name),
    );

  before(async () => {
    build();
    wheel = buildFixtureWheel();
    srv = await TokenFractalServer.start();
    // A real token, from the server's own password login.
    token = await srv.login();
    userId = (await new FractalClient({ url: srv.url, token }).currentUser()).id;
    srv.restartWithoutBasicAuth();
  });

  after(async () => {
    for (const s of stacks) await s.dispose();
    for (const p of projects) await p.dispose();
    srv?.dispose();
  });

  it("the login route is gone: email/password fail with a clear error; the token still works", async () => {
    const s = srv as TokenFractalServer;
    const res = await s.postLogin();
    assert.ok([404, 405].includes(res.status), `login route answered ${res.status}: ${res.body}`);
    const c = s.credentials;
    const err = await new FractalClient({ url: c.url, email: c.email, password: c.password }).currentUser().then(
      () => assert.fail("password login accepted"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FractalLoginError, String(err));
    assert.equal(err.property, "server.token");
    assert.match(err.message, /has no password login .*FRACTAL_DISABLE_BASIC_AUTH=true/);
    assert.match(err.hint ?? "", /server\.token/);
    assert.ok(!err.message.includes(c.password));
    const me = await new FractalClient({ url: s.url, token }).currentUser();
    assert.equal(me.email, c.email, "the token issued before the restart is accepted");
  });

  it("collects with server.token and fractal:token, deactivates in place, destroys", async () => {
    const s = srv as TokenFractalServer;
    let active = true;
    const program = async () => {
      const byInput = new TaskGroup("by-token", {
        pip: { wheelFile: wheel },
        server: { url: s.url, token: pulumi.secret(token) },
        active,
      });
      // No `server` input: the stack's fractal:url and fractal:token.
      const byConfig = new TaskGroup("by-config-token", {
        custom: {
          manifest: path.join(customRoot, "__FRACTAL_MANIFEST__.json"),
          pythonInterpreter: path.join(process.env.PULUMI_TESSERACT_VENV as string, "bin", "python"),
          label: CUSTOM_LABEL,
          packageRoot: customRoot,
          version: "0.1.0",
        },
        active,
      });
      return {
        id: byInput.taskGroupId,
        tasks: byInput.tasks,
        active: byInput.active,
        path: byInput.path,
        customId: byConfig.taskGroupId,
        customActive: byConfig.active,
      };
    };
    const ts = await createTestStack("fractal-token", program, {
      "fractal:url": { value: s.url },
      "fractal:token": { value: token, secret: true },
    });
    stacks.push(ts);
    const out = () => ts.output.join("");
    const up1 = await ts.stack.up({ onOutput: (x) => ts.output.push(x) });
    assert.equal(up1.outputs.active.value, true);
    assert.equal(up1.outputs.tasks.value.length, 2);
    assert.equal(up1.outputs.customActive.value, true);
    const groups = await groupsLeft();
    assert.deepEqual(groups.map((g) => g.pkg_name).sort(), [CUSTOM_LABEL, FIXTURE_PKG]);
    assert.ok(existsSync(path.join(up1.outputs.path.value, "venv")), "the server made the venv");

    const exported = stackExport(ts);
    assert.ok(!exported.includes(token), "token in plain text in stack export");
    assert.ok(exported.includes("ciphertext"), "the token is stored encrypted");

    active = false;
    const up2 = await ts.stack.up({ onOutput: (x) => ts.output.push(x) });
    assert.equal(up2.summary.resourceChanges?.update, 2, JSON.stringify(up2.summary.resourceChanges));
    assert.equal(up2.outputs.id.value, up1.outputs.id.value, "same group");
    assert.equal(up2.outputs.active.value, false);
    assert.equal(up2.outputs.customActive.value, false);
    assert.deepEqual(
      (await groupsLeft()).map((g) => g.active),
      [false, false],
    );

    await ts.stack.destroy({ onOutput: (x) => ts.output.push(x) });
    assert.deepEqual(await groupsLeft(), [], "no group left on the server");
    assert.ok(!existsSync(up1.outputs.path.value), "server folder removed");
    assert.ok(!out().includes(token), "token in the engine's output");
  });

  it("an expired token and a token that is no JWT: a clear error, nothing left behind", async () => {
    const s = srv as TokenFractalServer;
    const expired = s.expiredToken(userId);
    let given = expired;
    const ts = await createTestStack("fractal-token-expired", async () => {
      new TaskGroup("expired", { pip: { wheelFile: wheel }, server: { url: s.url, token: pulumi.secret(given) } });
    });
    stacks.push(ts);
    for (const t of [expired, `not-a-jwt-${process.pid}-token`]) {
      given = t;
      const err = await ts.stack.up({ onOutput: (x) => ts.output.push(x) }).then(
        () => assert.fail("up accepted the token"),
        (e: Error) => e,
      );
      const text = `${err.message}\n${ts.output.join("")}`;
      assert.match(text, /refused the bearer token \(401: Unauthorized\): it is invalid or has expired/);
      assert.match(text, /give a new token: set server\.token .*JWT_EXPIRE_SECONDS/);
      assert.ok(!text.includes(t), "the token appears in the error or the engine's output");
      assert.deepEqual(await groupsLeft(), [], "nothing collected");
      const exported = stackExport(ts);
      assert.ok(!exported.includes(t), "token in plain text in stack export");
      const state = JSON.parse(exported) as { deployment: { resources?: { type: string }[] } };
      assert.deepEqual(
        (state.deployment.resources ?? []).filter((r) => r.type.endsWith("TaskGroup")),
        [],
        "no TaskGroup recorded",
      );
    }
  });

  it("the provider plugin (YAML): tesseract:fractalToken and server.token", async () => {
    const s = srv as TokenFractalServer;
    const project = new CliProject("pt-plugin-token", `token-${process.pid}`);
    projects.push(project);
    const y = JSON.stringify;
    const custom = (label: string) => `
      custom:
        manifest: ${y(path.join(customRoot, "__FRACTAL_MANIFEST__.json"))}
        pythonInterpreter: ${y(path.join(process.env.PULUMI_TESSERACT_VENV as string, "bin", "python"))}
        label: ${label}
        packageRoot: ${y(customRoot)}
        version: "0.1.0"`;
    project.write(
      "Pulumi.yaml",
      `name: pt-plugin-token
runtime: yaml
config:
  groupToken:
    type: string
resources:
  byConfig:
    type: tesseract:index:TaskGroup
    properties:${custom(YAML_LABELS[0])}
  byInput:
    type: tesseract:index:TaskGroup
    properties:${custom(YAML_LABELS[1])}
      server:
        url: ${y(s.url)}
        token: \${groupToken}
outputs:
  configId: \${byConfig.taskGroupId}
  inputId: \${byInput.taskGroupId}
`,
    );
    await project.ok(["stack", "init", project.stack]);
    await project.ok(["config", "set", "tesseract:fractalUrl", s.url]);
    await project.ok(["config", "set", "--secret", "tesseract:fractalToken", token]);
    await project.ok(["config", "set", "--secret", "groupToken", token]);
    const up = await project.ok(["up", "--yes", "--skip-preview"]);
    assert.ok(!up.all.includes(token), "token in the CLI's output");
    const outs = await project.outputs();
    assert.ok(outs.configId > 0 && outs.inputId > 0, JSON.stringify(outs));
    assert.deepEqual((await groupsLeft()).map((g) => g.pkg_name).sort(), YAML_LABELS);
    const exported = (await project.ok(["stack", "export"])).stdout;
    assert.ok(!exported.includes(token), "token in plain text in stack export");
    await project.ok(["destroy", "--yes", "--skip-preview"]);
    assert.deepEqual(await groupsLeft(), [], "no group left on the server");
  });
});
