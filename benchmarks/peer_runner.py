#!/usr/bin/env python3
"""Times one model in one peer, in this process, and prints one JSON object on stdout (the last
line): {"median_ms", "min_ms", "max_ms", "setup_s", "detail": {...}} or {"error": "..."}.

benchmarks/run.py starts one such process per run, so thread settings never leak between peers.

  peer_runner.py ort   --model F.onnx --manifest F.json --threads N --warmup W --repeat R
  peer_runner.py torch --model F.onnx --manifest F.json --threads N --warmup W --repeat R

ort:   ONNX Runtime, CPU execution provider, graph optimization level "all", intra-op threads N,
       inter-op threads 1, sequential execution.
torch: the torch module that export_models.py exported to F.onnx, re-created from the manifest's
       name and seed (its weight checksum is checked), eval mode, torch.no_grad(),
       torch.set_num_threads(N). Whatever BLAS the dynamic loader gives is reported ("blas"); run.py
       sets OPENBLAS_NUM_THREADS=N, which that call does not bound.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def load_inputs(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    folder = Path(manifest_path).parent
    return manifest, [(e["name"], np.load(folder / e["file"])) for e in manifest["inputs"]]


def time_calls(fn, warmup, repeat):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms)}


def run_ort(args):
    import onnxruntime as ort

    _, inputs = load_inputs(args.manifest)
    start = time.perf_counter()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(args.model), so, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feed = dict(inputs)
    missing = [n for n in names if n not in feed]
    if missing:
        raise RuntimeError(f"the input set lacks {missing}")
    feed = {n: feed[n] for n in names}
    session.run(None, feed)
    setup_s = time.perf_counter() - start
    result = time_calls(lambda: session.run(None, feed), args.warmup, args.repeat)
    result["setup_s"] = setup_s
    result["detail"] = {"version": ort.__version__, "providers": session.get_providers()}
    return result


def loaded_blas():
    """Paths of the BLAS/LAPACK libraries mapped into this process, and OpenBLAS's core."""
    paths = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in Path(p).name or "lapack" in Path(p).name:
                    paths.add(p)
    except OSError:
        pass
    detail = {"blas": sorted(paths)}
    import ctypes
    for p in sorted(paths):
        try:
            lib = ctypes.CDLL(p)
            fn = lib.openblas_get_corename
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_char_p
        detail["openblas_core"] = fn().decode()
        break
    return detail


def run_torch(args):
    import torch

    import export_models

    manifest, inputs = load_inputs(args.manifest)
    name = manifest.get("torch_model")
    if not name:
        raise RuntimeError("no PyTorch module for this model (not exported by export_models.py)")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = export_models.build_model(name, manifest.get("seed", 0))
    want = manifest.get("weight_checksum")
    got = export_models.weight_checksum(model)
    if want is not None and abs(got - want) > 1e-6 * max(1.0, abs(want)):
        raise RuntimeError(f"re-created {name} has other weights than the export "
                           f"(checksum {got} != {want}); re-export with --force")
    tensors = [torch.from_numpy(a) for _, a in inputs]

    def call():
        with torch.no_grad():
            model(*tensors)

    call()
    setup_s = time.perf_counter() - start
    result = time_calls(call, args.warmup, args.repeat)
    result["setup_s"] = setup_s
    detail = {"version": torch.__version__, "threads": torch.get_num_threads()}
    detail.update(loaded_blas())
    result["detail"] = detail
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("peer", choices=["ort", "torch"])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    try:
        result = run_ort(args) if args.peer == "ort" else run_torch(args)
    except Exception as e:  # noqa: BLE001 - reported to run.py as this peer's "n/a" reason
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
