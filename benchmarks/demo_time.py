"""Where a `make demo` run's time went: network training, translation (with each method's t0 choice), FER runs and
the rest (data rendering, metrics, the ablation's in-memory sweeps, notebook start-up), from the files the run left
in its work folder: each network's training log, each translation folder's first and last file, each t0 record and
each FER run's own timing (jobs that end after the demo's `main_table.md` are left out: a benchmark that reuses the
work folder is not the demo). Wall seconds count time covered by at least one job (parallel workers' jobs once),
job seconds add up the jobs; each network's training time per fold is listed too. Run after `make demo`:

    .venv/bin/python benchmarks/demo_time.py [runs/demo]

Prints one JSON object (seconds; per regime where it applies). The machine is the one in runs/demo/demo.json."""
import json, sys
from collections import defaultdict
from pathlib import Path

def regime_of(path: Path, work: Path) -> str:
    "'all_nir' for the work folder itself, else the regime folder's name (e.g. 'nir_33')."
    parts = path.relative_to(work).parts
    return parts[1] if parts[0] == 'regimes' else 'all_nir'

def busy(intervals) -> float:
    "Wall-clock seconds covered by (start, end) intervals: jobs that ran at the same time in parallel workers count once."
    total, reach = 0., float('-inf')
    for a, b in sorted(intervals):
        if b > reach: total += b - max(a, reach); reach = b
    return total

def log_span(log: Path):
    "A training's (start, end) from its log: first to last step, plus one mean step; None for fewer than two steps."
    times = [json.loads(l)['time'] for l in log.read_text().splitlines() if l.strip()]
    return (times[0] - (times[-1] - times[0]) / (len(times) - 1), times[-1]) if len(times) > 1 else None

def network_intervals(work: Path) -> dict:
    "Each network's training (`log_span`), per regime."
    out = defaultdict(list)
    for log in work.rglob('log.jsonl'):
        if span := log_span(log): out[regime_of(log, work)].append(span)
    return out

def network_seconds(work: Path) -> dict:
    "Each kind of network's training seconds per fold (`log_span`), per regime: {regime: {network: [s, ...]}}."
    out = defaultdict(lambda: defaultdict(list))
    for log in sorted(work.rglob('nets/fold_*/*/log.jsonl')):
        if span := log_span(log): out[regime_of(log, work)][log.parent.name].append(round(span[1] - span[0], 1))
    return {r: dict(nets) for r, nets in out.items()}

def translation_intervals(work: Path) -> dict:
    "Each translation, from its record (written first) to its manifest (written last), and each t0 choice, per regime."
    out = defaultdict(list)
    for record in work.rglob('translation.json'):
        manifest = record.with_name('manifest.csv')
        if manifest.exists(): out[regime_of(record, work)].append((record.stat().st_mtime, manifest.stat().st_mtime))
    for t0 in work.rglob('t0/*.json'):
        end = t0.stat().st_mtime
        out[regime_of(t0, work)].append((end - (json.loads(t0.read_text()).get('seconds') or 0.), end))
    return out

def fer_intervals(work: Path) -> dict:
    "Each FER run, ending when its record was written and lasting its own timing, per regime."
    out = defaultdict(list)
    for run in work.rglob('fer_*/fold_*_seed_*.json'):
        end = run.stat().st_mtime
        out[regime_of(run, work)].append((end - json.loads(run.read_text())['seconds'], end))
    return out

def main(run_dir: Path) -> dict:
    demo, work = json.loads((run_dir / 'demo.json').read_text())['run'], run_dir / 'work'
    parts = {'networks': network_intervals(work), 'translations': translation_intervals(work), 'fer_runs': fer_intervals(work)}
    finished = (run_dir / 'main_table.md').stat().st_mtime + 1  # the demo's last file: what ends later (a benchmark reusing the work folder) is not the demo's
    parts = {name: {r: [iv for iv in ivs if iv[1] <= finished] for r, ivs in part.items()} for name, part in parts.items()}
    every = [iv for part in parts.values() for ivs in part.values() for iv in ivs]
    out = dict(run=str(run_dir), machine=demo['machine'], from_scratch=demo['from_scratch'], total_seconds=round(demo['minutes'] * 60, 1))
    for name, part in parts.items():
        out[name] = {regime: dict(wall_seconds=round(busy(ivs), 1), job_seconds=round(sum(b - a for a, b in ivs), 1), jobs=len(ivs))
                     for regime, ivs in part.items()}
    out['other_seconds'] = round(out['total_seconds'] - busy(every), 1)  # data, metrics, the ablation's sweeps, notebook start-up
    out['network_seconds_per_fold'] = network_seconds(work)  # in parallel workers: each job's own time, with the other worker busy
    return out

if __name__ == '__main__':
    print(json.dumps(main(Path(sys.argv[1] if len(sys.argv) > 1 else 'runs/demo'))))
