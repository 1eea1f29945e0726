"""An energy's weight chosen where t0 is chosen: on each fold's validation subjects, never its test subjects.

For every fold of a study (the quick profile on the built-in data, networks trained or reused in `--work`), NFER-SDE
translates `--images` VIS images of the fold's validation subjects (`pipeline.validation_sources`) from its chosen t0
(`study.chosen_t0`) with the energy's default weight multiplied by each factor, and scores them against their true
NIR: SSIM (the t0 criterion, `pipeline.T0_CRITERION`), high-band SSIM (the frequency energy's observer) and dlib's
landmark NME. Without the quick profile's networks in `--work`, they are trained first (about 10 minutes on 2 cores).

    .venv/bin/python benchmarks/bench_weights.py --work runs/demo/work --energy frequency --factors 0 1 2 4 8

Prints ONE JSON line: per fold and factor the scores, their mean over folds, and the factor with the best mean SSIM.
Built-in synthetic data, not Oulu-CASIA."""
import argparse, json, time
from dataclasses import replace
import numpy as np
import torch
from nfer_sde.metrics import translation_metrics
from nfer_sde.pipeline import get_profile, landmark_observer, load_vis_images, method_options, paired_truth, source_landmarks, validation_sources
from nfer_sde.sampler import build_translator, preset_weights
from nfer_sde.study import chosen_t0, machine_description, prepare_study, study_nets

METHOD = 'nfer-sde'

def fold_scores(study, i, energy, factors, images, seed):
    "Scores of fold `i`'s validation translations at each weight factor."
    p, df, fold = replace(study.profile, t0_images=images), study.df, study.folds[i]
    sources = validation_sources(df, fold, p, seed, i)
    shown = sources.assign(source=sources.path)
    vis, truth, marks = load_vis_images(df, list(sources.path), p.size), paired_truth(df, shown, p.size), source_landmarks(df, shown)
    t0, weights, observer = chosen_t0(study, METHOD, i)['t0'], preset_weights(METHOD, p.size), landmark_observer()
    nets, out = study_nets(study, i).for_method(METHOD), {'t0': t0, 'validation_subjects': sorted(set(sources.subject)), 'images': len(sources)}
    for k in factors:
        opts = method_options(METHOD, p, {'t0': t0, 'weights': {**weights, energy: k * weights[energy]}})
        nir = build_translator(METHOD, **nets, **opts)(vis, seed=seed)
        row = translation_metrics(nir, truth=truth, source_landmarks=marks, observer_fn=observer)  # the quality tables' metrics
        out[f"{k:g}"] = {m: round(row[m], 4) for m in ('SSIM', 'high-band SSIM', 'landmark NME (dlib)') if m in row}
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', default='runs/bench_weights', help="the study's work folder (networks reused from it, e.g. runs/demo/work)")
    ap.add_argument('--energy', default='frequency', choices=('frequency', 'landmark'))
    ap.add_argument('--factors', type=float, nargs='+', default=[0, 1, 2, 4, 8], help="multiples of the energy's default weight")
    ap.add_argument('--images', type=int, default=36, help='validation VIS images per fold')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    start = time.time()
    study = prepare_study(None, get_profile('quick'), [METHOD], a.work, a.seed, progress=False, translate=False)
    folds = {i: fold_scores(study, i, a.energy, a.factors, a.images, a.seed) for i in study.fold_ids}
    metrics = [m for m in ('SSIM', 'high-band SSIM', 'landmark NME (dlib)') if m in folds[study.fold_ids[0]][f"{a.factors[0]:g}"]]
    mean = {f"{k:g}": {m: round(float(np.mean([f[f"{k:g}"][m] for f in folds.values()])), 4) for m in metrics} for k in a.factors}
    best = max(a.factors, key=lambda k: mean[f"{k:g}"]["SSIM"])
    print(json.dumps({'what': f"NFER-SDE's {a.energy} weight x factor, validation subjects of each fold (never test subjects)",
                      'data': 'built-in synthetic data (not Oulu-CASIA)', 'default_weight': preset_weights(METHOD, study.profile.size)[a.energy],
                      'folds': folds, 'mean_over_folds': mean, 'best_factor_by_ssim': best,
                      'seconds': round(time.time() - start, 1), 'machine': machine_description(), 'torch': torch.__version__}))

if __name__ == '__main__':
    main()
