"""Bad input to the loaders: missing or empty roots, unknown folder names, unreadable images, image modes and sizes,
broken manifests; a fake Oulu-CASIA tree made here; folds."""
import json, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader
from nfer_sde.core import EXPRESSIONS, InputError
from nfer_sde.datasets import (ImageDataset, PairDataset, SubjectLeakError, check_disjoint, load_folds, read_manifest,
                               save_folds, scan_oulu_casia, subject_folds)

HEADER = 'path,subject,expression,modality,illumination,frame'

def oulu_tree(root: Path, prefix='OriginalImg', subjects=('P001', 'P002'), frames=4, size=(24, 20)):
    "A fake Oulu-CASIA NIR&VIS copy: NI gray and VL colour JPEGs of random pixels."
    rng = np.random.default_rng(0)
    for m in ('NI', 'VL'):
        for ill in ('Dark', 'Strong', 'Weak'):
            for s in subjects:
                for e in ('Anger', 'Disgust', 'Fear', 'Happiness', 'Sadness', 'Surprise'):
                    d = root / prefix / m / ill / s / e
                    d.mkdir(parents=True)
                    for f in range(frames):
                        shape = size if m == 'NI' else (*size, 3)
                        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(d / f'{f:03d}.jpeg')
    return root

def write_images(folder: Path, n=4, mode='RGB', size=(32, 32)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n): Image.new(mode, size, 100 + i).save(folder / f'{i}.png')
    return [f'{i}.png' for i in range(n)]

def manifest(folder: Path, rows, header=HEADER) -> Path:
    p = folder / 'manifest.csv'
    p.write_text(header + '\n' + ''.join(r + '\n' for r in rows))
    return p

# --- Oulu-CASIA scanner -------------------------------------------------------------------------------------------

def test_scan_fake_tree_case_insensitive_with_prefix(tmp_path):
    root = oulu_tree(tmp_path / 'oulu')
    (root / 'OriginalImg' / 'VL' / 'Weak').rename(root / 'OriginalImg' / 'VL' / 'weak')
    (root / 'OriginalImg' / 'NI').rename(root / 'OriginalImg' / 'ni')
    df = scan_oulu_casia(root, last_k=2)
    assert len(df) == 2 * 3 * 2 * 6 * 2 and set(df.frame) == {2, 3}
    assert set(df.modality) == {'NIR', 'VIS'} and set(df.illumination) == {'strong', 'weak', 'dark'}
    assert df.path.map(lambda p: Path(p).exists()).all()
    assert len(scan_oulu_casia(root / 'OriginalImg', last_k=None)) == 2 * 3 * 2 * 6 * 4  # root at the NI/VL level

def test_scan_missing_and_empty_roots(tmp_path):
    with pytest.raises(InputError, match='does not exist'): scan_oulu_casia(tmp_path / 'nope')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(InputError, match='has no NI or VL folder'): scan_oulu_casia(tmp_path / 'empty')
    (tmp_path / 'file').write_text('x')
    with pytest.raises(InputError, match='is not a folder'): scan_oulu_casia(tmp_path / 'file')
    (tmp_path / 'hollow' / 'NI' / 'Strong' / 'P001' / 'Anger').mkdir(parents=True)  # the layout, but no images
    with pytest.warns(UserWarning, match='without images'), pytest.raises(InputError, match='holds no images'):
        scan_oulu_casia(tmp_path / 'hollow')

@pytest.mark.parametrize('bad, where', [('IR', 'OriginalImg'), ('Bright', 'OriginalImg/NI'), ('Person1', 'OriginalImg/NI/Strong'),
                                        ('Contempt', 'OriginalImg/NI/Strong/P001')])
def test_scan_unknown_folder_names(tmp_path, bad, where):
    root = oulu_tree(tmp_path / 'oulu', subjects=('P001',), frames=1)
    (root / where / bad).mkdir()
    with pytest.raises(InputError, match=f"unexpected folder name '{bad}'") as e: scan_oulu_casia(root)
    assert str(root / where / bad) in str(e.value)  # the message names the folder

def test_scan_two_copies_is_ambiguous(tmp_path):
    root = oulu_tree(tmp_path / 'oulu', subjects=('P001',), frames=1)
    oulu_tree(root, prefix='Cropped', subjects=('P001',), frames=1)
    with pytest.raises(InputError, match='several Oulu-CASIA copies'): scan_oulu_casia(root)
    assert len(scan_oulu_casia(root / 'Cropped')) == 2 * 3 * 6

def test_scan_ignores_non_images_and_sorts_frames_numerically(tmp_path):
    root = oulu_tree(tmp_path / 'oulu', subjects=('P001',), frames=0)
    seq = root / 'OriginalImg' / 'NI' / 'Strong' / 'P001' / 'Anger'
    for name in ('9.jpeg', '10.jpeg', '100.JPEG'): Image.new('L', (20, 20)).save(seq / name, format='JPEG')
    (seq / 'Thumbs.db').write_bytes(b'\0'); (seq / '.DS_Store').write_bytes(b'\0')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        df = scan_oulu_casia(root, last_k=2)
    assert [Path(p).name for p in df.path] == ['10.jpeg', '100.JPEG'] and df.frame.tolist() == [1, 2]

# --- images ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('mode', ['L', 'RGB', 'RGBA', 'P', 'LA', 'I;16', 'CMYK'])
@pytest.mark.parametrize('channels', [1, 3])
def test_image_modes(tmp_path, mode, channels):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8))
    f = tmp_path / ('img.tiff' if mode in ('I;16', 'CMYK') else 'img.png')
    (Image.fromarray(np.asarray(rgb.convert('L')).astype(np.uint16) * 257) if mode == 'I;16' else rgb.convert(mode)).save(f)
    df = read_manifest(manifest(tmp_path, [f'{f.name},S1,anger,VIS,strong,0']))
    item = ImageDataset(df, size=24, channels=channels)[0]
    assert item['image'].shape == (channels, 24, 24) and item['image'].dtype == torch.float32
    assert -1 <= item['image'].min() <= item['image'].max() <= 1

@pytest.mark.parametrize('content', [b'', b'not an image at all', b'\x89PNG\r\n\x1a\n broken'])
def test_corrupt_images_name_the_file(tmp_path, content):
    (tmp_path / 'bad.png').write_bytes(content)
    ds = ImageDataset(read_manifest(manifest(tmp_path, ['bad.png,S1,anger,NIR,strong,0'])))
    with pytest.raises(InputError, match='cannot be read as an image') as e: ds[0]
    assert 'bad.png' in str(e.value)

def test_truncated_jpeg(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / 'full.jpg')
    (tmp_path / 'cut.jpg').write_bytes((tmp_path / 'full.jpg').read_bytes()[:300])
    with pytest.raises(InputError, match='cut.jpg'): ImageDataset(read_manifest(manifest(tmp_path, ['cut.jpg,S1,anger,NIR,strong,0'])))[0]

def test_sizes(tmp_path):
    Image.new('RGB', (10, 40)).save(tmp_path / 'thin.png')
    with pytest.raises(InputError, match='is 10x40 pixels'):
        ImageDataset(read_manifest(manifest(tmp_path, ['thin.png,S1,anger,NIR,strong,0'])))[0]
    Image.new('RGB', (80, 40)).save(tmp_path / 'wide.png')  # not square: centre crop
    L = ' '.join(['60 20'] * 68)  # x = 60 in a 80x40 image: 40 after cropping 20 px on the left
    item = ImageDataset(read_manifest(manifest(tmp_path, [f'wide.png,S1,anger,NIR,strong,0,{L}'], HEADER + ',landmarks')), size=40)[0]
    assert item['image'].shape == (1, 40, 40) and torch.allclose(item['landmarks'][0], torch.tensor([40., 20.]))
    far = ' '.join(['500 500'] * 68)
    ds = ImageDataset(read_manifest(manifest(tmp_path, [f'wide.png,S1,anger,NIR,strong,0,{far}'], HEADER + ',landmarks')))
    with pytest.raises(InputError, match='landmarks far outside its 80x40 pixels'): ds[0]
    for bad in (dict(channels=2), dict(size=4)):
        with pytest.raises(InputError): ImageDataset(read_manifest(tmp_path / 'manifest.csv'), **bad)

# --- manifests ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('header, row, message', [
    ('path,subject,expression', 'a.png,S1,anger', "missing column(s) ['modality', 'illumination', 'frame']"),
    (HEADER, 'a.png,S1,contempt,NIR,strong,0', "unknown expression ['contempt'] on line(s) 2"),
    (HEADER, 'a.png,S1,anger,thermal,strong,0', 'unknown modality'),
    (HEADER, 'a.png,S1,anger,NIR,sunny,0', 'unknown illumination'),
    (HEADER, 'a.png,S1,anger,NIR,strong,1.5', "'frame' is not an integer"),
    (HEADER, 'a.png,,anger,NIR,strong,0', "empty 'subject' on line(s) 2"),
    (HEADER + ',landmarks', 'a.png,S1,anger,NIR,strong,0,1 2 3', 'landmarks have 3 numbers'),
    (HEADER + ',landmarks', 'a.png,S1,anger,NIR,strong,0,' + ' '.join(['x'] * 136), 'landmarks are not numbers'),
    (HEADER, 'missing.png,S1,anger,NIR,strong,0', '1 listed image(s) do not exist')])
def test_bad_manifests(tmp_path, header, row, message):
    write_images(tmp_path, 1)
    (tmp_path / '0.png').rename(tmp_path / 'a.png')
    with pytest.raises(InputError, match=message.replace('(', r'\(').replace(')', r'\)').replace('[', r'\[').replace(']', r'\]')) as e:
        read_manifest(manifest(tmp_path, [row], header))
    assert 'manifest.csv' in str(e.value)  # the message names the manifest

def test_manifest_files(tmp_path):
    with pytest.raises(InputError, match='manifest not found'): read_manifest(tmp_path / 'none.csv')
    with pytest.raises(InputError, match='manifest not found'): read_manifest(tmp_path)  # a folder
    (tmp_path / 'empty.csv').write_text('')
    with pytest.raises(InputError, match='not a readable CSV'): read_manifest(tmp_path / 'empty.csv')
    (tmp_path / 'binary.csv').write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError): read_manifest(tmp_path / 'binary.csv')
    with pytest.raises(InputError, match='lists no images'): read_manifest(manifest(tmp_path, []))
    names = write_images(tmp_path, 2)
    with pytest.raises(InputError, match='listed twice'):
        read_manifest(manifest(tmp_path, [f'{names[0]},S1,anger,NIR,strong,0', f'./{names[0]},S1,anger,NIR,strong,1']))

def test_manifest_labels_are_canonical(tmp_path):
    names = write_images(tmp_path, 3)
    df = read_manifest(manifest(tmp_path, [f'{names[0]},S1,Happy,ni,Strong,0', f'{names[1]},S1,SADNESS,VL,dark,1',
                                           f'{names[2]},007,Surprise,nir,WEAK,2']))
    assert df.expression.tolist() == ['happiness', 'sadness', 'surprise'] and df.modality.tolist() == ['NIR', 'VIS', 'NIR']
    assert df.subject.tolist() == ['S1', 'S1', '007'] and df.label.tolist() == [3, 4, 5]  # ids stay strings

def test_dataloader_batches(tmp_path):
    names = write_images(tmp_path, 4)
    df = read_manifest(manifest(tmp_path, [f'{n},S{i % 2},anger,NIR,strong,{i}' for i, n in enumerate(names)]))
    batch = next(iter(DataLoader(ImageDataset(df, size=16), batch_size=4)))
    assert batch['image'].shape == (4, 1, 16, 16) and batch['landmarks'].isnan().all() and batch['subject'] == ['S0', 'S1', 'S0', 'S1']

def test_pairs_by_rank_from_the_peak(tmp_path):
    root = oulu_tree(tmp_path / 'oulu', subjects=('P001',), frames=5)
    for f in (root / 'OriginalImg' / 'VL').rglob('000.jpeg'): f.unlink()  # VIS sequences one frame shorter
    df = scan_oulu_casia(root, last_k=None)
    pairs = PairDataset(df, size=16)
    assert len(pairs) == (df.modality == 'VIS').sum() and pairs.n_unpaired == 0
    frames = {(df.frame[v], df.frame[n]) for v, n in zip(pairs.pairs.vis, pairs.pairs.nir)}
    assert frames == {(3, 4), (2, 3), (1, 2), (0, 1)}  # peak with peak

# --- folds ----------------------------------------------------------------------------------------------------------

def records(n_subjects, per=3):
    return pd.DataFrame([dict(path=f'{s}/{e}/{f}', subject=f'P{s:03d}', expression=e) for s in range(n_subjects)
                         for e in EXPRESSIONS for f in range(per)])

def test_folds_are_subject_independent_and_complete():
    df = records(80)
    folds = subject_folds(df, k=10, seed=3)
    assert sorted(s for f in folds for s in f['test']) == sorted(df.subject.unique())
    for f in folds:
        assert not set(f['train']) & set(f['test']) and len(f['test']) == 8
        check_disjoint(df[df.subject.isin(f['train'])], df[df.subject.isin(f['test'])])
    assert subject_folds(df, k=10, seed=3) == folds

def test_leaks_and_bad_k(tmp_path):
    with pytest.raises(SubjectLeakError, match='P001'): check_disjoint(['P001', 'P002'], ['P001'])
    for k in (1, 81):
        with pytest.raises(InputError, match='k must lie'): subject_folds(records(80), k=k)

def test_folds_json_round_trip_and_tampering(tmp_path):
    folds = subject_folds(records(12), k=3)
    path = save_folds(folds, tmp_path / 'results', k=3, seed=0)
    assert path == tmp_path / 'results' / 'folds.json' and load_folds(path) == folds
    data = json.loads(path.read_text()); data['folds'][0]['test'].append(data['folds'][0]['train'][0])
    path.write_text(json.dumps(data))
    with pytest.raises(SubjectLeakError): load_folds(path)
    path.write_text('{not json')
    with pytest.raises(InputError, match='is not a folds file'): load_folds(path)
    with pytest.raises(InputError, match='folds file not found'): load_folds(tmp_path / 'none.json')
