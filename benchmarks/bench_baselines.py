"""Is it the method or our implementation? The baselines (SDEdit, ILVR, EGSDE) translate with the unconditional score
network. At 500 steps (the quick profile's `score_steps`, which it trained for until 2026-12-03) the demo's baselines
lost the face on held-out subjects. This trains the unconditional network (`Profile.unconditional_steps`; EGSDE's
domain classifier at the profile's budget) for 1x, 4x and 12x the profile's score steps, from scratch, on each fold
of the built-in data, chooses each method's t0 on validation subjects as the study does, and scores the held-out subjects' translations against their
true NIR (SSIM, high-band SSIM, landmark NME and face found by dlib), next to gray. Prints one JSON line: per factor
and method, mean and std over folds, and the unconditional network's last training loss.

    .venv/bin/python benchmarks/bench_baselines.py [--factors 1 4 12] [--work runs/bench_baselines]

About 40 min on 2 cores (AMD EPYC) at the defaults. Built-in synthetic data: not a result on Oulu-CASIA."""
import argparse, json, time
from pathlib import Path
from nfer_sde.sampler import NETWORKS
from nfer_sde.pipeline import get_profile
from nfer_sde.study import fer_study, machine_description, prepare_study, quality_study
from nfer_sde.training_loop import read_log

METRICS = ('SSIM', 'high-band SSIM', 'landmark NME (dlib)', 'face found (dlib)')

def last_loss(study, fold: int) -> float:
    "The unconditional network's mean loss over its last 50 logged steps on `fold`."
    log = read_log(study.folder / 'nets' / f'fold_{fold:02d}' / NETWORKS['unconditional'].folder / 'log.jsonl')
    return float(log['loss'].tail(50).mean())

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--factors', type=int, nargs='+', default=[1, 4, 12], help="multiples of the profile's score steps")
    p.add_argument('--methods', nargs='+', default=['gray', 'sdedit', 'ilvr', 'egsde'])
    p.add_argument('--profile', default='quick')
    p.add_argument('--work', default='runs/bench_baselines')
    p.add_argument('--no-progress', action='store_true')
    a = p.parse_args()
    base, out = get_profile(a.profile), dict(benchmark='bench_baselines', data='built-in synthetic data (not Oulu-CASIA)',
                                             profile=a.profile, machine=machine_description(), results={})
    for factor in a.factors:
        start = time.time()
        steps = base.score_steps * factor
        profile = get_profile(a.profile, unconditional_steps=steps)  # the baselines' network only
        work = Path(a.work) / f'unconditional_steps_{steps}'
        if factor != a.factors[0] and not (work / 'fer').exists():  # the real-NIR classifiers do not depend on the score net: shared
            work.mkdir(parents=True, exist_ok=True); (work / 'fer').symlink_to((Path(a.work) / f'unconditional_steps_{base.score_steps * a.factors[0]}' / 'fer').resolve())
        study = prepare_study(None, profile, a.methods, work, translate=False, progress=not a.no_progress)
        fer_study(study, [], progress=not a.no_progress)  # the real-NIR classifier of each fold (the quality metrics' expression judge)
        q = quality_study(study, a.methods, progress=not a.no_progress)
        g = q.groupby('method', sort=False)[[m for m in METRICS if m in q]]
        out['results'][f'x{factor}'] = dict(
            unconditional_steps=steps, minutes=round((time.time() - start) / 60, 1), folds=len(study.fold_ids),
            unconditional_loss=[round(last_loss(study, i), 4) for i in study.fold_ids],
            mean=g.mean().round(4).to_dict('index'), std=g.std().round(4).to_dict('index'))
    print(json.dumps(out))

if __name__ == '__main__': main()
