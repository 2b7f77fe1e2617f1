"""Tiny local package installed into the packaged Tesseract from the build context."""


def horner(coefficients: list[float], x: float) -> float:
    """Evaluates a polynomial given highest-degree-first coefficients."""
    result = 0.0
    for c in coefficients:
        result = result * x + c
    return result
