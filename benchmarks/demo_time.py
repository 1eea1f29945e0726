"""Where a `make demo` run's time went: network training, translation (with each method's t0 choice), FER runs and
the rest (data rendering, metrics, the ablation's in-memory sweeps, notebook start-up), from the files the run left
in its work folder: each network's training log, each translation folder's first and last file, each t0 record and
each FER run's own timing. Run after `make demo`:

    .venv/bin/python benchmarks/demo_time.py [runs/demo]

Prints one JSON object (seconds; per regime where it applies). The machine is the one in runs/demo/demo.json."""
import json, sys
from collections import defaultdict
from pathlib import Path

def regime_of(path: Path, work: Path) -> str:
    "'all_nir' for the work folder itself, else the regime folder's name (e.g. 'nir_33')."
    parts = path.relative_to(work).parts
    return parts[1] if parts[0] == 'regimes' else 'all_nir'

def network_seconds(work: Path) -> dict:
    "Training time of every network (last minus first step of its log, plus one mean step), summed per regime."
    out = defaultdict(float)
    for log in work.rglob('log.jsonl'):
        times = [json.loads(l)['time'] for l in log.read_text().splitlines() if l.strip()]
        if len(times) > 1: out[regime_of(log, work)] += times[-1] - times[0] + (times[-1] - times[0]) / (len(times) - 1)
    return dict(out)

def translation_seconds(work: Path) -> dict:
    "Time from each translation's record (written first) to its manifest (written last), and each t0 choice's own time, per regime."
    out = defaultdict(float)
    for record in work.rglob('translation.json'):
        manifest = record.with_name('manifest.csv')
        if manifest.exists(): out[regime_of(record, work)] += manifest.stat().st_mtime - record.stat().st_mtime
    for t0 in work.rglob('t0/*.json'):
        out[regime_of(t0, work)] += json.loads(t0.read_text()).get('seconds') or 0.
    return dict(out)

def fer_seconds(work: Path) -> dict:
    "The FER runs' own training and test time, and their number, per regime."
    out = defaultdict(lambda: {'seconds': 0., 'runs': 0})
    for run in work.rglob('fer_*/fold_*_seed_*.json'):
        r = out[regime_of(run, work)]; r['seconds'] += json.loads(run.read_text())['seconds']; r['runs'] += 1
    return {k: dict(v) for k, v in out.items()}

def main(run_dir: Path) -> dict:
    demo, work = json.loads((run_dir / 'demo.json').read_text())['run'], run_dir / 'work'
    parts = {'networks': network_seconds(work), 'translations': translation_seconds(work), 'fer': fer_seconds(work)}
    total = demo['minutes'] * 60
    counted = sum(parts['networks'].values()) + sum(parts['translations'].values()) + sum(v['seconds'] for v in parts['fer'].values())
    r = lambda d: {k: (round(v, 1) if isinstance(v, float) else {a: round(b, 1) for a, b in v.items()}) for k, v in d.items()}
    return dict(run=str(run_dir), machine=demo['machine'], from_scratch=demo['from_scratch'], total_seconds=round(total, 1),
                networks=r(parts['networks']), translations=r(parts['translations']), fer_runs=r(parts['fer']),
                other_seconds=round(total - counted, 1))

if __name__ == '__main__':
    print(json.dumps(main(Path(sys.argv[1] if len(sys.argv) > 1 else 'runs/demo'))))
