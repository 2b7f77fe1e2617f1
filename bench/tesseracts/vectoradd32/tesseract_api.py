"""vectoradd32: r = s * a + b on float32 vectors, the shape of tesseract-core's own vectoradd example.

Used by bench/client.ts for the "two 10M float32 inputs" row: two large arrays in, one out.
"""

from pydantic import BaseModel, Field
from tesseract_core.runtime import Array, Differentiable, Float32


class InputSchema(BaseModel):
    a: Differentiable[Array[(None,), Float32]] = Field(description="First vector.")
    b: Differentiable[Array[(None,), Float32]] = Field(description="Second vector, same length as a.")
    s: Differentiable[Float32] = Field(default=1.0, description="Scale applied to a.")


class OutputSchema(BaseModel):
    result: Differentiable[Array[(None,), Float32]] = Field(description="s * a + b")


def apply(inputs: InputSchema) -> OutputSchema:
    return OutputSchema(result=inputs.s * inputs.a + inputs.b)
