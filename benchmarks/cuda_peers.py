#!/usr/bin/env python3
"""The PyTorch peers of `benchmarks/run.py --target cuda`: one measurement in this process, printed
as one JSON object on stdout (the last line), or {"error": "..."}. run.py starts one such process
per run, as it does for the CPU peers (peer_runner.py).

  cuda_peers.py info
      the GPU and the software: {"name", "sms", "capability", "memory_gib", "driver", "cuda",
      "torch"}, or {"error"} when torch is missing or sees no CUDA device
  cuda_peers.py model --mode eager|compile --manifest F.json --dtype f32|tf32|bf16|f16 --warmup W --repeat R
      the torch module behind an export of export_models.py, re-created from the manifest's name
      and seed, on the GPU, eval(), torch.no_grad(); mode compile wraps it in torch.compile
      (default mode) and compiles it before the warm-up
  cuda_peers.py gemm --m M --n N --k K --dtype f32|tf32|bf16|f16 --warmup W --repeat R --seed S
      torch.matmul (cuBLAS) of A [M,K] by B [K,N], B resident on the GPU (a weight), into a
      preallocated C

Every run reports two medians over R timed calls after W untimed ones:
  median_ms         host to host, like `taskmap bench`: the inputs copied from host memory to the
                    GPU, the call, the outputs copied back, synchronized (wall clock)
  device_median_ms  the call alone, the inputs already on the GPU: CUDA events around it
f32 runs with TF32 off (cuBLAS and cuDNN), so that f32 means f32 math; tf32 runs f32 tensors with
TF32 on in both (PyTorch's allow_tf32, as taskmap's --tf32). For bf16/f16 the module is
converted with module.to(dtype) and the float inputs cast on the GPU after the copy; integer
inputs (token ids, masks) stay as they are.
"""
import argparse
import ctypes
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DTYPES = ("f32", "tf32", "bf16", "f16")


def torch_dtype(torch, name):
    return {"f32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16,
            "f16": torch.float16}[name]


def set_precision(torch, dtype):
    """f32: true f32 math (no TF32 in cuBLAS or cuDNN); tf32: f32 tensors, TF32 in both.
    bf16/f16: PyTorch's defaults."""
    if dtype in ("f32", "tf32"):
        torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
        torch.backends.cudnn.allow_tf32 = dtype == "tf32"
    return {"tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
            "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
            "cudnn_benchmark": bool(torch.backends.cudnn.benchmark)}


def driver_version():
    """The NVIDIA driver's version (nvidia-smi), else the CUDA version the driver supports."""
    try:
        p = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=20)
        line = p.stdout.strip().splitlines()[0].strip() if p.returncode == 0 and p.stdout.strip() else ""
        if line:
            return line
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        version = ctypes.c_int(0)
        if ctypes.CDLL("libcuda.so.1").cuDriverGetVersion(ctypes.byref(version)) == 0:
            return f"CUDA {version.value // 1000}.{version.value % 1000 // 10} driver"
    except (OSError, AttributeError):
        pass
    return None


def run_info(_args):
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means: no usable torch here
        return {"error": f"torch not importable by {sys.executable} ({type(e).__name__}: {e})"}
    if not torch.cuda.is_available():
        return {"error": f"torch.cuda.is_available() is false (torch {torch.__version__}, CUDA "
                         f"{torch.version.cuda or 'none'}, {sys.executable})"}
    props = torch.cuda.get_device_properties(0)
    return {"name": torch.cuda.get_device_name(0), "sms": props.multi_processor_count,
            "capability": f"{props.major}.{props.minor}",
            "memory_gib": round(props.total_memory / 2**30, 1), "driver": driver_version(),
            "cuda": torch.version.cuda, "torch": torch.__version__, "python": sys.executable}


def device_times(fn, warmup, repeat):
    """The device-side median of fn: CUDA events around each of `repeat` back-to-back calls."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
             for _ in range(repeat)]
    for start, end in pairs:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    ms = [start.elapsed_time(end) for start, end in pairs]
    return {"device_median_ms": statistics.median(ms), "device_min_ms": min(ms),
            "device_max_ms": max(ms)}


def host_and_device(host_call, device_call, warmup, repeat):
    """Host-to-host medians (wall clock, as peer_runner.py times the CPU peers) and device ones."""
    from peer_runner import time_calls

    result = device_times(device_call, warmup, repeat)
    return {**time_calls(host_call, warmup, repeat), **result}


def to_host(outputs):
    """Copies a module's output(s) to host memory (numpy where numpy has the type)."""
    import torch

    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    result = []
    for o in outputs:
        o = o.cpu()
        result.append(o if o.dtype == torch.bfloat16 else o.numpy())
    return result


def run_model(args):
    import numpy as np
    import torch

    import export_models

    with open(args.manifest) as f:
        manifest = json.load(f)
    name = manifest.get("torch_model")
    if not name:
        raise RuntimeError("no PyTorch module for this model (not exported by export_models.py)")
    folder = Path(args.manifest).parent
    arrays = [np.load(folder / e["file"]) for e in manifest["inputs"]]
    dev = torch.device("cuda")
    dtype = torch_dtype(torch, args.dtype)
    precision = set_precision(torch, args.dtype)
    start = time.perf_counter()
    model = export_models.build_model(name, manifest.get("seed", 0))
    detail = {"version": torch.__version__, "device": torch.cuda.get_device_name(0),
              "dtype": args.dtype, "mode": args.mode}
    detail.update(precision)
    want, got = manifest.get("weight_checksum"), export_models.weight_checksum(model)
    if want is not None and abs(got - want) > 1e-6 * max(1.0, abs(want)):
        # Another torch/torchvision than the export's may draw other weights from the same seed;
        # GPU latency does not depend on the values, so this is noted, not fatal.
        detail["weights_differ_from_export"] = {"export": want, "here": got}
    model = model.to(device=dev, dtype=dtype)

    def cast(t):
        return t.to(dtype) if t.is_floating_point() else t

    host_inputs = [torch.from_numpy(a) for a in arrays]
    dev_inputs = [cast(t.to(dev)) for t in host_inputs]
    fn = torch.compile(model) if args.mode == "compile" else model
    with torch.no_grad():
        t0 = time.perf_counter()
        fn(*dev_inputs)  # compile mode: compiles here
        torch.cuda.synchronize()
        detail["first_call_s"] = time.perf_counter() - t0
        setup_s = time.perf_counter() - start

        def host_call():
            xs = [cast(t.to(dev)) for t in host_inputs]
            to_host(fn(*xs))
            torch.cuda.synchronize()

        result = host_and_device(host_call, lambda: fn(*dev_inputs), args.warmup, args.repeat)
    result["setup_s"] = setup_s
    result["detail"] = detail
    return result


def run_gemm(args):
    import torch

    dev = torch.device("cuda")
    dtype = torch_dtype(torch, args.dtype)
    precision = set_precision(torch, args.dtype)
    g = torch.Generator().manual_seed(args.seed)
    a_host = torch.randn(args.m, args.k, generator=g).to(dtype)
    b = (torch.randn(args.k, args.n, generator=g) / args.k ** 0.5).to(dtype).to(dev)
    a = a_host.to(dev)
    c = torch.empty(args.m, args.n, dtype=dtype, device=dev)
    torch.matmul(a, b, out=c)
    torch.cuda.synchronize()

    def host_call():
        torch.matmul(a_host.to(dev), b, out=c)
        c.cpu()
        torch.cuda.synchronize()

    result = host_and_device(host_call, lambda: torch.matmul(a, b, out=c), args.warmup, args.repeat)
    detail = {"version": torch.__version__, "cuda": torch.version.cuda,
              "device": torch.cuda.get_device_name(0), "dtype": args.dtype}
    detail.update(precision)
    for kind in ("bf16", "fp16"):  # left as PyTorch has them
        try:
            value = getattr(torch.backends.cuda.matmul, f"allow_{kind}_reduced_precision_reduction")
        except (AttributeError, AssertionError):  # older torch: no such setting
            continue
        detail[f"{kind}_reduced_precision_reduction"] = bool(value)
    result["detail"] = detail
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("info")
    model = sub.add_parser("model")
    model.add_argument("--mode", choices=["eager", "compile"], required=True)
    model.add_argument("--manifest", required=True, type=Path)
    gemm = sub.add_parser("gemm")
    for dim in ("--m", "--n", "--k"):
        gemm.add_argument(dim, type=int, required=True)
    gemm.add_argument("--seed", type=int, default=0)
    for p in (model, gemm):
        p.add_argument("--dtype", choices=DTYPES, default="f32")
        p.add_argument("--warmup", type=int, default=10)
        p.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    try:
        result = {"info": run_info, "model": run_model, "gemm": run_gemm}[args.what](args)
    except Exception as e:  # noqa: BLE001 - reported to run.py as this peer's "n/a" reason
        result = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(result), flush=True)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
