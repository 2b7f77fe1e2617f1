"""Runs calls through tesseract-core's own Python client and prints the results as plain JSON.

Usage: python py_client_calls.py < spec.json
spec: {"url": ..., "calls": [{"endpoint": "apply"|"jacobian"|"jacobian_vector_product"|
       "vector_jacobian_product"|"abstract_eval", "args": {...}}]}
Arrays in args are {"__array__": true, "dtype", "shape", "data": flat list} (complex interleaved,
int64 beyond 2^53 as strings). Results use the same plain form as pulumi-tesseract's toPlainTree:
{"shape", "dtype", "data": flat list}, non-finite floats as "NaN"/"Infinity"/"-Infinity", large
ints as strings, complex interleaved.
"""

import json
import math
import sys

import numpy as np

from tesseract_core import Tesseract


def to_np(v):
    if isinstance(v, dict) and v.get("__array__"):
        dtype = np.dtype(v["dtype"])
        data = v["data"]
        if dtype.kind == "c":
            flat = np.array([float(x) for x in data], dtype=np.float64).view(np.complex128).astype(dtype)
        elif dtype.kind in "iu":
            flat = np.array([int(x) for x in data], dtype=dtype)
        elif dtype.kind == "f":
            flat = np.array([float(x) for x in data], dtype=dtype)  # "NaN", "-Infinity" too
        else:
            flat = np.array(data, dtype=dtype)
        return flat.reshape(v["shape"])
    if isinstance(v, dict):
        return {k: to_np(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_np(x) for x in v]
    return v


def num(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        x = int(x)
        return x if abs(x) <= 2**53 - 1 else str(x)
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def to_plain(v):
    if isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        flat = a.reshape(-1)
        if a.dtype.kind == "c":
            flat = flat.astype(np.complex128).view(np.float64)
        return {"shape": list(a.shape), "dtype": str(a.dtype), "data": [num(x) for x in flat.tolist()]}
    if isinstance(v, dict):
        return {k: to_plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_plain(x) for x in v]
    return v


def main():
    spec = json.load(sys.stdin)
    t = Tesseract.from_url(spec["url"])
    results = []
    for call in spec["calls"]:
        args = to_np(call["args"])
        fn = getattr(t, call["endpoint"])
        results.append(to_plain(fn(**args)))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
