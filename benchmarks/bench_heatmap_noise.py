"""Landmark heatmaps of noisy images: NME of the plain heatmap network (trained on clean images, no time input) against
the time-conditioned one (`HeatmapNet(time_conditioned=True)`, trained on noised images y_t with t, target the clean
landmarks' heatmaps), on noised held-out images y_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps at t = 0, 100, 250, 400,
500, 700 (of T = 1000), the levels where the landmark energy on the noisy pair is evaluated.

Both nets train for the same number of steps on the training subjects of fold 0 of the quick profile's built-in data
(18 subjects, 32 px, 2 frames, 3 folds; rendered into --data-cache if absent) and are scored on that fold's test
subjects, every image of both modalities. About 2-4 minutes on 2 cores (one thread).

    .venv/bin/python benchmarks/bench_heatmap_noise.py                          # trains both nets (300 steps each)
    .venv/bin/python benchmarks/bench_heatmap_noise.py --checkpoints runs/demo/work/nets/fold_00
                                                # takes DIR/heatmap (plain; DIR/heatmap_timed too where present) and
                                                # trains the missing timed net with the plain one's network and settings

Prints one JSON object: `nme_plain_t<t>` and `nme_timed_t<t>` (mean NME in % of the inter-ocular distance), the
mean-shape baseline `nme_mean_shape` (what a net that sees nothing scores) and the noise std at each t."""
import argparse, json, platform, sys, tempfile, time
from pathlib import Path
import torch

TIMES = (0, 100, 250, 400, 500, 700)

def fold_data(a):
    "The fold's training and test records (built-in data of the quick profile, or --manifest)."
    from nfer_sde.datasets import read_manifest, subject_folds
    if a.manifest: manifest = a.manifest
    else:
        from nfer_sde.synthetic import build_dataset
        root = Path(a.data_cache) / f'builtin_{a.size}px_{a.n_subjects}s_2f_seed0'  # the pipeline's cache name
        manifest = build_dataset(root, n_subjects=a.n_subjects, size=a.size, frames_per_sequence=2, seed=0, progress=False)
    df = read_manifest(manifest)
    df = df[df.landmarks.notna()].reset_index(drop=True)
    fold = subject_folds(df, k=a.folds, seed=0)[a.fold]
    return df, fold

def checked(path, fold, time_conditioned: bool):
    "A checkpoint's network, refused if it was trained on other subjects or is of the other kind."
    from nfer_sde.training_loop import load_model, read_checkpoint
    ck = read_checkpoint(path)
    if ck['meta'].get('train_subjects') != sorted(map(str, fold['train'])):
        sys.exit(f"error: {path} was trained on other subjects than this fold's training subjects")
    net = load_model(path)
    if getattr(net, 'time_conditioned', False) != time_conditioned: sys.exit(f"error: {path} is not a {'timed' if time_conditioned else 'plain'} net")
    return net, ck

def train(data, out, fold, time_conditioned: bool, net_cfg: dict, train_cfg: dict):
    "Train one heatmap net; returns it and its training time."
    from nfer_sde.train import train_heatmap_net
    start = time.perf_counter()
    net = train_heatmap_net(data, out, train_subjects=fold['train'], test_subjects=fold['test'], net=net_cfg,
                            time_conditioned=time_conditioned, progress=False, **train_cfg)
    return net, round(time.perf_counter() - start, 1)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--checkpoints', help='folder with heatmap/checkpoint.pt (plain) [and heatmap_timed/checkpoint.pt]')
    p.add_argument('--manifest', help='manifest CSV instead of the built-in data')
    p.add_argument('--data-cache', default='runs/data', help='where the built-in data is rendered (reused when present)')
    p.add_argument('--size', type=int, default=32); p.add_argument('--n-subjects', type=int, default=18)
    p.add_argument('--folds', type=int, default=3); p.add_argument('--fold', type=int, default=0)
    p.add_argument('--steps', type=int, default=300, help='training steps of each net (the quick profile: 300)')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--net', default='{}', help='HeatmapNet arguments as JSON (default: the pipeline\'s network)')
    p.add_argument('--out', help='run folders of the trained nets (default: a temporary folder)')
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from nfer_sde.datasets import ImageDataset
    from nfer_sde.landmarks import nme, predict_landmarks
    from nfer_sde.sde import VPSDE

    df, fold = fold_data(a)
    train_df, test_df = df[df.subject.isin(fold['train'])], df[df.subject.isin(fold['test'])]
    out = Path(a.out or tempfile.mkdtemp(prefix='bench_heatmap_noise_'))
    net_cfg, train_cfg = json.loads(a.net), dict(steps=a.steps, batch_size=a.batch_size, ckpt_every=a.steps)
    nets, seconds, source = {}, {}, {}
    ck_dir = Path(a.checkpoints) if a.checkpoints else None
    if ck_dir:
        nets['plain'], ck = checked(ck_dir / 'heatmap' / 'checkpoint.pt', fold, False)
        net_cfg = {k: v for k, v in ck['model_config'].items() if k != 'time_conditioned'}
        train_cfg = {k: v for k, v in ck['train_config'].items() if k not in ('ckpt_every', 'sample_every')}  # same steps and settings
        source['plain'] = str(ck_dir / 'heatmap')
        if (ck_dir / 'heatmap_timed' / 'checkpoint.pt').exists():
            nets['timed'], _ = checked(ck_dir / 'heatmap_timed' / 'checkpoint.pt', fold, True); source['timed'] = str(ck_dir / 'heatmap_timed')
    data = ImageDataset(train_df, size=a.size, channels=1, cache=True)
    for kind in ('plain', 'timed'):
        if kind not in nets:
            nets[kind], seconds[f'train_s_{kind}'] = train(data, out / kind, fold, kind == 'timed', net_cfg, train_cfg)
            source[kind] = f"trained here, {train_cfg['steps']} steps of {train_cfg['batch_size']}"

    test = ImageDataset(test_df, size=a.size, channels=1)
    items = [test[i] for i in range(len(test))]
    x0, lm = torch.stack([it['image'] for it in items]), torch.stack([it['landmarks'] for it in items])
    sde = VPSDE()
    mean_shape = torch.stack([data[i]['landmarks'] for i in range(len(data))]).nanmean(0)  # in the images' pixels at --size
    res = {'benchmark': 'heatmap_noise', 'platform': platform.platform(), 'python': sys.version.split()[0], 'torch': torch.__version__,
           'threads': torch.get_num_threads(),
           'setting': f"fold {a.fold} of {a.folds}, built-in data {a.n_subjects} subjects at {a.size} px" if not a.manifest else a.manifest,
           'n_train_images': len(train_df), 'n_test_images': len(test_df), 'test_subjects': sorted(fold['test']),
           'network': net_cfg or 'HeatmapNet defaults', 'plain': source['plain'], 'timed': source['timed'], **seconds,
           'nme_unit': '% of the inter-ocular distance, mean over the test images'}
    res['nme_mean_shape'] = round(100 * nme(mean_shape.expand_as(lm), lm).nanmean().item(), 2)
    for t in TIMES:
        eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1000 + t))
        y = sde.q_sample(x0, torch.full((len(x0),), t), eps)
        res[f'noise_std_t{t}'] = round(float((1 - sde.alpha_bar(t)).sqrt()), 3)
        for kind, net in nets.items():
            res[f'nme_{kind}_t{t}'] = round(100 * nme(predict_landmarks(net, y, t=t), lm).nanmean().item(), 2)
    print(json.dumps(res))

if __name__ == '__main__': main()
