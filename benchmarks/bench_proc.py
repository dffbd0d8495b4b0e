"""Running one runner of benchmarks/run.py in a process of its own and reading its JSON result.
Standard library only: run.py uses it before it knows which python it will run under.
"""
import json
import os
import subprocess
import sys

# Threading variables of the caller's environment, removed from every runner's.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OMP_PROC_BIND", "OMP_PLACES")


def log(message):
    print(message, file=sys.stderr, flush=True)


def clean_env(extra=None):
    """The environment of a runner: ours without threading variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.pop("TASKMAP_BENCH_IN_VENV", None)
    env.update(extra or {})
    return env


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def tail(text, limit=300):
    lines = [l.strip() for l in (text or "").strip().splitlines() if l.strip()]
    return (lines[-1] if lines else "")[-limit:]


def run_json(cmd, env, timeout):
    """Runs cmd; returns (result dict, None) or (None, reason)."""
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    except OSError as e:
        return None, f"could not start {cmd[0]}: {e}"
    result = last_json(p.stdout)
    if result is not None and "error" in result:
        return None, str(result["error"])[:300]
    if p.returncode != 0:
        why = tail(p.stderr) or tail(p.stdout) or ""
        return None, f"exit status {p.returncode}" + (f": {why}" if why else "")
    if result is None or "median_ms" not in result:
        return None, "no JSON result with median_ms in the output: " + (tail(p.stdout) or tail(p.stderr))
    return result, None
