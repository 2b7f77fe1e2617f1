/** Validated TesseractService inputs for unit tests (service `svc` of stack `dev`, project `proj`). */
import assert from "node:assert/strict";
import { type ServiceInputs, validateInputs } from "../../provider/serve/args";

export function serviceInputsOf(raw: Record<string, unknown>): ServiceInputs {
  const { inputs, failures } = validateInputs(
    { serviceName: "svc", stack: "dev", project: "proj", ...raw },
    new Set(),
    process.cwd(),
  );
  assert.ok(inputs, JSON.stringify(failures));
  return inputs;
}
