#!/usr/bin/env python3
"""Side-by-side benchmark of taskmap against its peers on the CPU (--target cuda: on an NVIDIA GPU
against PyTorch; see benchmarks/cuda_bench.py and docs/benchmarks.md).

Models (batch 1, fp32; the same ONNX file, the same .npy inputs and the same thread count for all):
  taskmap      the taskmap CLI: taskmap bench MODEL --threads N --json --input ...
  ORT          ONNX Runtime, CPU EP, optimization level "all", intra-op N, inter-op 1, sequential
  PyTorch      the torch module behind the export, eager, eval, no_grad, torch.set_num_threads(N),
               with whatever BLAS the system gives (as installed), OPENBLAS_NUM_THREADS=N
  PyTorch cfg  the same with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp,
               OPENBLAS_CORETYPE=SkylakeX and OMP_NUM_THREADS=N (configured)
GEMMs (fp32, row-major C[M,N] = A[M,K] B[K,N]):
  taskmap      a one-node ONNX model, MatMul of input A by a constant initializer B
  oneDNN       dnnl_sgemm (benchmarks/gemm_peers.cpp), OMP_NUM_THREADS=N
  OpenBLAS     cblas_sgemm, openblas_set_num_threads(N), OPENBLAS_CORETYPE=SkylakeX

Method: for each (workload, threads), every round runs each runner once in its own process
(A B C, then B C A, ...: the order rotates per round); a run is --warmup untimed and --repeat timed
iterations, reported as their median (GEMMs warm up longer: enough calls for ~0.1 s, the same count
for every runner); a runner's figure is the median over the rounds. A runner
that fails or is missing shows "n/a" with its reason. Progress goes to stderr, tables to stdout,
everything (each round's median too) to --json.

  bash benchmarks/run.sh                       # everything, 2 threads, 5 rounds
  python3 benchmarks/run.py --threads 1,2 --only gemms --markdown /tmp/gemms.md
  python3 benchmarks/run.py --smoke            # < 1 minute: one small model, one 128^3 GEMM
  python3 benchmarks/run.py --target cuda --taskmap DIR/taskmap   # on a GPU machine
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_DIR = REPO / ".venv"
VENV_PY = VENV_DIR / "bin" / "python"


def reexec_in_venv():
    """Runs this script with the repository's .venv python (torch, onnx, onnxruntime) when it was
    started with another one."""
    if os.environ.get("TASKMAP_BENCH_IN_VENV") or not VENV_PY.exists():
        return
    try:
        if Path(sys.prefix).resolve() == VENV_DIR.resolve():
            return
    except OSError:
        return
    env = dict(os.environ, TASKMAP_BENCH_IN_VENV="1")
    os.execve(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve())] + sys.argv[1:], env)


sys.path.insert(0, str(HERE))
import cuda_bench  # noqa: E402  (standard library only)

# --target cuda keeps the current python when it has torch with a CUDA device (a GPU machine's
# python3), and tries the .venv's otherwise; --target cpu always runs under the .venv's.
CUDA_INFO = None
if cuda_bench.target_from_argv(sys.argv[1:]) == "cuda":
    CUDA_INFO = cuda_bench.probe_at_start(sys.argv[1:], reexec_in_venv)
else:
    reexec_in_venv()
import bench_common  # noqa: E402
import bench_report  # noqa: E402
from bench_proc import clean_env, last_json, log, run_json, tail  # noqa: E402

TORCH_MODELS = ["resnet50", "inception_v3", "mobilenet_v2", "bert_base", "gpt2_small"]
BUNDLED_FALLBACK = ["resnet50", "mobilenet_v2", "inception_v3", "bert_base", "gpt2_small"]
# GFLOP (2 x MACs of Conv/MatMul/Gemm) of the five exports, from docs/benchmarks.md's source; used
# when the count from the graph is not available (no onnx module, unknown shapes).
KNOWN_GFLOP = {"resnet50": 8.18, "inception_v3": 11.43, "mobilenet_v2": 0.60, "bert_base": 22.35,
               "gpt2_small": 22.35}
SQUARE_GEMMS = [(s, s, s) for s in (256, 512, 1024, 2048)]
# M x N x K of the GEMMs inside BERT-base and ResNet-50 (im2col view of the convolutions).
DL_GEMMS = [(128, 768, 768), (128, 3072, 768), (128, 768, 3072), (3136, 64, 576), (784, 128, 1152),
            (196, 256, 2304), (49, 512, 4608), (3136, 256, 64), (49, 2048, 512)]
# fp32 AVX-512 FMA peak, GFLOP/s, of the reference machine of BENCHMARKS.md: the fallback where
# this machine's cannot be measured.
REFERENCE_PEAKS = {1: 253.0, 2: 496.0}
REFERENCE_PEAK_PER_THREAD = 253.0
GEMM_WARMUP_S, GEMM_WARMUP_GFLOPS, GEMM_WARMUP_MAX = 0.1, 200.0, 2000
OPENBLAS_OPENMP_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
MODEL_RUNNERS = ["taskmap", "ort", "torch", "torch_cfg"]
GEMM_RUNNERS = ["taskmap", "dnnl", "openblas"]
LABELS = {"taskmap": "taskmap", "ort": "ORT", "torch": "PyTorch", "torch_cfg": "PyTorch cfg",
          "dnnl": "oneDNN", "openblas": "OpenBLAS"}


def peer_python():
    """The python of the peers and of export_models.py: the .venv's on the CPU; on the GPU the
    current one, which has torch with CUDA."""
    if CUDA_INFO is not None and "error" not in CUDA_INFO:
        return sys.executable
    return str(VENV_PY) if VENV_PY.exists() else sys.executable


# ------------------------------------------------------------------------------------------------
# Workloads
class Workload:
    def __init__(self, kind, name, gflop=None, error=None, **kw):
        self.kind, self.name, self.gflop, self.error = kind, name, gflop, error
        self.__dict__.update(kw)


def bundled_names(taskmap):
    try:
        p = subprocess.run([taskmap, "export", "--list"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        names = [l.split()[0] for l in p.stdout.splitlines() if l.strip()]
        if p.returncode == 0 and names:
            return names
    except (OSError, subprocess.TimeoutExpired):
        pass
    return list(BUNDLED_FALLBACK)


def model_gflop(models_dir, name, onnx_path, manifest):
    """GFLOP of the model from its graph, cached in its manifest by file size and time."""
    stat = onnx_path.stat()
    key = {"size": stat.st_size, "mtime": int(stat.st_mtime)}
    cached = manifest.get("gflop")
    if isinstance(cached, dict) and cached.get("key") == key:
        return cached.get("value")
    try:
        value = bench_common.count_gflop(onnx_path)
    except Exception as e:  # noqa: BLE001 - no onnx module, an unreadable file: fall back
        log(f"  counting the FLOPs of {name} failed: {type(e).__name__}: {e}")
        value = None
    manifest["gflop"] = {"key": key, "value": value}
    try:
        bench_common.write_manifest(models_dir, name, manifest)
    except OSError:
        pass
    return value


def prepare_model(spec, args):
    """Makes sure the model file, its inputs and its manifest exist; returns a Workload."""
    models_dir = Path(args.out_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    try:
        if spec.endswith(".onnx"):
            source, onnx_path = "file", Path(spec).resolve()
            name = "file_" + onnx_path.stem
            if not onnx_path.exists():
                return Workload("model", name, error=f"{spec} does not exist")
        elif spec.startswith("bundled_"):
            source, name = "bundled", spec
            onnx_path = models_dir / f"{name}.onnx"
        elif spec in TORCH_MODELS:
            source, name = "torch", spec
            onnx_path = models_dir / f"{name}.onnx"
        else:
            return Workload("model", spec, error="unknown model (see --help)")

        manifest = bench_common.read_manifest(models_dir, name)
        onnx_error = None
        if source == "torch":
            if not (onnx_path.exists() and manifest and bench_common.inputs_complete(models_dir, manifest)):
                log(f"exporting {name} with benchmarks/export_models.py (once)")
                cmd = [peer_python(), str(HERE / "export_models.py"), "--out-dir", str(models_dir),
                       "--models", name, "--seed", str(args.seed)]
                p = subprocess.run(cmd, stdout=sys.stderr, stderr=subprocess.PIPE, text=True,
                                   timeout=3600, env=clean_env())
                manifest = bench_common.read_manifest(models_dir, name)
                if p.returncode != 0:
                    why = f"export failed: {tail(p.stderr)}"
                    # On the GPU the PyTorch runners need only the manifest and the inputs, which
                    # export_models.py writes before the ONNX file: only taskmap is n/a then.
                    if not (args.target == "cuda" and manifest
                            and bench_common.inputs_complete(models_dir, manifest)):
                        return Workload("model", name, error=why)
                    onnx_error = f"no {onnx_path.name} ({why})"
        else:
            if source == "bundled" and not onnx_path.exists():
                if not Path(args.taskmap).exists():
                    return Workload("model", name, error=f"no taskmap at {args.taskmap} to export it")
                log(f"exporting {name} with taskmap export (once)")
                tmp = onnx_path.with_name(onnx_path.name + ".tmp.onnx")
                p = subprocess.run([args.taskmap, "export", spec[len("bundled_"):], "-o", str(tmp)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
                if p.returncode != 0 or not tmp.exists():
                    return Workload("model", name, error=f"taskmap export failed: {tail(p.stderr) or tail(p.stdout)}")
                tmp.replace(onnx_path)
                manifest = None
            if not (manifest and bench_common.inputs_complete(models_dir, manifest)
                    and manifest.get("onnx") == str(onnx_path)):
                import onnx
                model = onnx.load(str(onnx_path), load_external_data=False)
                arrays = bench_common.generate_inputs(model, args.seed)
                del model
                entries = bench_common.save_inputs(models_dir, name, arrays)
                manifest = {"model": name, "source": source, "torch_model": None, "seed": args.seed,
                            "onnx": str(onnx_path), "inputs": entries}
                bench_common.write_manifest(models_dir, name, manifest)
        gflop = None if onnx_error else model_gflop(models_dir, name, onnx_path, manifest)
        if gflop is None:
            gflop = KNOWN_GFLOP.get(name)
        return Workload("model", name, gflop=gflop, onnx=onnx_path, onnx_error=onnx_error,
                        manifest_path=bench_common.manifest_path(models_dir, name), manifest=manifest,
                        inputs=bench_common.input_files(models_dir, manifest))
    except Exception as e:  # noqa: BLE001 - a model that cannot be prepared is n/a, not a crash
        return Workload("model", spec, error=f"preparing it failed: {type(e).__name__}: {e}")


def gemm_initializer(b, dtype):
    """The constant B of a one-node GEMM model, in the element type `dtype` (f32, f16, bf16)."""
    import numpy as np
    from onnx import TensorProto, numpy_helper

    if dtype == "f32":
        return numpy_helper.from_array(b, "B")
    if dtype == "f16":
        return numpy_helper.from_array(b.astype(np.float16), "B")
    bits = b.view(np.uint32).astype(np.uint64)  # bf16: the top half of f32, rounded to even
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    tensor = TensorProto(name="B", data_type=TensorProto.BFLOAT16, dims=list(b.shape))
    tensor.raw_data = rounded.tobytes()
    return tensor


def prepare_gemm(shape, args, dtype="f32"):
    """The one-node model for `dtype` (tf32 runs the f32 one: the rounding is the runner's)."""
    m, n, k = shape
    name = f"{m}x{n}x{k}"
    stored = "f32" if dtype == "tf32" else dtype
    suffix = "" if stored == "f32" else f"_{stored}"
    path = Path(args.build_dir) / "gemm" / f"gemm_{name}{suffix}.onnx"
    try:
        if not path.exists():
            import numpy as np
            import onnx
            from onnx import TensorProto, helper

            elem = {"f32": TensorProto.FLOAT, "f16": TensorProto.FLOAT16,
                    "bf16": TensorProto.BFLOAT16}[stored]
            rng = np.random.RandomState(args.seed)
            b = (rng.standard_normal((k, n)) / math.sqrt(k)).astype(np.float32)
            graph = helper.make_graph(
                [helper.make_node("MatMul", ["A", "B"], ["C"])], f"gemm_{name}",
                [helper.make_tensor_value_info("A", elem, [m, k])],
                [helper.make_tensor_value_info("C", elem, [m, n])],
                initializer=[gemm_initializer(b, stored)])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                      producer_name="taskmap-benchmarks")
            model.ir_version = 8
            onnx.checker.check_model(model)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            onnx.save(model, str(tmp))
            tmp.replace(path)
        onnx_error = None
    except Exception as e:  # noqa: BLE001
        onnx_error = f"could not write the one-node model: {type(e).__name__}: {e}"
    return Workload("gemm", name, gflop=2.0 * m * n * k * 1e-9, m=m, n=n, k=k, onnx=path,
                    onnx_error=onnx_error, dtype=dtype)


# ------------------------------------------------------------------------------------------------
# Small C++ helpers: gemm_peers (oneDNN / OpenBLAS) and fma_peak (the machine's FMA throughput)
class CppTool:
    """Builds benchmarks/NAME.cpp with g++ into the build folder on first use, trying each
    (label, defines, libraries) variant in turn until one links."""

    def __init__(self, name, build_dir, variants, hint):
        self.source = HERE / f"{name}.cpp"
        self.binary = Path(build_dir) / name
        self.variants = variants
        self.hint = hint
        self.error = None
        self.built = False

    def ensure(self):
        if self.built or self.error:
            return self.error
        self.built = True
        stamp = self.binary.with_suffix(".variant")
        if (self.binary.exists() and self.binary.stat().st_mtime >= self.source.stat().st_mtime
                and stamp.exists()):
            return None
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        base = ["g++", "-O2", "-std=c++17", "-fopenmp", str(self.source), "-o", str(self.binary)]
        first_error = None
        for label, defines, libs in self.variants:
            log(f"building {self.binary} ({label})")
            try:
                p = subprocess.run(base[:4] + defines + base[4:] + libs, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=300)
            except (OSError, subprocess.TimeoutExpired) as e:
                self.error = f"could not run g++: {e}"
                return self.error
            if p.returncode == 0:
                stamp.write_text(label + "\n")
                return None
            first_error = first_error or tail(p.stderr)
        self.error = f"could not build {self.binary.name}{self.hint}: {first_error}"
        return self.error


def gemm_peers(build_dir):
    return CppTool("gemm_peers", build_dir,
                   [("dnnl+openblas", [], ["-ldnnl", "-lopenblas"]),
                    ("dnnl", ["-DGEMM_PEERS_NO_OPENBLAS"], ["-ldnnl"]),
                    ("openblas", ["-DGEMM_PEERS_NO_DNNL"], ["-lopenblas"])],
                   " (run scripts/install_deps.sh for libdnnl-dev and libopenblas-dev)")


def run_fma_peak(tool, threads, kernel):
    """One fma_peak run: (result dict, None) or (None, reason)."""
    error = tool.ensure()
    if error:
        return None, error
    try:
        p = subprocess.run([str(tool.binary), "--threads", str(threads), "--kernel", kernel],
                           env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        result = last_json(p.stdout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if result is None or "error" in result or not result.get("gflops"):
        return None, (result or {}).get("error", "no result")
    return result, None


def measure_peaks(args):
    """args.peaks: thread count -> (GFLOP/s, source). Given figures (--peak 1=...,2=...) are kept;
    the other thread counts are measured with fma_peak, or fall back to the reference machine's
    figures (BENCHMARKS.md) where that fails. args.ceilings: thread count -> GFLOP/s of a GEMM
    register micro-kernel whose operands sit in L1 (fma_peak --kernel gemm), the most any GEMM
    reaches here: printed beside the peak, so that a GEMM's share of the peak reads against it."""
    tool = CppTool("fma_peak", args.build_dir, [("avx512/avx2", [], [])], "")
    for threads in args.threads:
        if args.only != "models":
            log(f"measuring the L1 micro-kernel ceiling at {threads} thread(s)")
            ceiling, error = run_fma_peak(tool, threads, "gemm")
            if ceiling:
                args.ceilings[threads] = float(ceiling["gflops"])
                args.peak_probes[f"{threads}_gemm_kernel"] = ceiling
            else:
                log(f"could not measure the L1 micro-kernel ceiling ({error}); the GEMM tables "
                    "go without it")
        if threads in args.peaks:
            continue
        log(f"measuring the FMA peak at {threads} thread(s)")
        result, error = run_fma_peak(tool, threads, "fma")
        if result:
            args.peaks[threads] = (float(result["gflops"]), f"measured, {result.get('isa', '?')}")
            args.peak_probes[str(threads)] = result
        else:
            log(f"could not measure the FMA peak ({error or 'no result'}); using the reference "
                "machine's figure")
            args.peaks[threads] = (REFERENCE_PEAKS.get(threads, REFERENCE_PEAK_PER_THREAD * threads),
                                   "reference machine")


# ------------------------------------------------------------------------------------------------
# One run of one runner
def run_model(runner, w, threads, args):
    """One run: (result dict, None) or (None, reason)."""
    base = ["--threads", str(threads), "--warmup", str(args.warmup), "--repeat", str(args.repeat)]
    if runner == "taskmap":
        if not Path(args.taskmap).exists():
            return None, f"no taskmap binary at {args.taskmap} (build it or pass --taskmap)"
        cmd = [args.taskmap, "bench", str(w.onnx)] + base + ["--json"]
        for f in w.inputs:
            cmd += ["--input", str(f)]
        return run_json(cmd, clean_env(), args.timeout)
    peer = "ort" if runner == "ort" else "torch"
    if peer == "torch" and not w.manifest.get("torch_model"):
        return None, "no PyTorch module behind this model (only the torch exports have one)"
    # torch.set_num_threads(N) bounds PyTorch's own pool only. Debian's torch calls the pthreads
    # build of OpenBLAS, which otherwise starts a thread per core: a one-thread run did its GEMMs
    # on both cores (BERT-base's 128x3072x768: 2.4 ms wall, 4.8 ms of CPU; the model 127 ms
    # instead of 216). (At two threads that BLAS against torch's OpenMP pool stays slow either
    # way: BERT-base ~500 ms; "PyTorch cfg" is the configured run.)
    extra = {"OPENBLAS_NUM_THREADS": str(threads)}
    if runner == "torch_cfg":
        if not Path(OPENBLAS_OPENMP_DIR).is_dir():
            return None, (f"{OPENBLAS_OPENMP_DIR} missing (libopenblas0-openmp; run "
                          "scripts/install_deps.sh)")
        ld = os.environ.get("LD_LIBRARY_PATH")
        extra.update({"LD_LIBRARY_PATH": OPENBLAS_OPENMP_DIR + (":" + ld if ld else ""),
                      "OMP_NUM_THREADS": str(threads)})
        if args.openblas_coretype:
            extra["OPENBLAS_CORETYPE"] = args.openblas_coretype
    cmd = [peer_python(), str(HERE / "peer_runner.py"), peer, "--model", str(w.onnx),
           "--manifest", str(w.manifest_path)] + base
    return run_json(cmd, clean_env(extra), args.timeout)


def gemm_warmup(w, args):
    """Warm-up calls of a GEMM run: at least --warmup, and enough for about 0.1 s at 200 GFLOP/s
    (at most 2000). Small GEMMs need it: a thread pool that had just a few calls may still be
    waking its threads (seen as runs stuck at ~4-8 ms per call on a 2-vCPU VM). Every GEMM runner
    gets the same count."""
    enough = math.ceil(GEMM_WARMUP_S * GEMM_WARMUP_GFLOPS / w.gflop)
    return max(args.warmup, min(enough, GEMM_WARMUP_MAX))


def run_gemm(runner, w, threads, args, peers):
    base = ["--threads", str(threads), "--warmup", str(gemm_warmup(w, args)), "--repeat", str(args.repeat)]
    if runner == "taskmap":
        if not Path(args.taskmap).exists():
            return None, f"no taskmap binary at {args.taskmap} (build it or pass --taskmap)"
        if w.onnx_error:
            return None, w.onnx_error
        return run_json([args.taskmap, "bench", str(w.onnx)] + base + ["--json"], clean_env(), args.timeout)
    error = peers.ensure()
    if error:
        return None, error
    extra = {"OMP_NUM_THREADS": str(threads)}
    if runner == "openblas":
        extra = {"OPENBLAS_NUM_THREADS": str(threads)}
        if args.openblas_coretype:
            extra["OPENBLAS_CORETYPE"] = args.openblas_coretype
    cmd = [str(peers.binary), "--lib", runner, "--m", str(w.m), "--n", str(w.n), "--k", str(w.k),
           "--seed", str(args.seed)] + base
    return run_json(cmd, clean_env(extra), args.timeout)


# ------------------------------------------------------------------------------------------------
# Measuring and summarizing
geomean = bench_report.geomean


class CpuMode:
    """What the CPU benchmark runs: one table per thread count, the peers of LABELS."""

    labels = LABELS

    def __init__(self, args):
        self.args = args
        self.peers = gemm_peers(args.build_dir)

    def settings(self):
        return [{"threads": t} for t in self.args.threads]

    def heading(self, setting):
        return f"{setting['threads']} thread(s)"

    def tag(self, setting):
        return f"{setting['threads']}t"

    def runners_of(self, kind):
        return [r for r in (MODEL_RUNNERS if kind == "model" else GEMM_RUNNERS) if r in self.args.runners]

    def gemm_warmup(self, w):
        return gemm_warmup(w, self.args)

    def slot(self):
        return {"median_ms": None, "rounds_ms": [], "error": None, "detail": None}

    def run(self, runner, w, setting):
        if w.kind == "model":
            return run_model(runner, w, setting["threads"], self.args)
        return run_gemm(runner, w, setting["threads"], self.args, self.peers)

    def summarize(self, entry):
        summarize(entry, self.args)


class CudaMode:
    """What the GPU benchmark runs: one table per element type, the runners of cuda_bench."""

    labels = cuda_bench.LABELS

    def __init__(self, args):
        self.args = args

    def settings(self):
        return [{"dtype": d} for d in self.args.dtypes]

    def heading(self, setting):
        return setting["dtype"]

    tag = heading

    def runners_of(self, kind):
        return [r for r in (cuda_bench.MODEL_RUNNERS if kind == "model" else cuda_bench.GEMM_RUNNERS)
                if r in self.args.runners]

    def gemm_warmup(self, w):
        return cuda_bench.gemm_warmup(w, self.args)

    def slot(self):
        return {"median_ms": None, "rounds_ms": [], "device_median_ms": None, "device_rounds_ms": [],
                "error": None, "detail": None}

    def run(self, runner, w, setting):
        if w.kind == "model":
            return cuda_bench.run_model(runner, w, setting["dtype"], self.args)
        return cuda_bench.run_gemm(runner, w, setting["dtype"], self.args)

    def summarize(self, entry):
        cuda_bench.summarize(entry)


def measure(w, setting, args, mode):
    """Every round of every runner on workload w at one setting ({"threads": N} on the CPU,
    {"dtype": D} on the GPU): the entry of the results."""
    runners = mode.runners_of(w.kind)
    entry = {"kind": w.kind, "workload": w.name, **setting, "gflop": w.gflop,
             "runners": {r: mode.slot() for r in runners}}
    if w.kind == "gemm":
        entry.update({"m": w.m, "n": w.n, "k": w.k, "warmup": mode.gemm_warmup(w)})
    if w.error:
        for r in runners:
            entry["runners"][r]["error"] = w.error
        log(f"[{mode.tag(setting)} {w.name}] n/a: {w.error}")
        mode.summarize(entry)
        return entry
    if not runners:
        mode.summarize(entry)
        return entry
    for rnd in range(args.rounds):
        shift = rnd % len(runners)
        for r in runners[shift:] + runners[:shift]:
            slot = entry["runners"][r]
            if slot["error"]:
                continue  # a runner that failed once is n/a for this workload
            tag = f"[{mode.tag(setting)} {w.kind} {w.name} round {rnd + 1}/{args.rounds}] {mode.labels[r]}"
            start = time.time()
            result, error = mode.run(r, w, setting)
            if error:
                slot["error"] = error
                log(f"{tag}: n/a ({error})")
                continue
            slot["rounds_ms"].append(result["median_ms"])
            device = ""
            if "device_rounds_ms" in slot and result.get("device_median_ms") is not None:
                slot["device_rounds_ms"].append(result["device_median_ms"])
                device = f", device {result['device_median_ms']:.3f} ms"
            if slot["detail"] is None:
                detail = {k: v for k, v in result.items() if k not in ("median_ms", "detail")}
                detail.update(result.get("detail") or {})
                slot["detail"] = detail
            log(f"{tag}: {result['median_ms']:.3f} ms{device}  ({time.time() - start:.1f} s)")
    for r in runners:
        slot = entry["runners"][r]
        if slot["rounds_ms"]:  # a runner that failed in a later round keeps its earlier rounds
            slot["median_ms"] = statistics.median(slot["rounds_ms"])
        if slot.get("device_rounds_ms"):
            slot["device_median_ms"] = statistics.median(slot["device_rounds_ms"])
    mode.summarize(entry)
    return entry


def summarize(entry, args):
    runs = entry["runners"]
    tm = runs["taskmap"]["median_ms"] if "taskmap" in runs else None
    peers = {r: s["median_ms"] for r, s in runs.items() if r != "taskmap" and s["median_ms"]}
    best = min(peers, key=peers.get) if peers else None
    entry["best_peer"] = best
    entry["ratio_best"] = tm / peers[best] if tm and best else None
    entry["ratio_ort"] = tm / peers["ort"] if tm and "ort" in peers else None
    peak, source = args.peaks[entry["threads"]]  # (GFLOP/s, where the figure comes from)
    entry["peak_gflops"] = peak
    entry["peak_source"] = source
    gf = entry["gflop"]
    entry["taskmap_gflops"] = gf / (tm * 1e-3) if tm and gf else None
    entry["peak_share"] = entry["taskmap_gflops"] / peak if entry["taskmap_gflops"] else None
    entry["best_peer_gflops"] = gf / (peers[best] * 1e-3) if best and gf else None


# ------------------------------------------------------------------------------------------------
# Tables
def cpu_columns(kind, runners):
    from bench_report import Column, fmt, fmt_ms, geomean_column, percent

    cols = [Column("model" if kind == "model" else "M×N×K", lambda e: e["workload"]),
            Column("GFLOP", lambda e: fmt(e["gflop"], ".2f" if kind == "model" else ".3f"))]
    cols += [Column(f"{LABELS[r]} ms", lambda e, r=r: fmt_ms(e["runners"][r]["median_ms"])) for r in runners]
    cols += [geomean_column("taskmap/best", "ratio_best"),
             Column("best peer", lambda e: LABELS.get(e["best_peer"], "n/a"))]
    if kind == "model":
        cols += [geomean_column("taskmap/ORT", "ratio_ort")]
    cols += [Column("taskmap GFLOP/s", lambda e: fmt(e["taskmap_gflops"], ".1f")),
             Column("% of peak", lambda e: percent(e["peak_share"]))]
    if kind == "gemm":
        cols += [Column("best peer GFLOP/s", lambda e: fmt(e["best_peer_gflops"], ".1f"))]
    return cols


def report(results, args, meta, mode):
    text, md = [], []
    md.append(f"Run of {meta['date']} on {meta['cpu']} ({meta['cores']} cores), taskmap "
              f"{meta['taskmap_commit'] or 'unknown commit'}; {args.rounds} round{'s' if args.rounds > 1 else ''} × "
              f"(warmup {args.warmup} + repeat {args.repeat}), medians in ms.")
    for threads in args.threads:
        peak, source = args.peaks[threads]
        for kind, title in (("model", "Models"), ("gemm", "GEMMs")):
            entries = [e for e in results if e["threads"] == threads and e["kind"] == kind]
            if not entries:
                continue
            head, rows = bench_report.table(entries, cpu_columns(kind, mode.runners_of(kind)))
            caption = (f"{title}, {threads} thread{'s' if threads > 1 else ''} "
                       f"(FMA peak {peak:.0f} GFLOP/s, {source}")
            if kind == "gemm" and threads in args.ceilings:
                ceiling = args.ceilings[threads]
                caption += (f"; a GEMM micro-kernel with its operands in L1 reaches {ceiling:.0f}, "
                            f"{ceiling / peak:.0%} of it")
            caption += ")"
            bench_report.add_table(text, md, caption, head, rows, bench_report.na_notes(entries, LABELS))
    return "\n".join(text), "\n".join(md) + "\n"


# ------------------------------------------------------------------------------------------------
def parse_shapes(text):
    shapes = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        if item == "square":
            shapes += SQUARE_GEMMS
        elif item == "dl":
            shapes += DL_GEMMS
        else:
            parts = item.lower().replace("×", "x").split("x")
            if len(parts) == 1:
                parts = parts * 3
            if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
                raise argparse.ArgumentTypeError(f"bad GEMM shape {item!r}: use S, MxNxK, square or dl")
            shapes.append(tuple(int(p) for p in parts))
    return list(dict.fromkeys(shapes))


def parse_peaks(text):
    """--peak 'T=GFLOPS,...': the figures to use instead of measuring."""
    peaks = {}
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        if "=" not in item:
            raise argparse.ArgumentTypeError(f"bad --peak item {item!r}: use THREADS=GFLOPS")
        t, g = item.split("=", 1)
        peaks[int(t)] = (float(g), "given")
    return peaks


def machine_meta(args):
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = None
    try:
        p = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=10)
        commit = p.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        pass
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpu": cpu,
            "cores": os.cpu_count(), "python": sys.version.split()[0], "argv": sys.argv[1:],
            "taskmap": str(args.taskmap), "taskmap_commit": commit}
    if args.target == "cuda":
        meta.update({"target": "cuda", "device": CUDA_INFO, "settings": cuda_bench.settings(args)})
        return meta
    meta["settings"] = {"threads": args.threads, "runners": args.runners, "rounds": args.rounds, "warmup": args.warmup,
                        "repeat": args.repeat, "seed": args.seed, "openblas_coretype": args.openblas_coretype,
                        "peaks": {str(k): {"gflops": v[0], "source": v[1]} for k, v in args.peaks.items()},
                        "peak_probes": args.peak_probes,
                        "l1_kernel_ceilings": {str(k): v for k, v in args.ceilings.items()}}
    return meta


CPU_DEFAULTS = {"models": "all", "gemms": "square,dl", "dtypes": "f32", "rounds": 5, "warmup": 3,
                "repeat": 20}


def main():
    global CUDA_INFO
    cpu_runners = ",".join(dict.fromkeys(MODEL_RUNNERS + GEMM_RUNNERS))
    cuda_runners = ",".join(dict.fromkeys(cuda_bench.MODEL_RUNNERS + cuda_bench.GEMM_RUNNERS))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu",
                        help="cpu: this machine's cores against ORT, PyTorch, oneDNN and OpenBLAS "
                        "(the default); cuda: the first NVIDIA GPU against PyTorch eager, "
                        "torch.compile and cuBLAS (needs a python with torch for CUDA)")
    parser.add_argument("--threads", default="2", help="thread counts, comma-separated (default 2; "
                        "ignored with --target cuda)")
    parser.add_argument("--models", default=None,
                        help="comma-separated: " + ", ".join(TORCH_MODELS) + " (PyTorch exports), "
                        "bundled_NAME (taskmap export NAME), a path to an .onnx file, or the groups "
                        "'torch', 'bundled', 'all' (default: all = torch + bundled; cuda: torch)")
    parser.add_argument("--gemms", default=None,
                        help="comma-separated GEMM shapes: S (square), MxNxK, or the groups 'square' "
                        "(256,512,1024,2048) and 'dl' (BERT/ResNet-50 shapes) (default square,dl; "
                        f"cuda: {cuda_bench.DEFAULTS['gemms']})")
    parser.add_argument("--dtypes", default=None,
                        help="element types, comma-separated, with --target cuda: f32, bf16, f16 "
                        "(default f32; one table each); taskmap's models run in f32 only")
    parser.add_argument("--only", choices=["models", "gemms"], help="run only models or only GEMMs")
    parser.add_argument("--runners", default=None,
                        help=f"runners to use, comma-separated (default all: {cpu_runners}; "
                        f"cuda: {cuda_runners})")
    parser.add_argument("--rounds", type=int, default=None, help="alternation rounds (default 5; cuda 3)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed iterations per run (default 20; cuda 50)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed iterations per run (default 3; "
                        "cuda 10; GEMMs: at least this, and enough for ~0.1 s)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny check (< 1 min): bundled mobilenet_v2 and a 128^3 GEMM (cuda: "
                        "256^3, f32), 1 round, warmup 1, repeat 3")
    parser.add_argument("--taskmap", default=str(REPO / "build/release/tools/taskmap/taskmap"),
                        help="the taskmap CLI (default build/release/tools/taskmap/taskmap)")
    parser.add_argument("--out-dir", default=str(HERE / "models"),
                        help="folder of the models and their inputs (default benchmarks/models)")
    parser.add_argument("--build-dir", default=str(HERE / "build"),
                        help="folder of gemm_peers and the GEMM models (default benchmarks/build)")
    parser.add_argument("--json", default=str(HERE / "results" / "latest.json"),
                        help="where to write all results (default benchmarks/results/latest.json)")
    parser.add_argument("--markdown", help="also write the tables as markdown to this file")
    parser.add_argument("--peak", default="", help="FMA peak GFLOP/s per thread count, e.g. "
                        "'1=253,2=496' (default: measured on this machine by fma_peak.cpp, "
                        "24 independent vector FMA chains per thread, best of 10 rounds)")
    parser.add_argument("--openblas-coretype", default="SkylakeX",
                        help="OPENBLAS_CORETYPE of the OpenBLAS GEMM peer and of PyTorch cfg "
                        "(default SkylakeX; '' lets OpenBLAS detect)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one run may take (default 1800)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and inputs (default 0)")
    args = parser.parse_args()
    cuda = args.target == "cuda"
    for key, value in (cuda_bench.DEFAULTS if cuda else CPU_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.runners is None:
        args.runners = cuda_runners if cuda else cpu_runners
    labels = cuda_bench.LABELS if cuda else LABELS

    try:
        args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
        if not args.threads or min(args.threads) < 1:
            raise ValueError
    except ValueError:
        parser.error("--threads takes positive integers, e.g. 1,2")
    try:
        args.peaks = parse_peaks(args.peak)
        gemm_shapes = parse_shapes(args.gemms)
    except (argparse.ArgumentTypeError, ValueError) as e:
        parser.error(str(e))
    args.dtypes = list(dict.fromkeys(d.strip() for d in args.dtypes.split(",") if d.strip()))
    if not args.dtypes or any(d not in cuda_bench.DTYPES for d in args.dtypes):
        parser.error(f"--dtypes takes {', '.join(cuda_bench.DTYPES)}")
    if not cuda and args.dtypes != ["f32"]:
        parser.error("--dtypes other than f32 need --target cuda")
    args.runners = [r.strip() for r in args.runners.split(",") if r.strip()]
    unknown = [r for r in args.runners if r not in labels]
    if unknown:
        parser.error(f"unknown runner(s) {', '.join(unknown)}; known: {', '.join(labels)}")
    if args.smoke:
        args.rounds, args.warmup, args.repeat = 1, 1, 3
        args.models, gemm_shapes = "bundled_mobilenet_v2", [(128, 128, 128)]
        if cuda:
            gemm_shapes, args.dtypes = [cuda_bench.SMOKE_GEMM], ["f32"]
    if args.rounds < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--rounds and --repeat must be >= 1, --warmup >= 0")
    if cuda:
        if CUDA_INFO is None:  # --target not spelled out in full, so not seen at the start
            CUDA_INFO = cuda_bench.probe(sys.executable)
        if "error" in CUDA_INFO:
            cuda_bench.say_no_device(CUDA_INFO)
            return 2
    args.taskmap = str(Path(args.taskmap).resolve()) if Path(args.taskmap).exists() else args.taskmap

    specs = []
    for item in [x.strip() for x in args.models.split(",") if x.strip()]:
        if item in ("all", "torch"):
            specs += TORCH_MODELS
        if item in ("all", "bundled"):
            specs += ["bundled_" + n for n in bundled_names(args.taskmap)]
        if item not in ("all", "torch", "bundled"):
            specs.append(item)
    specs = list(dict.fromkeys(specs))

    started = time.time()
    args.peak_probes, args.ceilings = {}, {}
    if not cuda:
        measure_peaks(args)
    meta = machine_meta(args)
    models = [prepare_model(spec, args) for spec in specs] if args.only != "gemms" else []
    gemms = {d: [prepare_gemm(shape, args, d) for shape in gemm_shapes] if args.only != "models" else []
             for d in args.dtypes}
    mode = CudaMode(args) if cuda else CpuMode(args)

    results = []
    for setting in mode.settings():
        workloads = models + gemms[setting.get("dtype", "f32")]
        for i, w in enumerate(workloads):
            log(f"== {mode.heading(setting)}: {w.kind} {w.name} ({i + 1}/{len(workloads)})")
            try:
                results.append(measure(w, setting, args, mode))
            except Exception as e:  # noqa: BLE001 - never lose the other workloads' results
                log(f"[{mode.tag(setting)} {w.name}] failed: {type(e).__name__}: {e}")
                w.error = f"{type(e).__name__}: {e}"
                results.append(measure(w, setting, args, mode))

    if cuda:
        text, md = cuda_bench.report(results, args, meta, mode.runners_of)
        summary = cuda_bench.summary(results, args)
    else:
        text, md = report(results, args, meta, mode)
        summary = {}
        for threads in args.threads:
            models = [e for e in results if e["threads"] == threads and e["kind"] == "model"]
            gemms = [e for e in results if e["threads"] == threads and e["kind"] == "gemm"]
            summary[str(threads)] = {
                "models_geomean_ratio_ort": geomean([e["ratio_ort"] for e in models]),
                "models_geomean_ratio_best": geomean([e["ratio_best"] for e in models]),
                "gemms_geomean_ratio_best": geomean([e["ratio_best"] for e in gemms])}
    print(text, flush=True)
    meta["wall_s"] = round(time.time() - started, 1)
    out = {"meta": meta, "summary": summary, "results": results}
    json_path = Path(args.json)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    log(f"wrote {json_path} ({meta['wall_s']} s in all)")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(md)
        log(f"wrote {args.markdown}")
    if args.smoke and "taskmap" in args.runners and not any(
            e["runners"]["taskmap"]["median_ms"] for e in results if "taskmap" in e["runners"]):
        log("smoke: taskmap gave no figure at all")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
