"""`pulumi up` entry point (needs the Pulumi Python language host and pulumi_tesseract installed)."""

import stack

stack.program()
