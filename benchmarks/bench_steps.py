"""Quality per network evaluation: NFER-SDE guided and unguided at 500, 100, 50, 20, 10 and 5 respaced steps.

Translates the same held-out VIS images (fold 0's test subjects, whom no network saw) with NFER-SDE (landmark +
frequency energies on the Tweedie estimate) and with the same conditional network unguided ('nfer-sde/no-energy'),
and scores each against the subjects' true NIR: SSIM (rewards blur), Fréchet distance to the held-out subjects' real
NIR on the named features of the translation-quality table (`FD[fer-small-cnn]`: a tiny FER classifier trained on the
fold's real training NIR) and landmark NME measured by dlib when available (an observer the guidance never sees),
else by the fold's heatmap network.

    .venv/bin/python benchmarks/bench_steps.py                      # trains tiny networks on the built-in data (quick profile)
    .venv/bin/python benchmarks/bench_steps.py --checkpoints runs/demo/work/nets/fold_00

Prints ONE JSON line: `ssim_guided_<n>`, `ssim_unguided_<n>`, `fd_guided_<n>`, `fd_unguided_<n>`, `nme_guided_<n>`
(and `nme_unguided_<n>`) for each n, with the machine and the time. Built-in synthetic data, not Oulu-CASIA."""
import argparse, json, platform, time
from pathlib import Path
import torch
from nfer_sde.fer import fer_config, train_fer
from nfer_sde.fer_protocol import load_images
from nfer_sde.landmarks import predict_landmarks
from nfer_sde.metrics import translation_metrics
from nfer_sde.pipeline import get_profile, load_vis_images, paired_truth, source_landmarks
from nfer_sde.sampler import build_translator, default_t0
from nfer_sde.sde import VPSDE
from nfer_sde.study import machine_description, prepare_study
from nfer_sde.training_loop import load_model

STEPS = (500, 100, 50, 20, 10, 5)

def observer():
    "dlib's 68-point observer when the project has it, else None (the heatmap network then measures the NME)."
    try:
        from nfer_sde.faces import dlib_landmark_fn
        return dlib_landmark_fn()
    except (ImportError, AttributeError): return None

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--checkpoints', help="a fold's network folder (score_conditional/, heatmap/); default: train them")
    ap.add_argument('--work', default='runs/bench_steps', help='where the data and (without --checkpoints) the networks go')
    ap.add_argument('--images', type=int, default=32, help='held-out VIS images translated (strong light)')
    ap.add_argument('--t0', type=float, default=0.5, help='start as a fraction of T')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    start, p = time.time(), get_profile('quick')
    study = prepare_study(None, p, ['nfer-sde'] if a.checkpoints is None else [], a.work, a.seed, folds=[0], progress=False, translate=False)
    if a.checkpoints:
        d = Path(a.checkpoints)
        score, heat = load_model(d / 'score_conditional' / 'checkpoint.pt'), load_model(d / 'heatmap' / 'checkpoint.pt')
    else: score, heat = study.nets[0].conditional, study.nets[0].heatmap
    df, fold = study.df, study.folds[0]
    test = df[df.subject.isin(fold['test']) & (df.illumination == 'strong')]
    src = test[test.modality == 'VIS'].head(a.images).reset_index(drop=True)
    vis = load_vis_images(df, list(src.path), p.size)
    shown = src.assign(source=src.path)
    truth, marks = paired_truth(df, shown, p.size), source_landmarks(df, shown.assign(landmarks=src.landmarks))
    real = load_images(test[test.modality == 'NIR'], p.size)[0]
    train_nir = df[df.subject.isin(fold['train']) & (df.modality == 'NIR')]
    x_fer, y_fer = load_images(train_nir, p.size)
    fer_model, _ = train_fer(x_fer, y_fer, config=fer_config(p.fer, size=p.size, seed=a.seed), progress=False)
    obs, t0 = observer(), default_t0(VPSDE(), a.t0)  # the networks are trained with the default VP-SDE
    out = {'what': 'NFER-SDE quality per respaced step count, guided vs unguided', 'data': 'built-in synthetic data (not Oulu-CASIA)',
           'images': len(src), 'subjects': 'fold 0 test subjects (held out)', 't0': t0, 'observer': 'dlib' if obs else 'heatmap net'}
    for n in STEPS:
        for name, method in (('guided', 'nfer-sde'), ('unguided', 'nfer-sde/no-energy')):
            tr = build_translator(method, score_net=score, heatmap_net=heat, t0=t0, n_steps=n)
            nir = tr(vis, generator=torch.Generator().manual_seed(a.seed))
            m = translation_metrics(nir, real=real, truth=truth, source_landmarks=marks, fer_model=fer_model, seed=a.seed,
                                    kid_subset_size=min(len(nir), len(real)),
                                    **({'observer_fn': obs} if obs else {'landmark_fn': lambda x: predict_landmarks(heat, x)}))
            fd = next(v for k, v in m.items() if k.startswith('FD'))
            nme = m.get('landmark NME (dlib)', m.get('landmark NME (guide net)', m.get('landmark NME')))
            out |= {f'ssim_{name}_{n}': round(m['SSIM'], 4), f'fd_{name}_{n}': round(fd, 3), f'nme_{name}_{n}': round(float(nme), 4)}
    out |= {'seconds': round(time.time() - start, 1), 'machine': machine_description(), 'torch': torch.__version__, 'python': platform.python_version()}
    print(json.dumps(out))

if __name__ == '__main__':
    main()
