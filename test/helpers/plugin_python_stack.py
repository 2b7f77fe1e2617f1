"""A Python stack on the generated SDK (pulumi_tesseract) through Pulumi's Automation API.

Usage: python plugin_python_stack.py < spec.json
spec: {"srcDir", "tag", "run", "caCertificates" (or null), "workDir", "stack"}
Runs an inline program (build the hello Tesseract, serve it, call `apply` on it) with `up`, then
`preview` (must show no changes) and `destroy`, and prints one JSON line with what it saw. The
`tesseract` provider plugin must be on PATH (bin/pulumi-resource-tesseract).
"""

import json
import sys

import pulumi
import pulumi_tesseract as tesseract
from pulumi import automation as auto

spec = json.load(sys.stdin)
labels = {"pulumi-tesseract.test": spec["run"]}


def program() -> None:
    image = tesseract.TesseractImage(
        "hello",
        src_dir=spec["srcDir"],
        tag=spec["tag"],
        build_network="host",
        ca_certificates=spec.get("caCertificates"),
        labels=labels,
    )
    service = tesseract.TesseractService("hello", image=image.image_name, labels=labels, startup_timeout=180)
    result = tesseract.apply_output(url=service.url, inputs={"name": "python"})
    pulumi.export("imageName", image.image_name)
    pulumi.export("imageId", image.image_id)
    pulumi.export("containerIds", service.container_ids)
    pulumi.export("greeting", result.outputs.apply(lambda o: o["greeting"]))


stack = auto.create_or_select_stack(
    stack_name=spec["stack"],
    project_name="pt-plugin-python",
    program=program,
    opts=auto.LocalWorkspaceOptions(work_dir=spec["workDir"]),
)
seen = {}
try:
    up = stack.up(on_output=lambda line: print(line, file=sys.stderr))
    seen["up"] = {k: v.value for k, v in up.outputs.items()}
    preview = stack.preview(on_output=lambda line: print(line, file=sys.stderr))
    seen["previewChanges"] = {k: v for k, v in preview.change_summary.items() if k != "same"}
finally:
    stack.destroy(on_output=lambda line: print(line, file=sys.stderr))
    stack.workspace.remove_stack(spec["stack"])
seen["destroyed"] = True
print(json.dumps(seen))
