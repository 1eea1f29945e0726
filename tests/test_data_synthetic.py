"""The built-in data set on disk: a build killed midway resumes, sizes other than 64, NIR misregistration,
determinism, bad arguments."""
import os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np
import pytest
from PIL import Image
from nfer_sde.core import InputError
from nfer_sde.datasets import PairDataset, read_manifest
from nfer_sde.synthetic import build_dataset

SMALL = dict(n_subjects=2, expressions=['anger', 'surprise'], illuminations=['strong'], progress=False)

@pytest.mark.slow
def test_build_killed_midway_resumes(tmp_path):
    root = tmp_path / 'syn'
    code = textwrap.dedent('''
        import sys
        from nfer_sde.synthetic import build_dataset
        build_dataset(sys.argv[1], n_subjects=6, progress=False, batch_size=8)
    ''')
    p = subprocess.Popen([sys.executable, '-c', code, str(root)], env={**os.environ, 'OMP_NUM_THREADS': '1'})
    deadline = time.time() + 60
    while time.time() < deadline and len(list(root.rglob('*.png'))) < 40: time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    done = {f: f.stat().st_mtime_ns for f in root.rglob('*.png')}
    assert 40 <= len(done) < 6 * 3 * 6 * 3 * 2 and not (root / 'manifest.csv').exists()
    df = read_manifest(build_dataset(root, n_subjects=6, progress=False))
    assert len(df) == 6 * 3 * 6 * 3 * 2
    done = {f.resolve(): t for f, t in done.items()}
    pairs = [list(map(lambda p: Path(p).resolve(), g.path)) for _, g in df.groupby(['subject', 'expression', 'illumination', 'frame'])]
    whole = [f for pair in pairs if all(f in done for f in pair) for f in pair]  # a pair the kill interrupted is redone
    assert len(whole) >= len(done) - 8 and all(f.stat().st_mtime_ns == done[f] for f in whole)  # finished pairs are kept (8 write at once)
    for path in df.path: Image.open(path).load()  # and every listed file is a whole image

def test_other_sizes_scale_landmarks(tmp_path):
    a = read_manifest(build_dataset(tmp_path / 'a', size=64, **SMALL))
    b = read_manifest(build_dataset(tmp_path / 'b', size=128, **SMALL))
    assert Image.open(b.path[0]).size == (128, 128)
    La, Lb = np.stack(a.landmarks), np.stack(b.landmarks)
    np.testing.assert_allclose(Lb, (La + 0.5) * 2 - 0.5, atol=0.02)  # same faces, twice the pixels

def test_misalignment_moves_nir_landmarks_only(tmp_path):
    df = read_manifest(build_dataset(tmp_path / 'm', misalign=2., **SMALL))
    pairs = PairDataset(df, size=64)
    d = np.abs(np.stack([pairs[i]['landmarks'] - pairs[i]['landmarks_nir'] for i in range(len(pairs))])).mean()
    assert 0.3 < d < 6
    aligned = PairDataset(read_manifest(build_dataset(tmp_path / 'a', **SMALL)), size=64)
    np.testing.assert_allclose(aligned[0]['landmarks'], aligned[0]['landmarks_nir'], atol=1e-3)

def test_builds_are_deterministic(tmp_path):
    m1, m2 = build_dataset(tmp_path / '1', **SMALL), build_dataset(tmp_path / '2', **SMALL)
    assert m1.read_text() == m2.read_text()
    for rel in read_manifest(m1, check_files=False).path.map(lambda p: Path(p).relative_to(tmp_path / '1')):
        assert (tmp_path / '1' / rel).read_bytes() == (tmp_path / '2' / rel).read_bytes()
    other = build_dataset(tmp_path / '3', seed=1, **SMALL)
    assert other.read_text() != m1.read_text()

@pytest.mark.parametrize('kwargs, message', [
    (dict(n_subjects=0), 'n_subjects must lie'), (dict(size=16), 'at least 32 pixels'),
    (dict(frames_per_sequence=0), 'frames_per_sequence'), (dict(expressions=[]), 'non-empty subset'),
    (dict(illuminations=['dim']), 'subset of'), (dict(expressions=['Anger']), 'subset of')])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message): build_dataset(tmp_path / 'x', progress=False, **kwargs)
    assert not (tmp_path / 'x').exists()  # nothing written

def test_root_that_is_a_file(tmp_path):
    (tmp_path / 'f').write_text('x')
    with pytest.raises(InputError, match='is a file'): build_dataset(tmp_path / 'f', **SMALL)
