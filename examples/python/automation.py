"""Runs stack.py through Pulumi's Automation API (inline program; no Python language host needed):

    python automation.py [up|preview|refresh|destroy] [--stack NAME]

Needs `pulumi` (CLI) and `pulumi-resource-tesseract` on PATH, and `pip install pulumi
pulumi_tesseract` (scripts/setup.sh builds the wheel; see the README).
"""

import argparse
import os
import sys

from pulumi import automation as auto

import stack

HERE = os.path.dirname(os.path.abspath(__file__))

parser = argparse.ArgumentParser()
parser.add_argument("command", nargs="?", default="up", choices=["up", "preview", "refresh", "destroy"])
parser.add_argument("--stack", default="dev")
args = parser.parse_args()

workspace_stack = auto.create_or_select_stack(
    stack_name=args.stack,
    project_name="tesseract-python",
    program=stack.program,
    opts=auto.LocalWorkspaceOptions(work_dir=HERE),
)
run = getattr(workspace_stack, args.command)
result = run(on_output=print)
if args.command == "up":
    for key, value in result.outputs.items():
        print(f"{key}: {value.value}", file=sys.stderr)
