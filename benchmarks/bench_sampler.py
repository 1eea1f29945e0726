"""Cost of the guided sampler: guided / unguided time per reverse step (NFER-SDE's landmark + frequency energies on the
noisy pair, 64 px, batch 16; goal <= 1.5), sampler overhead (wall time per image / (steps x one score-network forward
per image); goal <= 1.2), memory against the number of steps, and, given trained checkpoints, quality against the
number of steps (SSIM to the paired NIR truth and landmark NME of the built-in data at 500/100/50/25/10 steps).

    .venv/bin/python benchmarks/bench_sampler.py                      # speed with untrained 'cpu' networks (about a minute)
    .venv/bin/python benchmarks/bench_sampler.py --score-net ckpt/score_cond.pt --heatmap-net ckpt/heatmap.pt
                                                                      # + quality vs steps with trained networks

Speed does not depend on the weights, so the speed part uses untrained networks of the trained ones' architecture
(`unet.score_net_config('cpu', conditional=True)`, `landmarks.HeatmapNet()`) unless checkpoints are given.
Prints one JSON object."""
import argparse, json, platform, resource, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from nfer_sde.sampler import build_translator

def interleaved_times(fns: dict, repeats: int) -> dict:
    """Wall times of each of `fns` over `repeats` rounds, run in turn within a round (after a warm-up round), so that a
    load that drifts on a shared machine hits all of them alike; ratios are then taken round by round."""
    times = {k: [] for k in fns}
    for r in range(repeats + 1):
        for k, fn in fns.items():
            start = time.perf_counter(); fn(); elapsed = time.perf_counter() - start
            if r: times[k].append(elapsed)
    return {k: np.array(v) for k, v in times.items()}

def networks(a):
    "Score and heatmap networks: from checkpoints when given, else untrained ones of the default architectures."
    from nfer_sde import unet, landmarks
    if a.score_net:
        from nfer_sde.training_loop import load_model
        score = load_model(a.score_net)
    else:
        torch.manual_seed(0); score = unet.UNet(**unet.score_net_config('cpu', conditional=True))
    if a.heatmap_net:
        from nfer_sde.training_loop import load_model
        heat = load_model(a.heatmap_net)
    else:
        torch.manual_seed(0); heat = landmarks.HeatmapNet()
    return score.eval(), heat.eval()

def speed(a, score, heat):
    "Per-step times, overhead ratio and peak memory at `a.size` px, batch `a.batch`."
    vis = torch.rand(a.batch, 3, a.size, a.size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    unguided = build_translator('nfer-sde', score_net=score, heatmap_net=heat, n_steps=a.steps, weights={'landmark': 0., 'frequency': 0.})
    guided = build_translator('nfer-sde', score_net=score, heatmap_net=heat, n_steps=a.steps)
    tweedie = build_translator('nfer-sde', score_net=score, heatmap_net=heat, n_steps=a.steps, point='tweedie')
    rss = {}  # peak memory first, before the timing runs raise it: flat in the number of steps if no graph is kept
    for name, tr in (('guided', guided), ('guided_tweedie', tweedie)):
        for n in (a.steps, 3 * a.steps):
            tr.n_steps = n; tr(vis, seed=0)
            rss[f'peak_rss_mb_after_{name}_{n}_steps'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        tr.n_steps = a.steps
    cond_t = torch.full((a.batch,), 300)
    def forward():
        with torch.no_grad(): score(vis[:, :1], cond_t, cond=vis)
    t = interleaved_times({'forward': forward, 'unguided': lambda: unguided(vis, seed=0), 'guided': lambda: guided(vis, seed=0),
                           'tweedie': lambda: tweedie(vis, seed=0)}, a.repeats)
    med = lambda v: round(float(np.median(v)), 4)
    return {
        'setting': f'{a.size} px, batch {a.batch}, {a.steps} steps, conditional U-Net {score.config if hasattr(score, "config") else ""}',
        'forward_s_per_batch': med(t['forward']),
        'unguided_s_per_step': med(t['unguided'] / a.steps),
        'guided_s_per_step': med(t['guided'] / a.steps),
        'guided_over_unguided_per_step': med(t['guided'] / t['unguided']), 'goal_guided_over_unguided': 1.5,
        'guided_tweedie_over_unguided_per_step': med(t['tweedie'] / t['unguided']),  # one backward through the U-Net per step
        'unguided_wall_s_per_image': med(t['unguided'] / a.batch),
        'overhead_unguided': med(t['unguided'] / (a.steps * t['forward'])),  # wall per image / (steps x forward per image)
        'overhead_guided': med(t['guided'] / (a.steps * t['forward'])), 'goal_overhead': 1.2,
        'rounds': a.repeats,
        **rss,
    }

def quality(a, score, heat):
    "SSIM to the paired NIR truth and landmark NME of NFER-SDE translations of the built-in data, per number of steps."
    from skimage.metrics import structural_similarity
    from nfer_sde.datasets import read_manifest, PairDataset
    from nfer_sde.landmarks import heatmaps_to_landmarks, nme
    from nfer_sde.sde import VPSDE
    from nfer_sde.training_loop import read_checkpoint
    meta = read_checkpoint(a.score_net).get('meta', {})
    sde = VPSDE(**meta['sde']) if 'sde' in meta else VPSDE()  # the forward process the score net was trained for
    if a.data: manifest = Path(a.data)
    else:  # freshly rendered identities (seed 1), none of which the networks have seen
        from nfer_sde.synthetic import build_dataset
        manifest = build_dataset(Path(tempfile.mkdtemp()) / 'data', n_subjects=a.subjects, size=a.size, frames_per_sequence=1, seed=1, progress=False)
    df = read_manifest(manifest)
    if a.data and meta.get('test_subjects'): df = df[df.subject.astype(str).isin(meta['test_subjects'])]  # the fold's held-out subjects
    ds = PairDataset(df, size=a.size)
    items = [ds[i] for i in range(min(len(ds), a.images))]
    vis, nir = torch.stack([d['vis'] for d in items]), torch.stack([d['nir'] for d in items])
    true_lm = torch.stack([d['landmarks'] for d in items])
    res = {}
    for n in a.quality_steps:
        tr = build_translator('nfer-sde', score_net=score, heatmap_net=heat, n_steps=n, sde=sde)
        start = time.perf_counter()
        out = torch.cat([tr(vis[i:i + a.batch], seed=i) for i in range(0, len(vis), a.batch)])
        ssim = [structural_similarity(o[0].numpy(), t[0].numpy(), data_range=2.0) for o, t in zip(out, nir)]
        with torch.no_grad(): lm = heatmaps_to_landmarks(heat(out), a.size)
        res[str(n)] = {'ssim': round(float(np.mean(ssim)), 4), 'landmark_nme': round(float(nme(lm, true_lm).nanmean()), 4),
                       'seconds': round(time.perf_counter() - start, 1)}
    return {'data': str(manifest), 'images': len(items), 'by_steps': res}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--steps', type=int, default=10, help='reverse steps timed per run')
    ap.add_argument('--repeats', type=int, default=5, help='interleaved timing rounds (median reported)')
    ap.add_argument('--score-net', help='checkpoint of the conditional score network (training_loop.load_model)')
    ap.add_argument('--heatmap-net', help='checkpoint of the heatmap network (training_loop.load_model)')
    ap.add_argument('--data', help='manifest of VIS/NIR pairs for the quality part (default: render the built-in data)')
    ap.add_argument('--subjects', type=int, default=8, help='subjects of the rendered data for the quality part')
    ap.add_argument('--images', type=int, default=64, help='images translated per step count')
    ap.add_argument('--quality-steps', type=int, nargs='+', default=[500, 100, 50, 25, 10])
    a = ap.parse_args()
    torch.set_num_threads(1)
    score, heat = networks(a)
    res = {'benchmark': 'sampler', 'platform': platform.platform(), 'python': sys.version.split()[0], 'torch': torch.__version__,
           'threads': torch.get_num_threads(), 'networks': 'checkpoints' if a.score_net and a.heatmap_net else 'untrained (speed only)',
           'speed': speed(a, score, heat)}
    res['quality'] = quality(a, score, heat) if a.score_net and a.heatmap_net else {
        'skipped': 'needs trained networks: pass --score-net (conditional) and --heatmap-net checkpoints'}
    print(json.dumps(res))

if __name__ == '__main__':
    main()
