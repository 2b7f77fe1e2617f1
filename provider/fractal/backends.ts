import { type CheckedInputs, resolveBackend, type TaskGroupBackend, type TaskGroupOutputs } from "./backend";
import { LocalBackend } from "./local-backend";
import { ServerBackend } from "./server-backend";

const backends: Record<"server" | "local", TaskGroupBackend> = {
  server: new ServerBackend(),
  local: new LocalBackend(),
};

/** The backend a new group's inputs ask for (`backend`, else a server when one is configured). */
export function backendFor(inputs: Pick<CheckedInputs, "backend" | "server">): TaskGroupBackend {
  return backends[resolveBackend(inputs)];
}

/** The backend an existing group lives on. */
export function backendOf(state: Pick<TaskGroupOutputs, "resolvedBackend">): TaskGroupBackend {
  return backends[state.resolvedBackend];
}
