"""`pulumi up` entry point (Pulumi's Python language host runs it; see README.md)."""

import stack

stack.program()
