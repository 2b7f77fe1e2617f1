"""calculus: a small differentiable Tesseract used by pulumi-tesseract's client tests and benchmark.

    result = s * a * b + sin(a)        (elementwise, shape (n,))
    norm   = sum(a * a) + s * s        (scalar)

Every gradient endpoint is implemented analytically, so the Jacobian, JVP and VJP are exact and
consistent with each other. `passthrough` echoes a dict of arrays of any dtype and shape
unchanged, which lets the client round-trip every dtype (and carry large payloads for the
benchmark) through the real runtime.
"""

from typing import Any

import numpy as np
from pydantic import BaseModel, Field, model_validator

from tesseract_core.runtime import Array, Differentiable, Float64, ShapeDType


class InputSchema(BaseModel):
    a: Differentiable[Array[(None,), Float64]] = Field(description="Vector a.")
    b: Differentiable[Array[(None,), Float64]] = Field(description="Vector b, same length as a.")
    s: Differentiable[Float64] = Field(default=1.0, description="Scalar factor s.")
    passthrough: dict[str, Array[..., None]] = Field(
        default_factory=dict, description="Arrays of any dtype and shape, echoed unchanged."
    )

    @model_validator(mode="after")
    def same_length(self) -> "InputSchema":
        if hasattr(self.a, "shape") and hasattr(self.b, "shape") and self.a.shape != self.b.shape:
            raise ValueError(f"a and b must have the same shape, got {self.a.shape} and {self.b.shape}")
        return self


class OutputSchema(BaseModel):
    result: Differentiable[Array[(None,), Float64]] = Field(description="s * a * b + sin(a)")
    norm: Differentiable[Float64] = Field(description="sum(a * a) + s * s")
    passthrough: dict[str, Array[..., None]] = Field(description="The passthrough input, unchanged.")


def apply(inputs: InputSchema) -> OutputSchema:
    a, b, s = inputs.a, inputs.b, inputs.s
    return OutputSchema(
        result=s * a * b + np.sin(a),
        norm=np.sum(a * a) + s * s,
        passthrough=inputs.passthrough,
    )


def _partials(inputs: InputSchema) -> dict[str, dict[str, np.ndarray]]:
    """Full Jacobian blocks, shape (*out.shape, *in.shape)."""
    a, b, s = inputs.a, inputs.b, np.float64(inputs.s)
    n = a.shape[0]
    return {
        "result": {
            "a": np.diag(s * b + np.cos(a)),
            "b": np.diag(s * a),
            "s": a * b,
        },
        "norm": {
            "a": 2.0 * a,
            "b": np.zeros(n),
            "s": np.float64(2.0 * s),
        },
    }


def jacobian(inputs: InputSchema, jac_inputs: set[str], jac_outputs: set[str]):
    blocks = _partials(inputs)
    return {out: {inp: blocks[out][inp] for inp in jac_inputs} for out in jac_outputs}


def jacobian_vector_product(
    inputs: InputSchema, jvp_inputs: set[str], jvp_outputs: set[str], tangent_vector: dict[str, Any]
):
    blocks = _partials(inputs)
    out = {}
    for o in jvp_outputs:
        acc = None
        for i in jvp_inputs:
            j, t = blocks[o][i], np.asarray(tangent_vector[i], dtype=np.float64)
            # contract the trailing input dimensions of J with the tangent
            term = np.tensordot(j, t, axes=t.ndim)
            acc = term if acc is None else acc + term
        out[o] = acc
    return out


def vector_jacobian_product(
    inputs: InputSchema, vjp_inputs: set[str], vjp_outputs: set[str], cotangent_vector: dict[str, Any]
):
    blocks = _partials(inputs)
    out = {}
    for i in vjp_inputs:
        acc = None
        for o in vjp_outputs:
            j, c = blocks[o][i], np.asarray(cotangent_vector[o], dtype=np.float64)
            # contract the leading output dimensions of J with the cotangent
            term = np.tensordot(c, j, axes=c.ndim)
            acc = term if acc is None else acc + term
        out[i] = acc
    return out


def abstract_eval(abstract_inputs):
    n = abstract_inputs.a.shape[0]
    return {
        "result": ShapeDType(shape=(n,), dtype="float64"),
        "norm": ShapeDType(shape=(), dtype="float64"),
        "passthrough": {
            k: ShapeDType(shape=v.shape, dtype=v.dtype) for k, v in abstract_inputs.passthrough.items()
        },
    }
