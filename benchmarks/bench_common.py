"""Helpers shared by the benchmark scripts: model manifests, fixed input sets, FLOP counts.

A benchmarked model NAME lives in a models folder as
    NAME.onnx            the model
    NAME.inputs/NN_X.npy its fixed input set, one file per graph input, in graph-input order
    NAME.json            the manifest: where the model came from and the input files, e.g.
                         {"model": "resnet50", "source": "torch", "torch_model": "resnet50",
                          "seed": 0, "inputs": [{"name": "input", "file": "resnet50.inputs/00_input.npy",
                          "dtype": "float32", "shape": [1, 3, 224, 224]}]}
Every runner reads the same NAME.onnx and the same .npy files.
"""
import json
import re
from pathlib import Path

import numpy as np

# numpy dtype of each ONNX TensorProto element type that a graph input may have here.
ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64,
               9: np.bool_, 10: np.float16, 11: np.float64}


def manifest_path(models_dir, name):
    return Path(models_dir) / f"{name}.json"


def read_manifest(models_dir, name):
    path = manifest_path(models_dir, name)
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def write_manifest(models_dir, name, manifest):
    path = manifest_path(models_dir, name)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    tmp.replace(path)


def inputs_complete(models_dir, manifest):
    """True when the manifest lists inputs and every listed file exists."""
    if not manifest or not manifest.get("inputs"):
        return False
    return all((Path(models_dir) / e["file"]).exists() for e in manifest["inputs"])


def input_files(models_dir, manifest):
    return [Path(models_dir) / e["file"] for e in manifest["inputs"]]


def save_inputs(models_dir, name, named_arrays):
    """Writes NAME.inputs/NN_X.npy for [(input name, array)] in graph-input order; returns the
    manifest entries."""
    folder = Path(models_dir) / f"{name}.inputs"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (input_name, array) in enumerate(named_arrays):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", input_name)
        rel = f"{name}.inputs/{i:02d}_{safe}.npy"
        np.save(Path(models_dir) / rel, np.ascontiguousarray(array))
        entries.append({"name": input_name, "file": rel, "dtype": str(array.dtype),
                        "shape": list(array.shape)})
    return entries


def graph_inputs(model):
    """The graph inputs that are not initializers, in order: [(name, elem_type, dims)], where a
    dim is an int or the name of a symbolic dimension (or None)."""
    initializers = {t.name for t in model.graph.initializer}
    result = []
    for vi in model.graph.input:
        if vi.name in initializers:
            continue
        tt = vi.type.tensor_type
        dims = []
        for d in tt.shape.dim:
            if d.HasField("dim_value"):
                dims.append(int(d.dim_value))
            else:
                dims.append(d.dim_param or None)
        result.append((vi.name, tt.elem_type, dims))
    return result


def generate_inputs(model, seed, dims=None):
    """A seeded input set for any ONNX model: floats N(0,1); integer inputs that index an
    embedding (Gather of an initializer) get ids in [0, rows); integer inputs named like a mask get
    ones; other integers zeros. Symbolic dims come from `dims` ({name: value}) or raise."""
    dims = dims or {}
    init_shapes = {t.name: list(t.dims) for t in model.graph.initializer}
    vocab = {}
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) >= 2 and node.input[0] in init_shapes:
            axis = 0
            for a in node.attribute:
                if a.name == "axis":
                    axis = a.i
            rows = init_shapes[node.input[0]][axis]
            vocab[node.input[1]] = min(vocab.get(node.input[1], rows), rows)
    rng = np.random.RandomState(seed)
    arrays = []
    for name, elem_type, shape in graph_inputs(model):
        concrete = []
        for d in shape:
            if isinstance(d, int):
                concrete.append(d)
            elif d in dims:
                concrete.append(int(dims[d]))
            else:
                raise ValueError(f"input {name} has a symbolic dimension {d!r}; give its size")
        dtype = ONNX_DTYPES.get(elem_type)
        if dtype is None:
            raise ValueError(f"input {name} has an unsupported element type {elem_type}")
        if np.issubdtype(dtype, np.floating):
            array = rng.standard_normal(concrete).astype(dtype)
        elif dtype == np.bool_:
            array = np.ones(concrete, dtype=dtype)
        elif name in vocab:
            array = rng.randint(0, vocab[name], size=concrete).astype(dtype)
        elif "mask" in name.lower():
            array = np.ones(concrete, dtype=dtype)
        else:
            array = np.zeros(concrete, dtype=dtype)
        arrays.append((name, array))
    return arrays


def _shape_table(model):
    shapes = {}

    def add(vi):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            return
        dims = []
        for d in tt.shape.dim:
            if not d.HasField("dim_value"):
                return
            dims.append(int(d.dim_value))
        shapes[vi.name] = dims

    for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        add(vi)
    for t in model.graph.initializer:
        shapes[t.name] = list(t.dims)
    return shapes


def count_gflop(onnx_path):
    """2 x the multiply-accumulates of the Conv, ConvTranspose, MatMul and Gemm nodes of a model
    (shapes from ONNX shape inference), in GFLOP; None when a shape stays unknown."""
    import onnx

    model = onnx.load(str(onnx_path))
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - best effort: fall back to the shapes the file states
        pass
    shapes = _shape_table(model)
    macs = 0
    for node in model.graph.node:
        op = node.op_type
        if op not in ("Conv", "ConvTranspose", "MatMul", "Gemm"):
            continue
        ins = [shapes.get(x) for x in node.input[:2]]
        out = shapes.get(node.output[0])
        if any(s is None for s in ins) or out is None:
            return None
        a, b = ins
        if op == "Conv":
            # out [N, Cout, spatial...], weight [Cout, Cin/group, k...]
            macs += int(np.prod(out, dtype=np.int64)) * int(np.prod(b[1:], dtype=np.int64))
        elif op == "ConvTranspose":
            # in [N, Cin, spatial...], weight [Cin, Cout/group, k...]
            macs += int(np.prod(a, dtype=np.int64)) * int(np.prod(b[1:], dtype=np.int64))
        elif op == "MatMul":
            macs += int(np.prod(out, dtype=np.int64)) * int(a[-1])
        else:  # Gemm
            trans_a = any(x.name == "transA" and x.i for x in node.attribute)
            k = a[0] if trans_a else a[1]
            macs += int(np.prod(out, dtype=np.int64)) * int(k)
    return 2.0 * macs * 1e-9
