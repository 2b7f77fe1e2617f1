"""The listing, run and test functions from the generated Python SDK (pulumi_tesseract) through
Pulumi's Automation API.

Usage: python plugin_python_functions.py < spec.json
spec: {"image", "run", "testsDir", "workDir", "stack", "token"}
Runs an inline program that serves `image` (debug on) and calls `run_tesseract`,
`get_tesseract_images`, `get_tesseract_containers`, `get_tesseract_service_logs` and
`run_tesseract_tests` on it (plain and `_output` forms), with `up`, then `destroy`, and prints one
JSON line with the outputs and which of them are secret. The `tesseract` provider plugin must be
on PATH (bin/pulumi-resource-tesseract).
"""

import json
import sys

import pulumi
import pulumi_tesseract as tesseract
from pulumi import automation as auto

spec = json.load(sys.stdin)
labels = {"pulumi-tesseract.test": spec["run"]}


def program() -> None:
    service = tesseract.TesseractService("svc", image=spec["image"], debug=True, labels=labels, startup_timeout=180)
    # The plain form runs while the program runs; the _output forms wait for their inputs.
    ran = tesseract.run_tesseract(
        image=spec["image"], command="apply", args=[json.dumps({"inputs": {"name": "python"}})], labels=labels
    )
    secret = tesseract.run_tesseract_output(
        image=spec["image"],
        command="apply",
        args=[json.dumps({"inputs": {"name": "secret"}})],
        environment={"TOKEN": pulumi.Output.secret(spec["token"])},
        labels=labels,
    )
    images = tesseract.get_tesseract_images()
    containers = tesseract.get_tesseract_containers_output()
    logs = tesseract.get_tesseract_service_logs_output(container_ids=service.container_ids, tail=50)
    tests = tesseract.run_tesseract_tests_output(url=service.url, dir=spec["testsDir"])
    pulumi.export("containerIds", service.container_ids)
    pulumi.export("ranStdout", ran.stdout)
    pulumi.export("ranExitCode", ran.exit_code)
    pulumi.export("secretStdout", secret.stdout)
    pulumi.export("imageTags", [t for i in images.images for t in i.tags])
    pulumi.export(
        "containers",
        containers.containers.apply(
            lambda cs: [{"id": c.id, "startedBy": c.started_by, "owner": c.owner} for c in cs]
        ),
    )
    pulumi.export("logNames", logs.logs.apply(lambda ls: [entry.name for entry in ls]))
    pulumi.export("logText", logs.logs.apply(lambda ls: "".join(entry.logs for entry in ls)))
    pulumi.export("testsOk", tests.ok)
    pulumi.export("testsPassed", tests.passed)
    pulumi.export("testCases", tests.cases.apply(lambda cs: [{"file": c.file, "status": c.status} for c in cs]))


stack = auto.create_or_select_stack(
    stack_name=spec["stack"],
    project_name="pt-plugin-python-functions",
    program=program,
    opts=auto.LocalWorkspaceOptions(work_dir=spec["workDir"]),
)
seen = {}
try:
    up = stack.up(on_output=lambda line: print(line, file=sys.stderr))
    seen["up"] = {k: v.value for k, v in up.outputs.items()}
    seen["secret"] = sorted(k for k, v in up.outputs.items() if v.secret)
finally:
    stack.destroy(on_output=lambda line: print(line, file=sys.stderr))
    stack.workspace.remove_stack(spec["stack"])
seen["destroyed"] = True
print(json.dumps(seen))
