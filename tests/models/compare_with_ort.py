#!/usr/bin/env python3
"""Runs models through taskmap and ONNX Runtime on the same file and inputs and compares outputs.

Each MODEL is a bundled model name (exported with `taskmap export NAME --seed S`) or a path to an
ONNX file. Inputs are seeded: floats standard normal, integers (token ids) uniform in [0, 1000).
An output passes when max|taskmap - ORT| <= tolerance * max|ORT| and the reference is finite and
not all zero. One line per model; the exit status is 1 when any model fails. The model files it
wrote are deleted once they match (`--keep-models` keeps them).

  compare_with_ort.py --taskmap build/release/tools/taskmap/taskmap [MODEL...] [--torchvision]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
NP_DTYPES = {
    onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64, onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.BOOL: np.bool_,
}


def bundled_names(taskmap):
    out = subprocess.run([taskmap, "export", "--list"], check=True, capture_output=True,
                         text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def graph_inputs(path):
    """(name, numpy dtype, shape) of every graph input that is not an initializer."""
    model = onnx.load(path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    inputs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tensor_type.shape.dim]
        inputs.append((value.name, NP_DTYPES[tensor_type.elem_type], shape))
    return inputs


def make_inputs(path, seed, folder):
    rng = np.random.default_rng(seed)
    feeds, files = {}, []
    for k, (name, dtype, shape) in enumerate(graph_inputs(path)):
        if np.issubdtype(dtype, np.floating):
            value = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            value = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            value = rng.integers(0, 1000, size=shape).astype(dtype)
        file = folder / f"input_{k}.npy"
        np.save(file, value)
        feeds[name] = value
        files.append(file)
    return feeds, files


def run_taskmap(args, path, input_files, out_dir):
    cmd = [args.taskmap, "run", str(path), "--output-dir", str(out_dir), "--format", "npy"]
    for f in input_files:
        cmd += ["--input", str(f)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip()
        raise RuntimeError(f"taskmap run failed ({proc.returncode}): {message}")
    compiled = re.search(r"^compiled .* in ([0-9.]+) s \((\d+) built", proc.stdout, re.M)
    ran = re.search(r"^ran\s+in ([0-9.]+) ms", proc.stdout, re.M)
    timing = ""
    if compiled and ran:
        timing = (f"compile {float(compiled.group(1)):.1f} s ({compiled.group(2)} built)  "
                  f"run {float(ran.group(1)):.1f} ms")
    return timing


def compare(args, label, path, folder):
    """Returns (passed, line)."""
    feeds, input_files = make_inputs(path, args.seed, folder)
    out_dir = folder / "taskmap_out"
    shutil.rmtree(out_dir, ignore_errors=True)
    timing = run_taskmap(args, path, input_files, out_dir)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    references = session.run(None, feeds)
    worst, problems = 0.0, []
    for k, (meta, ref) in enumerate(zip(session.get_outputs(), references)):
        got = np.load(out_dir / f"output_{k}.npy")
        if got.shape != ref.shape:
            problems.append(f"{meta.name}: shape {got.shape} vs ORT {ref.shape}")
            continue
        if not np.all(np.isfinite(ref)) or not np.any(ref):
            problems.append(f"{meta.name}: the ORT output is not finite or all zero")
            continue
        scale = float(np.max(np.abs(ref.astype(np.float64))))
        diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
        if not np.isfinite(diff):
            diff = float("inf")
        ratio = diff / scale
        worst = max(worst, ratio)
        if not ratio <= args.tolerance:
            problems.append(f"{meta.name}: max|diff| {diff:.3g} > {args.tolerance:g} * "
                            f"max|ref| {scale:.3g}")
    passed = not problems
    line = f"{'PASS' if passed else 'FAIL'}  {label:<24} ratio {worst:.2e}  {timing}"
    if problems:
        line += "\n      " + "\n      ".join(problems)
    return passed, line


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*",
                        help="bundled model names or .onnx paths (default: every bundled model)")
    parser.add_argument("--taskmap", required=True, help="path of the taskmap binary")
    parser.add_argument("--work-dir", default="models-test",
                        help="folder for models, inputs and outputs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and inputs")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="allowed max|diff| / max|reference|")
    parser.add_argument("--threads", type=int, default=0, help="threads taskmap's kernels use")
    parser.add_argument("--torchvision", action="store_true",
                        help="also export and check torchvision resnet50 / mobilenet_v2 (opset 13)")
    parser.add_argument("--keep-models", action="store_true",
                        help="keep the models this script wrote even when they match (they are "
                             "1.3 GB together; a failing model's file is always kept)")
    args = parser.parse_args()
    args.taskmap = os.path.abspath(args.taskmap)
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)

    models = list(args.models) or bundled_names(args.taskmap)
    if args.torchvision:
        subprocess.run([sys.executable, str(HERE / "export_torchvision.py"), "--out-dir",
                        str(work), "--seed", str(args.seed)], check=True)
        models += [str(work / f"torchvision_{name}.onnx") for name in ("resnet50", "mobilenet_v2")]

    failures = 0
    for model in models:
        start = time.monotonic()
        is_file = model.endswith(".onnx") or os.path.sep in model
        label = Path(model).stem if is_file else model
        folder = work / label
        folder.mkdir(parents=True, exist_ok=True)
        path = None
        try:
            if is_file:
                path = Path(model).resolve()
            else:
                path = folder / f"{model}.onnx"
                subprocess.run([args.taskmap, "export", model, "-o", str(path), "--seed",
                                str(args.seed)], check=True, capture_output=True, text=True)
            passed, line = compare(args, label, path, folder)
        except Exception as error:  # noqa: BLE001 -- one failing model must not stop the others
            detail = getattr(error, "stderr", None) or str(error)
            passed, line = False, f"FAIL  {label:<24} {detail.strip()}"
        failures += not passed
        if passed and path and not args.keep_models and path.is_relative_to(work):
            path.unlink(missing_ok=True)
        print(f"{line}  ({time.monotonic() - start:.0f} s total)", flush=True)
    print(f"{len(models) - failures} of {len(models)} models match ONNX Runtime")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
