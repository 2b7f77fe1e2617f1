"""vectoradd: r = s * a + b for float64 vectors, differentiable in a, b and s."""

import numpy as np
from pydantic import BaseModel, Field
from tesseract_core.runtime import Array, Differentiable, Float64


class InputSchema(BaseModel):
    a: Differentiable[Array[(None,), Float64]] = Field(description="First vector.")
    b: Differentiable[Array[(None,), Float64]] = Field(description="Second vector, same length as a.")
    s: Differentiable[Float64] = Field(description="Scale applied to a.", default=1.0)


class OutputSchema(BaseModel):
    result: Differentiable[Array[(None,), Float64]] = Field(description="s * a + b")


def apply(inputs: InputSchema) -> OutputSchema:
    if inputs.a.shape != inputs.b.shape:
        raise ValueError(f"a and b must have the same shape, got {inputs.a.shape} and {inputs.b.shape}")
    return OutputSchema(result=inputs.s * inputs.a + inputs.b)


def jacobian(inputs: InputSchema, jac_inputs: set[str], jac_outputs: set[str]):
    n = inputs.a.shape[0]
    partials = {
        "a": inputs.s * np.eye(n),
        "b": np.eye(n),
        "s": np.asarray(inputs.a, dtype=np.float64),
    }
    return {out: {inp: partials[inp] for inp in jac_inputs} for out in jac_outputs}
