"""Which FER classifier and training choices for the CPU profiles: training throughput of each candidate network
at 64 px (one thread), and, with --accuracy, the 3-fold subject-independent accuracy (`fer.fer_protocol`, real NIR
only) on the built-in synthetic data of (a) the training choices at 32 px (label smoothing, augmentation,
dropout; label smoothing over 4 training seeds, as its effect is small) and (b) the candidate networks at 64 px.

    .venv/bin/python benchmarks/bench_fer.py                # throughput only (about a minute)
    .venv/bin/python benchmarks/bench_fer.py --accuracy     # + both accuracy tables (about 30 minutes on 2 busy cores)
    .venv/bin/python benchmarks/bench_fer.py --accuracy --tables choices   # only the 32 px table (about 6 minutes)

Prints one JSON object. Accuracies are on built-in synthetic data (12 subjects), not Oulu-CASIA; each run trains
a fixed number of epochs and keeps the epoch with the best validation accuracy (no early stop)."""
import argparse, json, platform, sys, tempfile, time
from dataclasses import replace
from pathlib import Path
import torch
import torch.nn.functional as F
from nfer_sde.fer import build_fer_net, fer_config, fer_protocol

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

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--accuracy', action='store_true', help='also train 3-fold on the built-in data')
    ap.add_argument('--subjects', type=int, default=12)
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--tables', choices=['choices', 'networks', 'both'], default='both', help='which accuracy table(s)')
    ap.add_argument('--root', default=None, help='folder for the rendered data and results (default: a temporary one)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {'benchmark': 'fer', 'platform': platform.platform(), 'python': sys.version.split()[0], 'torch': torch.__version__,
           'threads': torch.get_num_threads(),
           'train_images_per_s_64px': {n: round(throughput(kw), 1) for n, kw in NETWORKS.items()}}
    if a.accuracy:
        root = Path(a.root or tempfile.mkdtemp())
        fixed = dict(epochs=a.epochs, min_epochs=a.epochs)  # no early stop: the best validation epoch is kept
        base32 = fer_config('tiny', **fixed)
        choices = {'tiny profile': (base32,), 'label smoothing 0.1': (replace(base32, label_smoothing=0.1),),  # 4 seeds
                   'no augmentation': replace(base32, augment=False), 'no dropout': replace(base32, dropout=0.)}
        nets = {n: replace(fer_config('cpu', **fixed), **kw) for n, kw in NETWORKS.items()}
        res['accuracy'] = {'data': f'built-in synthetic, {a.subjects} subjects, 2 frames per sequence, 3 illuminations, NIR, 3 folds',
                           'epochs': a.epochs}
        if a.tables in ('choices', 'both'): res['accuracy']['choices_32px'] = three_folds(root, 32, a.subjects, choices, (0, 100, 200, 300))
        if a.tables in ('networks', 'both'): res['accuracy']['networks_64px'] = three_folds(root, 64, a.subjects, nets)
    print(json.dumps(res))

if __name__ == '__main__': main()
