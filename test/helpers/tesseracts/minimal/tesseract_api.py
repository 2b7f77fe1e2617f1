"""Minimal Tesseract for client error tests: apply only (no gradients, no abstract_eval).

apply raises ValueError for a negative x, which the runtime answers with HTTP 500.
"""

from pydantic import BaseModel

from tesseract_core.runtime import Float64


class InputSchema(BaseModel):
    x: Float64


class OutputSchema(BaseModel):
    y: Float64


def apply(inputs: InputSchema) -> OutputSchema:
    if inputs.x < 0:
        raise ValueError(f"x must be non-negative, got {float(inputs.x)}")
    return OutputSchema(y=2 * inputs.x)
