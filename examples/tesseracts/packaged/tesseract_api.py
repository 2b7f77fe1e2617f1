"""packaged: evaluates a polynomial whose coefficients ship as package_data, using a local package."""

from helpers import load_coefficients
from mathutils import horner
from pydantic import BaseModel, Field

COEFFICIENTS = load_coefficients()


class InputSchema(BaseModel):
    x: float = Field(description="Where to evaluate the polynomial.")


class OutputSchema(BaseModel):
    y: float = Field(description="p(x), coefficients from data/coefficients.json (highest degree first).")
    degree: int = Field(description="Degree of the polynomial.")


def apply(inputs: InputSchema) -> OutputSchema:
    return OutputSchema(y=horner(COEFFICIENTS, inputs.x), degree=len(COEFFICIENTS) - 1)
