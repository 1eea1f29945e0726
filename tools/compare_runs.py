"""Compare two demo (or study) output folders file by file: are their results identical?

Every CSV, JSON, JSONL, Markdown, PNG and checkpoint (.pt) file of A is compared with the same file of B, after
setting aside what legitimately differs between two runs: timing fields (seconds, time, images_per_s, minutes,
finished, ...), each folder's own absolute path, and the FER runs' `fingerprint`s (hashes of those paths). Prints
the number of files and every file that still differs; exits 1 if any does.

    python tools/compare_runs.py runs/demo_before runs/demo_after
    python tools/compare_runs.py --tiny-demo OUT   # run the test suite's tiny demo into OUT first (a few minutes)

Use it to check that a refactoring changes no result: run the same demo with the old and the new code (for the
old: `git worktree add /tmp/old REV` and `PYTHONPATH=/tmp/old`, run from outside the checkout) and compare.
"""
import argparse, io, json, sys
from pathlib import Path
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TIMING = {'seconds', 'time', 'images_per_s', 'wall_s', 'started', 'finished', 'elapsed', 'minutes'}
SUFFIXES = ('.csv', '.json', '.jsonl', '.md', '.png', '.pt')

def _strip(o, root: Path):
    "A JSON value without timing fields or path fingerprints, with `root` replaced by 'ROOT'."
    if isinstance(o, dict): return {k: _strip(v, root) for k, v in o.items() if k not in TIMING and k != 'fingerprint'}
    if isinstance(o, list): return [_strip(v, root) for v in o]
    return o.replace(str(root), 'ROOT') if isinstance(o, str) else o

def comparable(path: Path, root: Path):
    "What of `path` (a file under the run folder `root`) must be equal between two runs."
    if path.suffix == '.json': return _strip(json.loads(path.read_text()), root)
    if path.suffix == '.jsonl': return [_strip(json.loads(l), root) for l in path.read_text().splitlines() if l.strip()]
    if path.suffix == '.csv':
        df = pd.read_csv(io.StringIO(path.read_text().replace(str(root), 'ROOT')), keep_default_na=False)
        return df.drop(columns=[c for c in df.columns if c in TIMING]).to_csv(index=False)
    if path.suffix == '.md': return [l for l in path.read_text().replace(str(root), 'ROOT').splitlines() if 'min (from scratch)' not in l]
    return path.read_bytes()

def compare(a: Path, b: Path) -> list[str]:
    "The problems: files of `a` missing in `b` or differing from it."
    files = sorted(p.relative_to(a) for p in a.rglob('*') if p.is_file() and p.suffix in SUFFIXES)
    missing = [f'missing in {b}: {f}' for f in files if not (b / f).exists()]
    differ = [f'differs: {f}' for f in files if (b / f).exists() and comparable(a / f, a) != comparable(b / f, b)]
    print(f"{len(files)} files compared; {len(missing)} missing, {len(differ)} differ (timings, the folders' paths and path fingerprints set aside)")
    return missing + differ

def tiny_demo(out: Path):
    "The demo at the test suite's tiny settings (`tests/test_experiments.py`), into `out`."
    sys.path.insert(0, str(ROOT / 'tests'))
    from test_experiments import CURVE, LOW_NIR, TINY
    try: from nfer_sde.study import run_demo
    except ImportError: from nfer_sde.pipeline import run_demo  # a revision before `study` was split off (08e22b3 and older)
    run_demo(out, progress=False, t0_fractions=[0.5], step_counts=[2], weight_factors=[0, 1], low_nir_methods=LOW_NIR, **CURVE, **TINY)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('a', type=Path, nargs='?'); ap.add_argument('b', type=Path, nargs='?')
    ap.add_argument('--tiny-demo', type=Path, help='run the tiny demo into this folder instead of comparing')
    args = ap.parse_args()
    if args.tiny_demo: tiny_demo(args.tiny_demo); sys.exit(0)
    if not (args.a and args.b): ap.error('give two folders, or --tiny-demo OUT')
    problems = compare(args.a, args.b)
    for p in problems[:50]: print('  ' + p)
    sys.exit(1 if problems else 0)
