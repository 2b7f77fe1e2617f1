/** Validated TesseractService inputs for unit tests (service `svc` of stack `dev`, project `proj`). */
import assert from "node:assert/strict";
import { type ServiceInputs, validateInputs } from "../../provider/serve/args";
import type { ContainerServiceInputs } from "../../provider/serve/container-state";

export function serviceInputsOf(raw: Record<string, unknown>): ServiceInputs {
  const { inputs, failures } = validateInputs(
    { serviceName: "svc", stack: "dev", project: "proj", ...raw },
    new Set(),
    process.cwd(),
  );
  assert.ok(inputs, JSON.stringify(failures));
  return inputs;
}

/** Validated inputs of a service on a Docker engine (no `kubernetes`): the container target's inputs. */
export function containerInputsOf(raw: Record<string, unknown>): ContainerServiceInputs {
  const { kubernetes, slurm, ...inputs } = serviceInputsOf(raw);
  assert.equal(kubernetes, undefined, "containerInputsOf: a service with `kubernetes` is not the container target's");
  assert.equal(slurm, undefined, "containerInputsOf: a service with `slurm` is not the container target's");
  return inputs;
}
