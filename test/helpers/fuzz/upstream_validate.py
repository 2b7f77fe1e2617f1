"""Validates a batch of documents with upstream's own models, in one process (differential fuzzing).

stdin: {"kind": "config", "docs": [yaml text, ...]}
       {"kind": "fractal", "docs": [{"model": "pip" | "custom" | "manifest", "value": {...}}, ...]}
stdout: [{"ok": bool, "error": str}, ...] in the same order.
"""

import json
import sys


def check_config(text):
    import yaml
    from tesseract_core.sdk.api_parse import TesseractConfig

    # as tesseract_core.sdk.api_parse.get_config: bytes to safe_load, a mapping, then the model
    config = yaml.safe_load(text.encode("utf-8"))
    if not isinstance(config, dict):
        raise ValueError("not a mapping")
    TesseractConfig(**config)


def check_fractal(doc):
    import os

    # fractal-server reads its settings at import time; schema validation needs none of them
    for key in ("POSTGRES_DB", "JWT_SECRET_KEY"):
        os.environ.setdefault(key, "fuzz")
    from fractal_server.app.schemas.v2 import ManifestV2, TaskCollectCustom, TaskCollectPip

    model = {"pip": TaskCollectPip, "custom": TaskCollectCustom, "manifest": ManifestV2}[doc["model"]]
    model.model_validate(doc["value"])


def main():
    req = json.load(sys.stdin)
    check = check_config if req["kind"] == "config" else check_fractal
    out = []
    for doc in req["docs"]:
        try:
            check(doc)
            out.append({"ok": True, "error": ""})
        except Exception as err:  # every failure is a rejection; the kind is reported
            out.append({"ok": False, "error": f"{type(err).__name__}: {str(err)[:300]}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
