"""The FER protocol end to end on a small image set written to disk: outputs, leakage refusal, resume, and a run
killed in another process that resumes where it stopped."""
import json, os, signal, subprocess, sys, textwrap, time
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from nfer_sde.core import EXPRESSIONS
from nfer_sde.fer import LeakageError, fer_config, fer_protocol, protocol_table

def write_squares(root, n_subjects=9, size=32, frames=2, seed=0):
    """A manifest of NIR and VIS PNGs whose class is the place of a bright square (learnable in a few epochs);
    subjects differ by background level."""
    g, rows = np.random.default_rng(seed), []
    for s in range(n_subjects):
        base = g.uniform(20, 80)
        for c, e in enumerate(EXPRESSIONS):
            for f in range(frames):
                for mod in ('NIR', 'VIS'):
                    a = np.full((size, size), base) + g.normal(0, 8, (size, size))
                    r, col = 4 + 14 * (c // 3), 2 + 10 * (c % 3)
                    a[r:r + 8, col:col + 8] = 200 if mod == 'NIR' else 150
                    p = f'{mod}/P{s:03d}/{e}_{f}.png'
                    (root / p).parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(root / p)
                    rows.append(dict(path=p, subject=f'P{s:03d}', expression=e, modality=mod, illumination='strong',
                                     frame=f, landmarks=''))
    pd.DataFrame(rows).to_csv(root / 'manifest.csv', index=False)
    return root / 'manifest.csv'

FOLDS = [{'train': [f'P{s:03d}' for s in range(9) if s % 3 != i], 'test': [f'P{s:03d}' for s in range(9) if s % 3 == i]}
         for i in range(3)]
CONFIG = fer_config('tiny', epochs=4, patience=2)

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return write_squares(tmp_path_factory.mktemp('squares'))

def vis_extra(manifest, folds=FOLDS):
    "The VIS images of each fold's training subjects as that fold's extra images (the 'gray' translation)."
    from nfer_sde.datasets import read_manifest
    df = read_manifest(manifest)
    vis = df[df['modality'] == 'VIS']
    return pd.concat([vis[vis['subject'].isin(f['train'])].assign(fold=i) for i, f in enumerate(folds)])

def test_protocol_writes_results_next_to_the_split(data, tmp_path):
    out = tmp_path / 'split'
    s = fer_protocol(data, FOLDS, out, config=CONFIG, progress=False, device='cpu')
    assert json.loads((out / 'folds.json').read_text())['folds'] == FOLDS
    table = pd.read_csv(out / 'fer_real.csv')
    assert list(table['fold']) == [0, 1, 2] and (table['n_test'] == 3 * 6 * 2).all() and (table['n_extra'] == 0).all()
    summary = json.loads((out / 'fer_real.json').read_text())
    assert summary['mean_accuracy'] == pytest.approx(np.mean(table['accuracy']))
    assert summary['std_accuracy'] == pytest.approx(np.std(table['accuracy'], ddof=1))  # sample std, as the tables report
    cm = pd.read_csv(out / 'fer_real_confusion.csv', index_col=0)
    assert cm.to_numpy().sum() == 9 * 6 * 2 and list(cm.columns) == list(EXPRESSIONS)  # every test image once
    assert np.trace(cm.to_numpy()) / cm.to_numpy().sum() == pytest.approx(np.average(table['accuracy'], weights=table['n_test']))
    assert not list(out.rglob('.*.tmp'))  # atomic writes leave no temporary file behind
    assert s == summary

def test_extra_images_of_test_subjects_are_refused(data, tmp_path):
    out = tmp_path / 'split'
    extra = vis_extra(data)
    leaky = extra.copy(); leaky.loc[leaky.index[0], 'fold'] = 1 - leaky.loc[leaky.index[0], 'fold']
    with pytest.raises(LeakageError, match='not training subjects'):
        fer_protocol(data, FOLDS, out, extra=leaky, name='leaky', config=CONFIG, progress=False)
    with pytest.raises(LeakageError):  # one set for all folds: holds every fold's test subjects
        fer_protocol(data, FOLDS, out, extra=extra.drop(columns='fold'), name='leaky', config=CONFIG, progress=False)
    assert not out.exists()  # refused before anything was trained or written

def test_extra_images_enter_training_and_runs_share_the_split(data, tmp_path):
    out = tmp_path / 'split'
    fer_protocol(data, FOLDS, out, config=CONFIG, progress=False, device='cpu')
    s = fer_protocol(data, FOLDS, out, extra=vis_extra(data), name='gray/vis', config=CONFIG, progress=False, device='cpu')
    table = pd.read_csv(out / 'fer_gray_vis.csv')
    assert (table['n_extra'] > 0).all() and (table['n_extra'] < 6 * 6 * 2).all()  # validation subjects' extras left out
    t = protocol_table(out)
    assert set(t.index) == {'real', 'gray/vis'} and t.loc['gray/vis', 'extra images'] == s['n_extra']

def test_another_split_in_the_same_folder_is_refused(data, tmp_path):
    out = tmp_path / 'split'
    fer_protocol(data, FOLDS, out, config=CONFIG, progress=False, device='cpu')
    other = [{'train': f['test'] + f['train'][:3], 'test': f['train'][3:]} for f in FOLDS]
    with pytest.raises(ValueError, match='another fold split'):
        fer_protocol(data, other, out, config=CONFIG, progress=False)

def test_finished_folds_are_reused_and_changed_ones_recomputed(data, tmp_path):
    out = tmp_path / 'split'
    fer_protocol(data, FOLDS, out, config=CONFIG, progress=False, device='cpu')
    stamps = {p: p.stat().st_mtime_ns for p in (out / 'fer_real').glob('fold_*.json')}
    fer_protocol(data, FOLDS, out, config=CONFIG, progress=False, device='cpu')
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing retrained
    fer_protocol(data, FOLDS, out, config=fer_config('tiny', epochs=3, patience=2), progress=False, device='cpu')
    assert all(p.stat().st_mtime_ns != t for p, t in stamps.items())  # another config: every fold again

KILLED_RUN = textwrap.dedent('''
    import sys, json
    from nfer_sde.fer import fer_config, fer_protocol
    folds = json.loads(sys.argv[3])
    fer_protocol(sys.argv[1], folds, sys.argv[2], config=fer_config('tiny', epochs=30, min_epochs=30), progress=False, device='cpu')
''')

@pytest.mark.slow
def test_a_killed_run_resumes_from_its_finished_folds(data, tmp_path):
    out = tmp_path / 'split'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    p = subprocess.Popen([sys.executable, '-c', KILLED_RUN, str(data), str(out), json.dumps(FOLDS)], env=env)
    first = out / 'fer_real' / 'fold_00.json'
    deadline = time.time() + 120
    while not first.exists() and p.poll() is None and time.time() < deadline: time.sleep(0.2)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert first.exists() and not (out / 'fer_real.json').exists()  # killed after fold 0, before the summary
    done = json.loads(first.read_text())  # complete JSON: written atomically
    stamp = first.stat().st_mtime_ns
    s = fer_protocol(data, FOLDS, out, config=fer_config('tiny', epochs=30, min_epochs=30), progress=False, device='cpu')
    assert first.stat().st_mtime_ns == stamp and s['fold_accuracy'][0] == done['accuracy']
    assert len(s['fold_accuracy']) == 3

def test_saved_fold_models_reload_and_predict_like_the_run(data, tmp_path):
    from nfer_sde.datasets import read_manifest
    from nfer_sde.fer import load_fer, load_images, predict
    out = tmp_path / 'split'
    fer_protocol(data, FOLDS[:1], out, config=CONFIG, progress=False, device='cpu')
    assert not list(out.rglob('*.pt'))
    s = fer_protocol(data, FOLDS[:1], out, config=CONFIG, progress=False, device='cpu', save_models=True)  # model missing: retrain
    model = load_fer(out / 'fer_real' / 'fold_00.pt')
    df = read_manifest(data)
    test = df[(df['modality'] == 'NIR') & df['subject'].isin(FOLDS[0]['test'])]
    x, y = load_images(test, CONFIG.size)
    assert (predict(model, x).argmax(1) == y).float().mean().item() == pytest.approx(s['fold_accuracy'][0])
