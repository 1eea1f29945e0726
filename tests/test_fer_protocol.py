"""The FER protocol end to end on a small image set written to disk: outputs, leakage refusal, seeds, resume, a
protocol killed in another process that resumes where it stopped, and safe loading of saved classifiers."""
import json, os, signal, subprocess, sys, textwrap, time
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from nfer_sde.core import EXPRESSIONS
from nfer_sde.fer import fer_config
from nfer_sde.fer_protocol import SubjectLeakError, fer_protocol, protocol_summary, protocol_table, run_path

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
CONFIG = fer_config('tiny', epochs=4, patience=2, seeds=1)

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
    with pytest.raises(SubjectLeakError, match='not training subjects'):
        fer_protocol(data, FOLDS, out, extra=leaky, name='leaky', config=CONFIG, progress=False)
    with pytest.raises(SubjectLeakError):  # one set for all folds: holds every fold's test subjects
        fer_protocol(data, FOLDS, out, extra=extra.drop(columns='fold'), name='leaky', config=CONFIG, progress=False)
    assert not out.exists()  # refused before anything was trained or written

def test_extra_images_enter_training_and_runs_share_the_split(data, tmp_path):
    out = tmp_path / 'split'
    fer_protocol(data, FOLDS, out, config=CONFIG, progress=False, device='cpu')
    s = fer_protocol(data, FOLDS, out, extra=vis_extra(data), name='gray/vis', config=CONFIG, progress=False, device='cpu')
    table = pd.read_csv(out / 'fer_gray_vis.csv')
    assert (table['n_extra'] > 0).all() and (table['n_extra'] < 6 * 6 * 2).all()  # validation subjects' extras left out
    t = protocol_summary(out)
    assert set(t.index) == {'real', 'gray/vis'} and t.loc['gray/vis', 'extra images'] == s['n_extra']
    runs = protocol_table(out)
    assert len(runs) == 6 and set(runs['training set']) == {'real', 'gray/vis'} and (runs['seed'] == 0).all()

def test_seeds_give_one_run_each_and_more_seeds_reuse_the_first(data, tmp_path):
    out = tmp_path / 'split'
    one = fer_protocol(data, FOLDS[:2], out, config=CONFIG, progress=False, device='cpu')
    stamps = {p: p.stat().st_mtime_ns for p in (out / 'fer_real').glob('*.json')}
    s = fer_protocol(data, FOLDS[:2], out, config=fer_config('tiny', epochs=4, patience=2, seeds=2), progress=False, device='cpu')
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # seed 0 of each fold reused
    assert [(r['fold'], r['seed']) for r in s['runs']] == [(0, 0), (0, 1), (1, 0), (1, 1)] and s['seeds'] == 2 and s['k'] == 2
    acc = {(r['fold'], r['seed']): r['accuracy'] for r in s['runs']}
    assert acc[0, 0] == one['runs'][0]['accuracy'] and s['fold_accuracy'] == pytest.approx([(acc[f, 0] + acc[f, 1]) / 2 for f in (0, 1)])
    assert s['mean_accuracy'] == pytest.approx(np.mean(list(acc.values())))
    assert s['std_accuracy'] == pytest.approx(np.std(list(acc.values()), ddof=1))  # over all runs
    assert np.sum(s['confusion']) == 2 * 2 * 3 * 6 * 2  # each test image once per seed
    records = [json.loads(run_path(out, 'real', f, k).read_text()) for f in (0, 1) for k in (0, 1)]
    assert len({r['train_seed'] for r in records}) == 4  # a training seed per run ...
    assert all(r['val_subjects'] == records[2 * (r['fold'])]['val_subjects'] for r in records)  # ... one split per fold
    t = protocol_table(out)
    assert list(t.columns[:4]) == ['training set', 'fold', 'seed', 'accuracy'] and len(t) == 4
    assert t['accuracy'].tolist() == [acc[f, k] for f in (0, 1) for k in (0, 1)]

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
    fer_protocol(data, FOLDS, out, config=fer_config('tiny', epochs=3, patience=2, seeds=1), progress=False, device='cpu')
    assert all(p.stat().st_mtime_ns != t for p, t in stamps.items())  # another config: every fold again

KILLED_RUN = textwrap.dedent('''
    import sys, json
    from nfer_sde.fer import fer_config
    from nfer_sde.fer_protocol import fer_protocol
    folds = json.loads(sys.argv[3])
    fer_protocol(sys.argv[1], folds, sys.argv[2], config=fer_config('tiny', epochs=6, min_epochs=6, seeds=2), progress=False, device='cpu')
''')
DETERMINISTIC = ['training set', 'fold', 'seed', 'accuracy', 'n_train_real', 'n_extra', 'epochs', 'best_epoch']

def protocol_process(data, out):
    "The protocol of `KILLED_RUN` in a fresh single-threaded process."
    return subprocess.Popen([sys.executable, '-c', KILLED_RUN, str(data), str(out), json.dumps(FOLDS)], env=dict(os.environ, OMP_NUM_THREADS='1'))

@pytest.mark.slow
def test_a_killed_protocol_resumes_at_the_next_missing_run(data, tmp_path):
    assert protocol_process(data, tmp_path / 'whole').wait() == 0  # the same protocol, never interrupted
    out = tmp_path / 'split'
    p = protocol_process(data, out)
    third = run_path(out, 'real', 1, 0)  # fold 0's two seeds are done when fold 1's first run is written
    deadline = time.time() + 300
    while not third.exists() and p.poll() is None and time.time() < deadline: time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    done = sorted((out / 'fer_real').glob('fold_*.json'))
    assert third in done and len(done) < 6 and not (out / 'fer_real.json').exists()  # killed midway, before the summary
    stamps = {q: q.stat().st_mtime_ns for q in done}
    first = json.loads(done[0].read_text())  # complete JSON: written atomically
    assert protocol_process(data, out).wait() == 0  # resumes
    assert {q: q.stat().st_mtime_ns for q in stamps} == stamps  # the finished runs were not retrained
    assert len(list((out / 'fer_real').glob('fold_*.json'))) == 6 and not list(out.rglob('.*.tmp'))
    resumed, whole = protocol_table(out), protocol_table(tmp_path / 'whole')
    pd.testing.assert_frame_equal(resumed[DETERMINISTIC], whole[DETERMINISTIC])  # the same runs' table as without the kill
    s = json.loads((out / 'fer_real.json').read_text())
    assert s['runs'][0]['accuracy'] == first['accuracy'] and len(s['fold_accuracy']) == 3 and len(s['runs']) == 6

@pytest.mark.slow
def test_runs_shared_by_two_worker_processes_match_the_serial_protocol(data, tmp_path):
    assert protocol_process(data, tmp_path / 'serial').wait() == 0  # one process, one thread
    config = fer_config('tiny', epochs=6, min_epochs=6, seeds=2)  # KILLED_RUN's
    out = tmp_path / 'workers'
    fer_protocol(data, FOLDS, out, config=config, progress=False, device='cpu', workers=2)  # two spawned processes, one thread each
    pd.testing.assert_frame_equal(protocol_table(out)[DETERMINISTIC], protocol_table(tmp_path / 'serial')[DETERMINISTIC])
    (out / 'fer_real' / 'fold_01_seed_01.json').unlink()  # a run lost with a killed worker
    stamps = {q: q.stat().st_mtime_ns for q in (out / 'fer_real').glob('fold_*.json')}
    fer_protocol(data, FOLDS, out, config=config, progress=False, device='cpu', workers=2)
    assert {q: q.stat().st_mtime_ns for q in stamps} == stamps and (out / 'fer_real' / 'fold_01_seed_01.json').exists()
    pd.testing.assert_frame_equal(protocol_table(out)[DETERMINISTIC], protocol_table(tmp_path / 'serial')[DETERMINISTIC])

def test_saved_fold_models_reload_and_predict_like_the_run(data, tmp_path):
    from nfer_sde.datasets import read_manifest
    from nfer_sde.fer import load_fer, predict
    from nfer_sde.fer_protocol import load_images
    out = tmp_path / 'split'
    fer_protocol(data, FOLDS[:1], out, config=CONFIG, progress=False, device='cpu')
    assert not list(out.rglob('*.pt'))
    s = fer_protocol(data, FOLDS[:1], out, config=CONFIG, progress=False, device='cpu', save_models=True)  # model missing: retrain
    model = load_fer(run_path(out, 'real', 0, 0, '.pt'))
    df = read_manifest(data)
    test = df[(df['modality'] == 'NIR') & df['subject'].isin(FOLDS[0]['test'])]
    x, y = load_images(test, CONFIG.size)
    assert (predict(model, x).argmax(1) == y).float().mean().item() == pytest.approx(s['fold_accuracy'][0])

class Planted:
    "An object whose unpickling creates `marker` (a stand-in for arbitrary code)."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (open, (self.marker, 'w'))

def test_loading_a_planted_classifier_runs_nothing_and_names_the_file(tmp_path):
    import torch
    from nfer_sde.core import InputError
    from nfer_sde.fer import load_fer, save_fer, small_cnn_fer
    marker, path = tmp_path / 'ran.txt', tmp_path / 'planted.pt'
    net = small_cnn_fer(32, width=8)
    torch.save({'kind': 'fer', 'config': Planted(marker), 'model': net.state_dict()}, path)
    with pytest.raises(InputError) as e: load_fer(path)
    assert str(path) in str(e.value) and 'loads safely' in str(e.value) and 'save_fer' in e.value.fix
    assert not marker.exists()  # nothing ran
    torch.load(path, weights_only=False)
    assert marker.exists()  # the unsafe load would have run it: the file was armed
    save_fer(net, tmp_path / 'ok.pt')
    ck = torch.load(tmp_path / 'ok.pt', weights_only=True)  # what save_fer writes loads safely, config as plain values
    assert ck['config'] == {'arch': 'small-cnn', 'size': 32, 'in_channels': 1, 'n_classes': 6, 'width': 8, 'dropout': 0.0}
    assert load_fer(tmp_path / 'ok.pt').config == ck['config']

def regime_extra(manifest, seen):
    "The gray VIS extra images of each fold, marked as made by networks that saw the NIR of `seen(i, fold)`."
    extra = vis_extra(manifest)
    return pd.concat([extra[extra['fold'] == i].assign(nir_seen=';'.join(seen(i, f))) for i, f in enumerate(FOLDS)])

def test_low_nir_regime_refuses_translations_that_saw_withheld_nir(data, tmp_path):
    from nfer_sde.fer_protocol import fold_split
    cfg = fer_config('tiny', epochs=1, seeds=1, real_nir_fraction=1 / 3)
    leaky = regime_extra(data, lambda i, f: f['train'])  # made by the all-NIR regime's networks: every training subject's NIR
    with pytest.raises(SubjectLeakError, match='whose NIR this fold withholds'):
        fer_protocol(data, FOLDS, tmp_path / 'leaky', extra=leaky, name='leaky', config=cfg, progress=False, device='cpu')
    assert not (tmp_path / 'leaky').exists()  # refused before anything was trained or written
    with pytest.raises(SubjectLeakError, match='no `nir_seen` column'):  # provenance unknown: refused where NIR is withheld
        fer_protocol(data, FOLDS, tmp_path / 'unknown', extra=vis_extra(data), name='unknown', config=cfg, progress=False, device='cpu')
    fer_protocol(data, FOLDS, tmp_path / 'all', extra=vis_extra(data), name='unknown', config=fer_config('tiny', epochs=1, seeds=1),
                 progress=False, device='cpu')  # ... and allowed with all real NIR, where nothing is withheld
    test_subject = regime_extra(data, lambda i, f: f['train'] + f['test'][:1])
    with pytest.raises(SubjectLeakError, match=FOLDS[0]['test'][0]):  # a test subject's NIR is withheld in every regime
        fer_protocol(data, FOLDS, tmp_path / 'test', extra=test_subject, name='t', config=fer_config('tiny', epochs=1, seeds=1),
                     progress=False, device='cpu')
    kept = lambda i, f: (lambda sp: sp['real'] + sp['val'])(fold_split(f['train'], i, cfg))
    s = fer_protocol(data, FOLDS, tmp_path / 'clean', extra=regime_extra(data, kept), name='clean', config=cfg, progress=False, device='cpu')
    assert s['k'] == 3 and len(s['runs']) == 3

def test_pipeline_regime_refuses_the_all_nir_networks_translations(data, tmp_path):
    "A low-NIR study handed the all-NIR regime's translations: `study.fer_study` refuses them with the subjects named."
    from nfer_sde.datasets import read_manifest
    from nfer_sde.pipeline import Profile
    from nfer_sde.study import Study, fer_study
    study = Study(manifest=data, df=read_manifest(data), folds=FOLDS, nets=[], translations={'nfer-sde': regime_extra(data, lambda i, f: f['train'])},
                  profile=Profile(size=32), work_dir=tmp_path / 'work', regime=1 / 3)
    with pytest.raises(SubjectLeakError, match=r'real NIR of \d+ subject\(s\) whose NIR this fold withholds'):
        fer_study(study, ['nfer-sde'], progress=False, epochs=1)
    assert not (tmp_path / 'work' / 'regimes' / 'nir_33' / 'fer' / 'fer_real.csv').exists()  # refused before any run of the regime was trained
