"""Which FER classifier and training choices for the CPU profiles: training throughput of each candidate network
at 64 px (one thread), and, with --accuracy, the 3-fold subject-independent accuracy (`fer.fer_protocol`, real NIR
only) on the built-in synthetic data of (a) the training choices at 32 px (label smoothing, augmentation,
dropout; label smoothing over 4 training seeds, as its effect is small) and (b) the candidate networks at 64 px.
With --timing: where one protocol run's time goes (decoding images, training epochs, validation, test) on the
demo's data (the quick profile's built-in data: 18 subjects, 32 px, 2 frames, 3 folds), for a FER profile with
--seeds seeds per fold and --set overrides, real NIR only and + the gray VIS images of the training subjects.

    .venv/bin/python benchmarks/bench_fer.py                # throughput only (about a minute)
    .venv/bin/python benchmarks/bench_fer.py --accuracy     # + both accuracy tables (about 30 minutes on 2 busy cores)
    .venv/bin/python benchmarks/bench_fer.py --accuracy --tables choices   # only the 32 px table (about 6 minutes)
    .venv/bin/python benchmarks/bench_fer.py --timing --seeds 3           # 'tiny' at 32 px, 3 folds x 3 seeds x 2 sets
    .venv/bin/python benchmarks/bench_fer.py --timing --set epochs=25 batch_size=32 lr=0.001 min_epochs=10 patience=6

Prints one JSON object (--timing: process CPU seconds, robust on a shared machine, and wall seconds). Accuracies are on
built-in synthetic data (12 subjects; 18 with --timing), not Oulu-CASIA; each run trains
a fixed number of epochs and keeps the epoch with the best validation accuracy (no early stop)."""
import argparse, ast, json, platform, sys, tempfile, time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
import torch
import torch.nn.functional as F
import nfer_sde.fer as fer, nfer_sde.fer_protocol as protocol
from nfer_sde.fer import build_fer_net, fer_config
from nfer_sde.fer_protocol import fer_protocol

NETWORKS = {  # name: build_fer_net kwargs
    'resnet18': dict(arch='resnet18'),
    'small-cnn-32': dict(arch='small-cnn', width=32),
    'small-cnn-16': dict(arch='small-cnn', width=16),
}

def throughput(kw, size=64, batch=64, steps=4) -> float:
    "Training images per second (forward, backward, AdamW step) at `size` px, after one warm-up step."
    torch.manual_seed(0)
    net = build_fer_net(size=size, **kw)
    opt = torch.optim.AdamW(net.parameters())
    x, y = torch.randn(batch, 1, size, size), torch.randint(0, 6, (batch,))
    for i in range(steps + 1):
        if i == 1: t = time.perf_counter()
        loss = F.cross_entropy(net(x), y); opt.zero_grad(); loss.backward(); opt.step()
    return batch * steps / (time.perf_counter() - t)

def three_folds(root: Path, size: int, subjects: int, runs: dict, seeds=(0,)) -> dict:
    "Accuracy of each config in `runs` on one 3-fold split of freshly rendered data, for each training seed."
    from nfer_sde.datasets import read_manifest, subject_folds
    from nfer_sde.synthetic import build_dataset
    df = read_manifest(build_dataset(root / f'data{size}', n_subjects=subjects, size=size, frames_per_sequence=2, seed=0, progress=False))
    folds, out = subject_folds(df, k=3, seed=0), {}
    for name, cfg in runs.items():
        t, per_seed = time.perf_counter(), []
        for seed in (seeds if isinstance(cfg, tuple) else (0,)):
            c = replace(cfg[0] if isinstance(cfg, tuple) else cfg, seed=seed)
            s = fer_protocol(df, folds, root / f'split{size}', name=f'{name}/seed{seed}', config=c, progress=False, device='cpu')
            per_seed.append({'seed': seed, 'mean': round(s['mean_accuracy'], 3), 'std': round(s['std_accuracy'], 3),
                             'folds': [round(a, 3) for a in s['fold_accuracy']]})
        out[name] = {'mean': round(sum(r['mean'] for r in per_seed) / len(per_seed), 3), 'runs': per_seed,
                     'seconds': round(time.perf_counter() - t)}
        print(size, name, out[name], file=sys.stderr, flush=True)
    return out

def timed(clock: dict, name: str, f):
    "`f`, adding its wall time to `clock[name]` and its process CPU time to `clock[name + ' cpu']`."
    def g(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try: return f(*a, **k)
        finally: clock[name] += time.perf_counter() - t; clock[name + ' cpu'] += time.process_time() - c
    return g

def timing(root: Path, profile: str, seeds: int, overrides: dict, subjects: int = 18, folds: int = 3) -> dict:
    "Per-run seconds of `fer_protocol` (decode, training epochs, validation, test) and accuracy, real NIR only and + gray VIS."
    import pandas as pd
    from nfer_sde.datasets import read_manifest, subject_folds
    from nfer_sde.synthetic import build_dataset
    df = read_manifest(build_dataset(root / 'data', n_subjects=subjects, size=32, frames_per_sequence=2, seed=0, progress=False))
    split, cfg = subject_folds(df, k=folds, seed=0), fer_config(profile, size=32, seeds=seeds, **overrides)
    vis = df[df.modality == 'VIS']  # the demo translates all three VIS sessions of the training subjects
    gray = pd.concat([vis[vis.subject.isin(f['train'])].assign(fold=i) for i, f in enumerate(split)])
    clock = defaultdict(float)
    # patched where they are called: the protocol decodes and trains, `train_fer` validates
    protocol.load_images, fer._evaluate, protocol.train_fer = (timed(clock, 'decode', protocol.load_images),
                                                               timed(clock, 'validation', fer._evaluate),
                                                               timed(clock, 'train_fer', protocol.train_fer))
    out = {'config': {k: v for k, v in vars(cfg).items()}, 'data': f'built-in synthetic, {subjects} subjects, 32 px, 2 frames, {folds} folds'}
    for name, extra in [('real', None), ('gray', gray)]:
        clock.clear(); t, c = time.perf_counter(), time.process_time()
        s = fer_protocol(df, split, root / 'split', extra=extra, name=name, config=cfg, progress=False, device='cpu')
        n, acc = len(s['runs']), [r['accuracy'] for r in s['runs']]
        def split_of(total, sfx=''):  # seconds per run: decode, training epochs, validation, the rest (test, writing)
            return {'decode': round(clock['decode' + sfx] / n, 2), 'training epochs': round((clock['train_fer' + sfx] - clock['validation' + sfx]) / n, 2),
                    'validation': round(clock['validation' + sfx] / n, 2),
                    'test and bookkeeping': round((total - clock['train_fer' + sfx] - clock['decode' + sfx]) / n, 2)}
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        out[name] = {'runs': n, 'cpu_seconds_per_run': round(cpu / n, 2), 'wall_seconds_per_run': round(wall / n, 2),
                     'cpu_split_per_run': split_of(cpu, ' cpu'), 'wall_split_per_run': split_of(wall),
                     'epochs_run': [json.loads(protocol.run_path(root / 'split', name, r['fold'], r['seed']).read_text())['epochs'] for r in s['runs']],
                     'accuracy_mean': round(sum(acc) / n, 4), 'accuracy_std': round(s['std_accuracy'], 4),
                     'fold_accuracy': [round(a, 4) for a in s['fold_accuracy']], 'runs_accuracy': [round(a, 4) for a in acc]}
        print(name, out[name], file=sys.stderr, flush=True)
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--accuracy', action='store_true', help='also train 3-fold on the built-in data')
    ap.add_argument('--subjects', type=int, default=None, help="subjects of the built-in data (default 12; the demo's 18 with --timing)")
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--tables', choices=['choices', 'networks', 'both'], default='both', help='which accuracy table(s)')
    ap.add_argument('--root', default=None, help='folder for the rendered data and results (default: a temporary one)')
    ap.add_argument('--timing', action='store_true', help='where the time of a protocol run goes, on the demo data (no throughput table)')
    ap.add_argument('--profile', default='tiny', help='FER profile of --timing')
    ap.add_argument('--seeds', type=int, default=3, help='training seeds per fold (--timing)')
    ap.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help='FERConfig overrides of --timing, e.g. epochs=25')
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {'benchmark': 'fer', 'platform': platform.platform(), 'python': sys.version.split()[0], 'torch': torch.__version__,
           'threads': torch.get_num_threads()}
    if a.timing:
        overrides = {k: ast.literal_eval(v) for k, v in (kv.split('=', 1) for kv in a.set)}
        res['timing'] = timing(Path(a.root or tempfile.mkdtemp()), a.profile, a.seeds, overrides, a.subjects or 18)
        print(json.dumps(res)); return
    res['train_images_per_s_64px'] = {n: round(throughput(kw), 1) for n, kw in NETWORKS.items()}
    if a.accuracy:
        root = Path(a.root or tempfile.mkdtemp())
        fixed = dict(epochs=a.epochs, min_epochs=a.epochs, seeds=1)  # no early stop: the best validation epoch is kept
        base32 = fer_config('tiny', **fixed)
        choices = {'tiny profile': (base32,), 'label smoothing 0.1': (replace(base32, label_smoothing=0.1),),  # 4 seeds
                   'no augmentation': replace(base32, augment=False), 'no dropout': replace(base32, dropout=0.)}
        nets = {n: replace(fer_config('cpu', **fixed), **kw) for n, kw in NETWORKS.items()}
        res['accuracy'] = {'data': f'built-in synthetic, {a.subjects or 12} subjects, 2 frames per sequence, 3 illuminations, NIR, 3 folds',
                           'epochs': a.epochs}
        if a.tables in ('choices', 'both'): res['accuracy']['choices_32px'] = three_folds(root, 32, a.subjects or 12, choices, (0, 100, 200, 300))
        if a.tables in ('networks', 'both'): res['accuracy']['networks_64px'] = three_folds(root, 64, a.subjects or 12, nets)
    print(json.dumps(res))

if __name__ == '__main__': main()
