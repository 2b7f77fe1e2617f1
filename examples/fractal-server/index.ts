// Example stack: Fractal task collection on a real fractal-server (server backend).
//   bash scripts/fractal-server.sh start          # or any fractal-server >= 2.24, < 2.27
//   cd examples/fractal-server && pulumi stack init dev
//   pulumi config set fractal:url http://127.0.0.1:18770
//   pulumi config set fractal:email admin@example.org
//   pulumi config set fractal:password --secret "$(cat ~/.cache/pulumi-tesseract/fractal-server-2.26.0/admin-password)"
//   pulumi up
import * as pulumi from "@pulumi/pulumi";
import { TaskGroup } from "pulumi-tesseract";

const config = new pulumi.Config("example");

// A real task package from the Python package index, collected by the server.
const mock = new TaskGroup("testing-tasks-mock", {
  pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
  // Flip to false and `pulumi up` again: the server removes the venv and keeps the pip freeze.
  active: config.getBoolean("active") ?? true,
  privateGroup: true,
});

// A local wheel, uploaded to the server (build one with `python -m build --wheel`).
const wheel = config.get("wheelFile");
const fromWheel = wheel ? new TaskGroup("local-wheel", { pip: { wheelFile: wheel } }) : undefined;

// The same package, collected on this machine instead (no server involved).
const local = new TaskGroup("testing-tasks-mock-local", {
  pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
  backend: "local",
});

export const serverTaskGroupId = mock.taskGroupId;
export const serverTasks = mock.tasks.apply((ts) => ts.map((t) => `${t.name} (${t.type})`));
export const serverVenv = mock.venvPath;
export const wheelTasks = fromWheel?.tasks.apply((ts) => ts.map((t) => t.name));
export const localVenv = local.venvPath;
export const localCommands = local.tasks.apply((ts) => ts.map((t) => t.commandNonParallel ?? t.commandParallel));
