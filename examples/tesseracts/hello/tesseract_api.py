"""hello: a Tesseract that greets. No dependencies beyond the tesseract-core runtime."""

from pydantic import BaseModel, Field


class InputSchema(BaseModel):
    name: str = Field(description="Who to greet.", default="world")


class OutputSchema(BaseModel):
    greeting: str = Field(description="The greeting.")


def apply(inputs: InputSchema) -> OutputSchema:
    return OutputSchema(greeting=f"Hello, {inputs.name}!")
