"""Two checks on the networks and translations that `make demo` leaves in runs/demo/work (run the demo first):

- `fer_seeds`: how much of the FER table's fold-to-fold spread is training noise. Reruns `fer.fer_protocol`
  (quick profile, same folds) with several training seeds, with all real NIR (`real_nir_fraction=1`) and in the
  low-NIR regime (1/3), for real NIR only and + the translations of a few methods; reports per-run accuracies and,
  per method, the paired gain over real NIR only across (fold, seed).
- `guided_steps`: quality of NFER-SDE with few respaced steps, guided and unguided (weights 0), ancestral and DDIM:
  SSIM to the true NIR of fold 0's first 48 strong-light training VIS images, with fold 0's networks.

    .venv/bin/python benchmarks/demo_findings.py [--work runs/demo/work] [--seeds 0 1 2]   # about 8 minutes

Prints one JSON object. Built-in synthetic data, not Oulu-CASIA."""
import argparse, json, tempfile
from pathlib import Path
import pandas as pd
import torch
from nfer_sde.datasets import read_manifest
from nfer_sde.fer import fer_config, fer_protocol
from nfer_sde.metrics import ssim
from nfer_sde.pipeline import get_profile, load_vis_images, paired_truth, prepare_study
from nfer_sde.sampler import build_translator
from nfer_sde.train import load_model

METHODS = ('gray', 'sdedit', 'ilvr', 'egsde', 'nfer-sde')

def fer_seeds(study, names, seeds, fraction, out) -> dict:
    "Accuracy per (training set, fold, seed), and each method's paired gain over real NIR only."
    p, rows = study.profile, []
    for name in names:
        for seed in seeds:
            cfg = fer_config(p.fer, size=p.size, seed=seed, real_nir_fraction=fraction)
            s = fer_protocol(study.manifest, study.folds, out / f'{fraction:.2f}_{seed}', extra=study.translations.get(name),
                             name=name, config=cfg, progress=False)
            rows += [dict(name=name, fold=i, seed=seed, accuracy=round(a, 4)) for i, a in enumerate(s['fold_accuracy'])]
    d = pd.DataFrame(rows)
    base = d[d.name == 'real'].set_index(['fold', 'seed']).accuracy
    gains = {}
    for m in names[1:]:
        g = d[d.name == m].set_index(['fold', 'seed']).accuracy - base
        gains[m] = dict(mean=round(g.mean(), 4), std=round(g.std(), 4), better=f'{int((g > 0).sum())}/{len(g)}')
    means = d.groupby('name').accuracy.agg(['mean', 'std']).round(4)
    return dict(real_nir_fraction=round(fraction, 4), runs=rows, mean_std_over_fold_and_seed=means.to_dict('index'), gain_over_real=gains)

def guided_steps(work: Path, study) -> dict:
    "SSIM to the true NIR for NFER-SDE at 5 and 10 steps, guided and unguided, ancestral and DDIM."
    nets = work / 'nets' / 'fold_00'
    score, heat = load_model(nets / 'score_conditional' / 'checkpoint.pt'), load_model(nets / 'heatmap' / 'checkpoint.pt')
    src = pd.read_csv(work / 'translations' / 'fold_00' / 'sources.csv')
    src = src[src.illumination == 'strong'].head(48).reset_index(drop=True)
    size = study.profile.size
    vis, truth = load_vis_images(study.df, list(src.path), size), paired_truth(study.df, pd.DataFrame({'source': src.path}), size)
    off = {'landmark': 0., 'frequency': 0.}
    result = {}
    for steps in (5, 10):
        for step in ('ancestral', 'ddim'):
            for guided in (True, False):
                tr = build_translator('nfer-sde', score_net=score, heatmap_net=heat, n_steps=steps, step=step, **({} if guided else {'weights': off}))
                nir = tr(vis, generator=torch.Generator().manual_seed(0))
                result[f"{step} {steps} steps {'guided' if guided else 'unguided'}"] = round(float(ssim(nir, truth).mean()), 4)
    return dict(images=len(src), ssim_to_true_nir=result)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--work', default='runs/demo/work', help="the demo's work folder")
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--methods', nargs='+', default=['gray', 'nfer-sde'])
    a = ap.parse_args()
    work = Path(a.work)
    if not (work / 'folds.json').exists(): raise SystemExit(f"{work}: no demo work folder here: run `make demo` first.")
    torch.set_num_threads(min(2, torch.get_num_threads()))
    study = prepare_study(None, get_profile('quick'), METHODS, work, 0, progress=False)  # loads what the demo made
    with tempfile.TemporaryDirectory() as tmp:
        names = ['real', *a.methods]
        report = {'data': 'built-in synthetic data (not Oulu-CASIA), quick profile',
                  'fer_seeds': [fer_seeds(study, names, a.seeds, f, Path(tmp)) for f in (1., 1 / 3)],
                  'guided_steps': guided_steps(work, study)}
    print(json.dumps(report))

if __name__ == '__main__': main()
