// The resources' definitions (provider/resources/definitions/) against what derives from them at
// run time: the plugin schema's outputs are the definitions' output lists, its secret and
// replace-on-change properties are the definitions' lists; and the output added as the proof of
// "one edit in the definition" (TaskGroup `serverUrl`, DEVELOPING.md "A resource's definition, end
// to end") reaches the schema and is filled by the state the backends return. The type-level ties
// (zod schema, output fields, state) are compile-time checks in the definitions themselves.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secretTopKeys } from "../../provider/common/secrets";
import { groupOutputs } from "../../provider/fractal/backend";
import type { GroupState } from "../../provider/fractal/group-state";
import { SCHEMA } from "../../provider/plugin/schema.generated";
import * as taskGroup from "../../provider/resources/definitions/task-group";
import * as image from "../../provider/resources/definitions/tesseract-image";
import * as service from "../../provider/resources/definitions/tesseract-service";
import { INTERNAL_SERVICE_OUTPUTS, SERVICE_OUTPUT_KEYS } from "../../provider/serve/serve-target";

type Prop = { type?: string; description?: string; secret?: boolean; replaceOnChanges?: boolean };
type Res = { properties: Record<string, Prop>; required: string[]; inputProperties: Record<string, Prop> };
const resources = SCHEMA.resources as unknown as Record<string, Res>;

const DEFINED = [
  {
    token: "tesseract:index:TaskGroup",
    outputs: taskGroup.TASK_GROUP_OUTPUTS,
    secrets: taskGroup.TASK_GROUP_SECRETS,
    replaces: taskGroup.TASK_GROUP_REPLACE_ON_CHANGES.filter(
      (k) => !(taskGroup.TASK_GROUP_DERIVED_INPUTS as readonly string[]).includes(k),
    ),
  },
  {
    token: "tesseract:index:TesseractImage",
    outputs: image.TESSERACT_IMAGE_OUTPUTS,
    secrets: image.TESSERACT_IMAGE_SECRETS,
    replaces: [],
  },
  {
    token: "tesseract:index:TesseractService",
    // The targets' output keys but the internal ones, then `endpoint` (a field the class computes).
    outputs: [
      ...SERVICE_OUTPUT_KEYS.filter((k) => !(INTERNAL_SERVICE_OUTPUTS as readonly string[]).includes(k)),
      "endpoint",
    ],
    secrets: service.TESSERACT_SERVICE_SECRETS,
    // Nothing replaces on every target (the diff decides per target).
    replaces: [],
  },
];

describe("resource definitions", () => {
  for (const d of DEFINED) {
    const r = resources[d.token];
    it(`${d.token}: the schema's outputs are the definition's, every other property an input`, () => {
      const outputs = Object.keys(r.properties).filter(
        (k) => !(k in r.inputProperties) || d.outputs.includes(k as never),
      );
      assert.deepEqual([...outputs].sort(), [...d.outputs].sort());
      for (const k of Object.keys(r.properties)) assert.ok(d.outputs.includes(k as never) || k in r.inputProperties, k);
    });

    it(`${d.token}: the schema's secret and replace-on-change inputs are the definition's`, () => {
      const secret = Object.keys(r.inputProperties).filter((k) => r.inputProperties[k].secret);
      assert.deepEqual(secret.sort(), [...secretTopKeys(d.secrets)].sort());
      const replaces = Object.keys(r.properties).filter((k) => r.properties[k].replaceOnChanges);
      assert.deepEqual(replaces.sort(), [...d.replaces].sort());
    });
  }

  it("TaskGroup `serverUrl` (the output added as one edit): in the schema, optional, filled from the server's URL", () => {
    const r = resources["tesseract:index:TaskGroup"];
    assert.equal(r.properties.serverUrl.type, "string");
    assert.match(r.properties.serverUrl.description ?? "", /fractal-server the group lives on/);
    assert.ok(!r.required.includes("serverUrl"));
    assert.ok(!("serverUrl" in r.inputProperties));
    const state: GroupState = { origin: "pypi", pkgName: "pkg", active: true, tasks: [], activityLog: "" };
    const inputs = { active: true, backend: "auto" as const };
    const creds = { url: "http://127.0.0.1:8000", email: "a@b.c", password: "p" };
    assert.equal(groupOutputs(inputs, state, "server", creds).serverUrl, "http://127.0.0.1:8000");
    assert.equal(groupOutputs(inputs, state, "local").serverUrl, undefined);
  });
});
