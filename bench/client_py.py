"""Python side of bench/client.ts: tesseract-core's `Tesseract.from_url` running the same loops,
timing itself. Reads one command per stdin line and answers one JSON line, so bench/client.ts can
alternate Node and Python rounds on a shared, noisy machine.

Commands: `small N` (N sequential small applies, returns per-call ms list), `big SIZE ROUNDS`
(10M-style float64 passthrough apply), `vadd SIZE ROUNDS` (two float32 inputs of SIZE, as
tesseract-core's vectoradd takes them; bench/tesseracts/vectoradd32), `codec SIZE ROUNDS` (base64
encode+decode), `conc N C` (N small applies on C threads), `quit`. Usage: python client_py.py URL
[--no-warmup] (no warm-up calls of the calculus payload, for other Tesseracts)
"""

import base64
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tesseract_core import Tesseract

SMALL = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([4.0, 5.0, 6.0]), "s": 2.0}


def main():
    t = Tesseract.from_url(sys.argv[1])
    t.health()
    if "--no-warmup" not in sys.argv:
        for _ in range(20):
            t.apply(SMALL)
    big_cache = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd, *args = line.split()
        args = [int(a) for a in args]
        if cmd == "quit":
            break
        times = []
        out = {}
        if cmd == "small":
            for _ in range(args[0]):
                t0 = time.perf_counter()
                t.apply(SMALL)
                times.append((time.perf_counter() - t0) * 1000)
        elif cmd == "big":
            size, rounds = args
            if size not in big_cache:
                big_cache.clear()
                big_cache[size] = np.arange(size, dtype=np.float64)
            payload = {"a": np.ones(1), "b": np.ones(1), "passthrough": {"x": big_cache[size]}}
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = t.apply(payload)
                times.append((time.perf_counter() - t0) * 1000)
                assert r["passthrough"]["x"][-1] == size - 1
                del r
        elif cmd == "vadd":
            size, rounds = args
            if size not in big_cache:
                big_cache.clear()
                big_cache[size] = (np.arange(size, dtype=np.float32), np.ones(size, dtype=np.float32))
            a, b = big_cache[size]
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = t.apply({"a": a, "b": b, "s": np.float32(2.0)})
                times.append((time.perf_counter() - t0) * 1000)
                assert r["result"][-1] == np.float32(2.0) * a[-1] + b[-1]
                del r
        elif cmd == "codec":
            size, rounds = args
            raw = np.random.default_rng(0).standard_normal(size)
            for _ in range(rounds):
                t0 = time.perf_counter()
                s = base64.b64encode(raw.tobytes()).decode()
                back = np.frombuffer(base64.b64decode(s), dtype=np.float64)
                times.append((time.perf_counter() - t0) * 1000)
                assert back[-1] == raw[-1]
        elif cmd == "conc":
            n, c = args

            def one(_):
                try:
                    t.apply(SMALL)
                    return 0
                except Exception:
                    return 1

            t0 = time.perf_counter()
            with ThreadPoolExecutor(c) as ex:
                out["errors"] = sum(ex.map(one, range(n)))
            times.append((time.perf_counter() - t0) * 1000)
        out["times_ms"] = times
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
