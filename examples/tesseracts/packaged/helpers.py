"""Shipped next to tesseract_api.py through package_data (sibling modules are not copied otherwise)."""

import json
import os


def load_coefficients() -> list[float]:
    path = os.environ.get("PACKAGED_COEFFICIENTS", os.path.join(os.path.dirname(__file__), "data", "coefficients.json"))
    with open(path, encoding="utf-8") as f:
        return [float(c) for c in json.load(f)["coefficients"]]
