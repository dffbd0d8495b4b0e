"""The `--target cuda` half of benchmarks/run.py: taskmap on an NVIDIA GPU against PyTorch.

Models (batch 1; taskmap runs the f32 ONNX export, PyTorch the module behind it; in f16 / bf16
taskmap narrows the export itself with --precision, inputs and outputs staying f32, and PyTorch
runs the module converted to the type; tf32 is f32 with tf32 contractions on both sides):
  taskmap        taskmap bench MODEL --target cuda --precision T | --tf32 --json --input ...
  PyTorch eager  the module on the GPU, eval, no_grad            (benchmarks/cuda_peers.py)
  torch.compile  torch.compile(module), default mode, compiled before the warm-up
GEMMs (C[M,N] = A[M,K] B[K,N]):
  taskmap        the one-node MatMul model of run.py, A and B of the run's element type
  cuBLAS         torch.matmul on the GPU, TF32 off for f32
taskmap bench times a call host to host (inputs copied in, outputs copied out); so does the
figure of each PyTorch runner that the table compares with it, and each PyTorch runner reports the
GPU's time alone (CUDA events, inputs already there) in a column of its own, as does taskmap
(`device_median_ms` of `taskmap bench --json`: CUDA events around its kernels, copies left out).

This module uses the standard library only at import: run.py asks it, before it knows which
python it will run under, whether the current one has torch with a CUDA device.
"""
import math
import os
import subprocess
import sys
from pathlib import Path

from bench_proc import clean_env, last_json, log, run_json, tail

HERE = Path(__file__).resolve().parent
PEERS = HERE / "cuda_peers.py"

MODEL_RUNNERS = ["taskmap", "torch_eager", "torch_compile"]
GEMM_RUNNERS = ["taskmap", "cublas"]
LABELS = {"taskmap": "taskmap", "torch_eager": "PyTorch eager", "torch_compile": "torch.compile",
          "cublas": "cuBLAS"}
DTYPES = ("f32", "tf32", "bf16", "f16")
# Defaults of options whose CPU defaults do not fit a GPU: GPU runs are short and steady, and a
# device machine gives a command ten minutes.
DEFAULTS = {"models": "torch", "gemms": "4096,1024,2048,dl", "dtypes": "f32", "rounds": 3,
            "warmup": 10, "repeat": 50}
SMOKE_GEMM = (256, 256, 256)
# GEMM warm-up: at least --warmup calls, and enough for ~0.1 s at 20 TFLOP/s (at most 2000).
GEMM_WARMUP_S, GEMM_WARMUP_GFLOPS, GEMM_WARMUP_MAX = 0.1, 20000.0, 2000
PROBE_ENV = "TASKMAP_BENCH_CUDA_PROBE"  # why a python run.py left had no CUDA torch


# ------------------------------------------------------------------------------------------------
# Is there a GPU, and which python has torch for it
def target_from_argv(argv):
    """The --target of a command line, before argparse sees it ('cpu' when not given)."""
    for i, a in enumerate(argv):
        if a == "--target" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--target="):
            return a.split("=", 1)[1]
    return "cpu"


def probe(python):
    """`cuda_peers.py info` run by `python`: the device's description, or {"error": why not}."""
    try:
        p = subprocess.run([python, str(PEERS), "info"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=300, stdin=subprocess.DEVNULL,
                           env=clean_env())
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": f"could not ask {python} about CUDA: {e}"}
    info = last_json(p.stdout)
    if info is None:
        return {"error": f"{python} could not tell: {tail(p.stderr) or tail(p.stdout) or 'no output'}"}
    return info


def probe_at_start(argv, reexec):
    """The device as the current python sees it; when it sees none, `reexec` may run run.py again
    with the repository's .venv python (which probes again). None when only help was asked for."""
    if "-h" in argv or "--help" in argv:
        reexec()
        return None
    info = probe(sys.executable)
    earlier = os.environ.pop(PROBE_ENV, "")
    if "error" in info:
        os.environ[PROBE_ENV] = info["error"]
        reexec()  # returns when there is no other python to try
        os.environ.pop(PROBE_ENV, None)
        if earlier:
            info["error"] = f"{earlier}; {info['error']}"
    return info


def device_caption(info):
    """'NVIDIA H100 80GB HBM3 (132 SMs, driver 580.159.04, CUDA 13.0)'."""
    parts = [f"{info.get('sms', '?')} SMs"]
    if info.get("driver"):
        parts.append(f"driver {info['driver']}")
    if info.get("cuda"):
        parts.append(f"CUDA {info['cuda']}")
    return f"{info.get('name', 'unknown GPU')} ({', '.join(parts)})"


# ------------------------------------------------------------------------------------------------
# One run of one runner
def gemm_warmup(w, args):
    enough = math.ceil(GEMM_WARMUP_S * GEMM_WARMUP_GFLOPS / w.gflop)
    return max(args.warmup, min(enough, GEMM_WARMUP_MAX))


def no_taskmap(args):
    if not Path(args.taskmap).exists():
        return f"no taskmap binary at {args.taskmap} (build it, or pass --taskmap; see scripts/device_bundle.sh)"
    return None


def numerics(dtype):
    """taskmap's options for a model table's element type: tf32 contractions on the f32 export,
    or the export narrowed to f16 / bf16 by taskmap itself (inputs and outputs stay f32)."""
    if dtype == "tf32":
        return ["--tf32"]
    return ["--precision", dtype]


def run_model(runner, w, dtype, args):
    """One run: (result dict, None) or (None, reason)."""
    base = ["--warmup", str(args.warmup), "--repeat", str(args.repeat)]
    if runner == "taskmap":
        why = no_taskmap(args) or getattr(w, "onnx_error", None)
        if why:
            return None, why
        cmd = [args.taskmap, "bench", str(w.onnx), "--target", "cuda"] + numerics(dtype) + base
        cmd += ["--json"]
        for f in w.inputs:
            cmd += ["--input", str(f)]
        return run_json(cmd, clean_env(), args.timeout)
    if not w.manifest.get("torch_model"):
        return None, "no PyTorch module behind this model (only the torch exports have one)"
    mode = "compile" if runner == "torch_compile" else "eager"
    cmd = [sys.executable, str(PEERS), "model", "--mode", mode, "--manifest", str(w.manifest_path),
           "--dtype", dtype] + base
    return run_json(cmd, clean_env(), args.timeout)


def run_gemm(runner, w, dtype, args):
    warmup = str(gemm_warmup(w, args))
    if runner == "taskmap":
        why = no_taskmap(args) or w.onnx_error
        if why:
            return None, why
        cmd = [args.taskmap, "bench", str(w.onnx), "--target", "cuda", "--warmup", warmup,
               "--repeat", str(args.repeat)] + (["--tf32"] if dtype == "tf32" else [])
        # (Its JSON carries device_median_ms too: the GPU's time for the kernels, CUDA events.)
        return run_json(cmd + ["--json"], clean_env(), args.timeout)
    cmd = [sys.executable, str(PEERS), "gemm", "--m", str(w.m), "--n", str(w.n), "--k", str(w.k),
           "--dtype", dtype, "--seed", str(args.seed), "--warmup", warmup, "--repeat", str(args.repeat)]
    return run_json(cmd, clean_env(), args.timeout)


# ------------------------------------------------------------------------------------------------
# Summaries and tables
def ratio(a, b):
    return a / b if a and b else None


def summarize(entry):
    runs = entry["runners"]

    def h2h(r):
        return runs[r]["median_ms"] if r in runs else None

    def device(r):
        return runs[r].get("device_median_ms") if r in runs else None

    tm = h2h("taskmap")
    peers = {r: s["median_ms"] for r, s in runs.items() if r != "taskmap" and s["median_ms"]}
    best = min(peers, key=peers.get) if peers else None
    gf = entry["gflop"]
    entry["best_peer"] = best
    entry["ratio_best"] = ratio(tm, peers.get(best))
    entry["taskmap_tflops"] = ratio(gf, tm)  # GFLOP per ms = TFLOP/s
    if entry["kind"] == "model":
        entry["ratio_compile"] = ratio(tm, h2h("torch_compile"))
        entry["device_ratio_compile"] = ratio(device("taskmap"), device("torch_compile"))
    else:
        entry["share_cublas"] = ratio(h2h("cublas"), tm)
        entry["kernel_share_cublas"] = ratio(device("cublas"), device("taskmap"))
        entry["taskmap_kernel_tflops"] = ratio(gf, device("taskmap"))
        entry["cublas_device_tflops"] = ratio(gf, device("cublas"))


def columns(kind, runners):
    from bench_report import Column, fmt, fmt_ms, geomean, geomean_column, percent

    def ms(r, key):
        return Column(f"{LABELS[r]} {'ms' if key == 'median_ms' else 'device ms'}",
                      lambda e: fmt_ms(e["runners"][r].get(key)))

    def share(head, key):
        return Column(head, lambda e: percent(e[key]),
                      lambda entries: percent(geomean([e[key] for e in entries])))

    cols = [Column("model" if kind == "model" else "M×N×K", lambda e: e["workload"]),
            Column("GFLOP", lambda e: fmt(e["gflop"], ".2f" if kind == "model" else ".3f"))]
    cols += [ms(r, "median_ms") for r in runners]
    cols += [ms(r, "device_median_ms") for r in runners]
    cols += [geomean_column("taskmap/best", "ratio_best"),
             Column("best peer", lambda e: LABELS.get(e["best_peer"], "n/a"))]
    if kind == "model":
        cols += [geomean_column("taskmap/compile", "ratio_compile"),
                 geomean_column("device taskmap/compile", "device_ratio_compile"),
                 Column("taskmap TFLOP/s", lambda e: fmt(e["taskmap_tflops"], ".2f"))]
    else:
        cols += [share("share of cuBLAS", "share_cublas"),
                 share("kernel share of cuBLAS", "kernel_share_cublas"),
                 Column("taskmap kernel TFLOP/s", lambda e: fmt(e["taskmap_kernel_tflops"], ".1f")),
                 Column("cuBLAS device TFLOP/s", lambda e: fmt(e["cublas_device_tflops"], ".1f"))]
    return cols


def report(results, args, meta, runners_of):
    from bench_report import add_table, na_notes, table

    text, md = [], []
    md.append(f"Run of {meta['date']} on {device_caption(meta['device'])}, host {meta['cpu']}, "
              f"taskmap {meta['taskmap_commit'] or 'unknown commit'}; {args.rounds} "
              f"round{'s' if args.rounds > 1 else ''} × (warmup {args.warmup} + repeat "
              f"{args.repeat}), medians in ms. Plain columns: host to host (inputs copied in, "
              "outputs copied back); device columns: the GPU's time alone.")
    for dtype in args.dtypes:
        for kind, title in (("model", "Models"), ("gemm", "GEMMs")):
            entries = [e for e in results if e["dtype"] == dtype and e["kind"] == kind]
            if not entries:
                continue
            head, rows = table(entries, columns(kind, runners_of(kind)))
            caption = f"{title}, {dtype}, {device_caption(meta['device'])}"
            add_table(text, md, caption, head, rows, na_notes(entries, LABELS))
    return "\n".join(text), "\n".join(md) + "\n"


def summary(results, args):
    from bench_report import geomean

    out = {}
    for dtype in args.dtypes:
        models = [e for e in results if e["dtype"] == dtype and e["kind"] == "model"]
        gemms = [e for e in results if e["dtype"] == dtype and e["kind"] == "gemm"]
        out[dtype] = {
            "models_geomean_ratio_best": geomean([e["ratio_best"] for e in models]),
            "models_geomean_ratio_compile": geomean([e["ratio_compile"] for e in models]),
            "gemms_geomean_ratio_best": geomean([e["ratio_best"] for e in gemms]),
            "gemms_geomean_share_cublas": geomean([e["share_cublas"] for e in gemms]),
            "gemms_geomean_kernel_share_cublas": geomean([e["kernel_share_cublas"] for e in gemms])}
    return out


def settings(args):
    return {"dtypes": args.dtypes, "runners": args.runners, "rounds": args.rounds,
            "warmup": args.warmup, "repeat": args.repeat, "seed": args.seed}


def say_no_device(info):
    log(f"run.py --target cuda: no CUDA device: {info['error']}")
