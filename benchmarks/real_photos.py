"""The frequency sharing rule's test on inputs the networks have never seen: real photos, aligned as `nfer-sde translate`
aligns them (`cli.translation_source`) and translated with a fold's networks (`cli.translation_networks`,
`sampler.translate`), typically trained on the built-in synthetic data.

The photos: scikit-image's astronaut as the tests' fixture `tests/photos.py` writes it (colour, gray, RGBA, a landscape crop, a
phone photo stored sideways; plus a faceless image and a corrupt file, which are skipped), and other people that ship
in installed packages: Grace Hopper from matplotlib's sample data (colour and gray) and the first faces of
scikit-image's LFW subset (25 px gray crops of Labeled Faces in the Wild, written 8x larger). Nothing is downloaded.

Per aligned photo, with dlib as an observer the networks never saw (`faces.dlib_landmark_fn`, images upsampled to
`faces.DLIB_UPSAMPLE` px): whether dlib's detector finds a face in the aligned source and in the translation, and the
NME between dlib's landmarks on the source and on the translation (both placed from the alignment's landmarks); the
same NME for the 'gray' baseline (the source's luma) says what the observer reads when nothing moved.

    .venv/bin/python benchmarks/real_photos.py --checkpoints runs/demo/work/nets/fold_00 [--out OUT] [--steps 20] [--weight-factor frequency=4]

DIR holds a fold's networks as `pipeline.train_fold_nets` writes them (`score_conditional/`, `heatmap/`,
`score_unconditional/`, `domain/`). OUT (default: a temporary folder) receives the photos, the aligned crops
(`run/vis/`), the translations (`run/nir/`) and `panel.png` (sources above, translations below). Prints ONE JSON line."""
import argparse, json, platform, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image

LFW_FACES = 8  # first faces of scikit-image's LFW subset written as photos
LFW_SCALE = 8  # their 25 px crops are written this many times larger (dlib's detector needs faces of ~80 px)

def write_other_people(folder: Path) -> Path:
    "Photos of people other than the astronaut, from files that ship in installed packages: matplotlib's Grace Hopper, scikit-image's LFW faces."
    import matplotlib
    from skimage import data as skdata
    folder.mkdir(parents=True, exist_ok=True)
    hopper = Image.open(Path(matplotlib.get_data_path()) / 'sample_data' / 'grace_hopper.jpg').convert('RGB')
    hopper.save(folder / 'grace_hopper.png'); hopper.convert('L').save(folder / 'grace_hopper_gray.png')
    lfw = skdata.lfw_subset()[:LFW_FACES]  # the subset's first 100 images are faces
    for i, face in enumerate(lfw):
        im = Image.fromarray(np.round(face * 255).astype(np.uint8))
        im.resize((im.width * LFW_SCALE, im.height * LFW_SCALE), Image.BICUBIC).save(folder / f'lfw_{i:02d}.png')
    return folder

def write_photos(folder: Path) -> Path:
    "The test photos of the astronaut (`tests/photos.py`) and the other people, in one folder."
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))
    from photos import write_test_photos
    write_test_photos(folder / 'astronaut'); write_other_people(folder / 'others')
    return folder

def method_checkpoints(method: str, checkpoints: Path) -> dict:
    "The run folders of `checkpoints` that `method` needs (`sampler.method_networks`), as keyword arguments of `cli.translation_networks`."
    from nfer_sde.cli import NETWORK_OPTIONS
    from nfer_sde.sampler import NETWORKS, method_networks
    return {NETWORK_OPTIONS[NETWORKS[r].kind]: checkpoints / NETWORKS[r].folder for r in method_networks(method)}

def panel(top: torch.Tensor, bottom: torch.Tensor, path: Path):
    "A PNG of two rows of images in [-1, 1] (N, C, H, W): `top` above `bottom`."
    from nfer_sde.core import to_unit_range
    rgb = lambda x: to_unit_range(x.float()).expand(-1, 3, -1, -1)
    grid = torch.cat([torch.cat(list(rgb(top)), 2), torch.cat(list(rgb(bottom)), 2)], 1)
    Image.fromarray((grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(path)

def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--checkpoints', required=True, help="a fold's network folder (score_conditional/, heatmap/, ...)")
    p.add_argument('--out', help='output folder (default: a temporary one)')
    p.add_argument('--method', default='nfer-sde', help='translation preset (sampler.METHODS)')
    p.add_argument('--steps', type=int, help="reverse steps (default: the sampler's)")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--t0', type=float, help="start as a fraction of T (default: the sampler's)")
    p.add_argument('--weight-factor', action='append', default=[], metavar='ENERGY=K',
                   help="multiply an energy's default weight by K (repeatable), e.g. frequency=4")
    p.add_argument('--device', help='default: $NFER_SDE_DEVICE, else a GPU if there is one')
    a = p.parse_args(argv)
    from nfer_sde.cli import translation_networks, translation_source
    from nfer_sde.networks import load_network, trained_on_builtin
    from nfer_sde.core import default_device, to_gray, atomic_save_image
    from nfer_sde.faces import DLIB_UPSAMPLE, dlib_face_found, dlib_landmark_fn
    from nfer_sde.landmarks import nme
    from nfer_sde.sampler import NETWORKS, method_networks, translate
    from nfer_sde.translation_job import load_vis
    start, ck = time.perf_counter(), Path(a.checkpoints)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix='real_photos_'))
    device = torch.device(a.device) if a.device else default_device()
    kw = method_checkpoints(a.method, ck)
    nets, sde = translation_networks(a.method, device=device, **kw)
    metas = [load_network(ck / NETWORKS[r].folder, NETWORKS[r].kind)[1] for r in method_networks(a.method)]
    translator = nets.get('score_net', nets.get('paired_net'))  # the network whose input size the crops take
    size = translator.config.get('image_size', 64) if translator is not None else 64
    photos = write_photos(out / 'photos')
    crops = translation_source(photos, out / 'run', size, align='yes', progress=False)  # nfer-sde translate's alignment
    state = json.loads((crops / 'progress.json').read_text())  # `faces.align_each`'s record: the crops' landmarks
    keys = sorted(state['done'])
    from nfer_sde.base import parse_landmarks
    vis = torch.stack([load_vis(crops / k, size) for k in keys])
    ref = torch.as_tensor(np.stack([parse_landmarks(state['done'][k]) for k in keys]), dtype=torch.float32)
    from nfer_sde.sampler import default_t0, preset_weights
    weights = preset_weights(a.method, size)
    for spec in a.weight_factor:
        energy, _, k = spec.partition('=')
        if energy not in weights: p.error(f"--weight-factor {spec}: {a.method} has no {energy!r} energy (it has {sorted(weights)})")
        weights[energy] *= float(k)
    options = {'sde': sde, **nets, **({'n_steps': a.steps} if a.steps else {}), **({'weights': weights} if a.weight_factor else {}),
               **({'t0': default_t0(sde, a.t0)} if a.t0 is not None else {})}
    nir = translate(vis, a.method, seed=a.seed, **options).cpu()
    for k, y in zip(keys, nir): atomic_save_image(Image.fromarray(((y[0].numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)), out / 'run' / 'nir' / k)
    panel(vis, nir, out / 'panel.png')
    observe = dlib_landmark_fn()
    gray = to_gray(vis)
    seen_src, seen_nir, seen_gray = observe(vis, ref).double(), observe(nir, ref).double(), observe(gray, ref).double()
    found_src, found_nir = dlib_face_found(vis), dlib_face_found(nir)
    nme_nir, nme_gray = nme(seen_nir, seen_src), nme(seen_gray, seen_src)
    per_photo = {k: {'face_in_source': bool(fs), 'face_in_translation': bool(fn), 'nme_to_source': round(float(e), 4),
                     'nme_gray_to_source': round(float(g), 4)}
                 for k, fs, fn, e, g in zip(keys, found_src, found_nir, nme_nir, nme_gray)}
    import pandas as pd
    skipped = pd.read_csv(out / 'run' / 'skipped.csv')
    kept = found_src & found_nir
    result = {
        'method': a.method, 'checkpoints': str(ck), 'trained_on_builtin': any(trained_on_builtin(m) for m in metas),
        'size': size, 'steps': a.steps or 'sampler default', 'seed': a.seed, 'weights': weights, 't0': options.get('t0', 'sampler default'), 'observer': f'dlib 68-point, upsampled to {DLIB_UPSAMPLE} px',
        'photos': per_photo,
        'skipped': {str(Path(r.path).relative_to(photos.resolve())): r.reason for r in skipped.itertuples()},
        'summary': {'aligned': len(keys), 'face_in_source': int(found_src.sum()), 'face_kept': int(kept.sum()),
                    'face_kept_of_astronaut': f"{int(kept[[k.startswith('astronaut/') for k in keys]].sum())} of "
                                              f"{int(found_src[[k.startswith('astronaut/') for k in keys]].sum())}",
                    'face_kept_of_others': f"{int(kept[[k.startswith('others/') for k in keys]].sum())} of "
                                           f"{int(found_src[[k.startswith('others/') for k in keys]].sum())}",
                    'mean_nme_to_source': round(float(nme_nir.mean()), 4), 'mean_nme_gray_to_source': round(float(nme_gray.mean()), 4)},
        'out': str(out), 'seconds': round(time.perf_counter() - start, 1),
        'machine': f'{platform.machine()} {platform.processor() or platform.platform()}, torch {torch.__version__}, {torch.get_num_threads()} threads, {device}',
    }
    print(json.dumps(result), flush=True)
    return result

if __name__ == '__main__':
    main()
    sys.exit(0)
