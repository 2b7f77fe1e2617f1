"""Runs stack.py through Pulumi's Automation API (an inline program: no Python language host needed).

    python automation.py [up|preview|refresh|destroy] [--stack NAME] [--expect-no-changes]

How to install what it needs and run it: README.md ("Run").
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
parser.add_argument(
    "--expect-no-changes", action="store_true", help="fail when the plan has changes (preview, up, refresh)"
)
args = parser.parse_args()

workspace_stack = auto.create_or_select_stack(
    stack_name=args.stack,
    project_name="tesseract-python",
    program=stack.program,
    opts=auto.LocalWorkspaceOptions(work_dir=HERE),
)
run = getattr(workspace_stack, args.command)
options = {"expect_no_changes": True} if args.expect_no_changes and args.command != "destroy" else {}
result = run(on_output=print, **options)
if args.command == "up":
    for key, value in result.outputs.items():
        print(f"{key}: {value.value}", file=sys.stderr)
