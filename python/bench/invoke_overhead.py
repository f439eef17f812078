"""What a Python invoke() costs over the C++ one (a benchmark program, not a test).

    PYTHONPATH=build/python /usr/bin/python3 python/bench/invoke_overhead.py [MODEL] [--rounds 5] [--runs 50]

Per round, in one process and alternating: qdet.bench's C++ loop (Interpreter::invoke timed
in C++, as `qdet bench` does), then the same number of Python `interpreter.invoke()` calls timed
with perf_counter_ns around each call, then the tf.lite-style round trip set_tensor + invoke +
get_tensor (two copies). Prints the medians over every sample of all rounds and the ratios.
Default model: YOLOX-Nano fp32 from the shared data.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import qdet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default=str(Path(qdet.data_dir()) / "models" / "yolox_nano_fp32_416.tflite"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    a = parser.parse_args()

    it = qdet.Interpreter(model_path=a.model, num_threads=a.threads)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    out = it.get_output_details()[0]["index"]
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=tuple(inp["shape"])).astype(inp["dtype"])
    it.set_tensor(inp["index"], x)
    for _ in range(3):
        it.invoke()

    cpp, py, trip = [], [], []
    for r in range(a.rounds):
        cpp += qdet.bench(a.model, num_threads=a.threads, warmup=3, runs=a.runs, energy="estimate",
                          progress=False)["latency_ms"]["samples"]
        for _ in range(a.runs):
            t0 = time.perf_counter_ns()
            it.invoke()
            py.append((time.perf_counter_ns() - t0) * 1e-6)
        for _ in range(a.runs):
            t0 = time.perf_counter_ns()
            it.set_tensor(inp["index"], x)
            it.invoke()
            it.get_tensor(out)
            trip.append((time.perf_counter_ns() - t0) * 1e-6)

    m_cpp, m_py, m_trip = (statistics.median(s) for s in (cpp, py, trip))
    print(f"model: {a.model}, threads {a.threads}, {a.rounds} rounds x {a.runs} runs each (alternating)")
    print(f"C++ Interpreter::invoke (qdet.bench)      median {m_cpp:8.3f} ms")
    print(f"Python interpreter.invoke()               median {m_py:8.3f} ms  "
          f"({m_py / m_cpp:.3f}x, {1e3 * (m_py - m_cpp):+.0f} us)")
    print(f"Python set_tensor + invoke + get_tensor   median {m_trip:8.3f} ms  "
          f"({m_trip / m_cpp:.3f}x, {1e3 * (m_trip - m_cpp):+.0f} us)")


if __name__ == "__main__":
    main()
