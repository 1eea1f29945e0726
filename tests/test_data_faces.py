"""Face alignment on real photos that ship in packages (scikit-image's astronaut): an Oulu-CASIA-like raw set,
preprocessing killed midway then resumed, no faces at all, the predictor's location."""
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data as skdata
from nfer_sde.core import InputError
from nfer_sde.datasets import read_manifest
from nfer_sde.faces import PREDICTOR_FILE, align_image, predictor_path, preprocess_dataset

def raw_oulu(root: Path, subjects=('P001', 'P002'), frames=2, no_face=('P002', 'Fear')):
    "An Oulu-CASIA-like tree of astronaut frames (gray NI, colour VL), one sequence without a face."
    astro = Image.fromarray(skdata.astronaut()).crop((96, 0, 352, 256))
    blank = Image.fromarray(np.tile(np.linspace(40, 200, 256).astype(np.uint8), (256, 1)))  # a smooth gradient: no face
    for m in ('NI', 'VL'):
        for s in subjects:
            for e in ('Fear', 'Happiness'):
                d = root / 'OriginalImg' / m / 'Strong' / s / e
                d.mkdir(parents=True)
                for f in range(frames):
                    im = (blank if (s, e) == no_face else astro.rotate(5 * f, resample=Image.BICUBIC))
                    im.convert('L' if m == 'NI' else 'RGB').save(d / f'{f:03d}.jpeg')
    return root

def test_predictor_path(tmp_path):
    shipped = predictor_path()
    assert shipped.name == PREDICTOR_FILE and 'face_recognition_models' in str(shipped)
    mine = tmp_path / 'pred.dat'; mine.symlink_to(shipped)
    assert predictor_path(mine) == mine
    with pytest.raises(InputError, match='predictor file not found'): predictor_path(tmp_path / 'none.dat')

def test_preprocess_oulu_layout(tmp_path):
    raw = raw_oulu(tmp_path / 'raw')
    m = preprocess_dataset(raw, tmp_path / 'aligned', size=64, last_k=1, progress=False)
    df = read_manifest(m)
    assert len(df) == 2 * 2 * 2 - 2  # modalities x subjects x expressions x 1 frame, minus the sequence without a face
    assert all('OriginalImg/' not in p and Path(p).suffix == '.png' for p in df.path)  # the layout is mirrored below dst
    assert {Path(p).relative_to(tmp_path / 'aligned').parts[0] for p in df.path} == {'NI', 'VL'}
    assert set(df.frame) == {1} and df.landmarks.map(lambda L: L.shape == (68, 2)).all()
    assert Image.open(df.path[0]).size == (64, 64)
    report = json.loads((tmp_path / 'aligned' / 'report.json').read_text())
    assert report['images'] == 8 and report['aligned'] == 6 and report['no_face'] == 2
    nf = pd.read_csv(tmp_path / 'aligned' / 'no_face.csv')
    assert len(nf) == 2 and all('P002/Fear' in p for p in nf.path) and set(nf.reason) == {'no face found'}

@pytest.mark.slow
def test_preprocess_killed_midway_resumes(tmp_path):
    raw = raw_oulu(tmp_path / 'raw', subjects=('P001', 'P002', 'P003'), frames=3, no_face=None)
    dst = tmp_path / 'aligned'
    code = textwrap.dedent('''
        import sys
        from nfer_sde.faces import preprocess_dataset
        preprocess_dataset(sys.argv[1], sys.argv[2], size=64, last_k=None, progress=False, checkpoint_every=1)
    ''')
    p = subprocess.Popen([sys.executable, '-c', code, str(raw), str(dst)], env={**os.environ, 'OMP_NUM_THREADS': '1'})
    progress = dst / 'progress.json'
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if len(json.loads(progress.read_text())['done']) >= 4: break
        except (FileNotFoundError, json.JSONDecodeError): pass
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    done_before = json.loads(progress.read_text())['done']
    assert 4 <= len(done_before) < 36 and not (dst / 'manifest.csv').exists()
    stamps = {r: (dst / r).stat().st_mtime_ns for r in done_before}
    df = read_manifest(preprocess_dataset(raw, dst, size=64, last_k=None, progress=False))
    assert len(df) == 2 * 3 * 2 * 3
    assert all((dst / r).stat().st_mtime_ns == t for r, t in stamps.items())  # work saved before the kill is not redone

def test_no_face_anywhere(tmp_path):
    raw = raw_oulu(tmp_path / 'raw', subjects=('P001',), frames=1, no_face=None)
    for f in raw.rglob('*.jpeg'): Image.new('L', (128, 128), 90).save(f, format='JPEG')
    with pytest.raises(InputError, match='no face was found in any of the 4 images'):
        preprocess_dataset(raw, tmp_path / 'aligned', progress=False)
    assert len(pd.read_csv(tmp_path / 'aligned' / 'no_face.csv')) == 4  # the report says which
    assert not (tmp_path / 'aligned' / 'manifest.csv').exists()

def test_align_gray_and_rgba():
    astro = Image.fromarray(skdata.astronaut())
    for im in (astro.convert('L'), astro.convert('RGBA')):
        crop, L = align_image(im, size=96)
        assert crop.size == (96, 96) and L.shape == (68, 2)
        np.testing.assert_allclose(L[36:42].mean(0)[1], L[42:48].mean(0)[1], atol=1e-3)  # eyes level
    assert align_image(Image.new('RGB', (200, 200), 'white')) is None
