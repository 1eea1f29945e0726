"""The experiment notebooks end to end, headless with papermill, at a tiny size: on the built-in data through
`run_demo`, and on a fake Oulu-CASIA tree that goes through dlib alignment first, as a user's copy would."""
import shutil, sys
from pathlib import Path
import pandas as pd, pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
from publish_demo import publish

TINY = dict(folds=2, sampler_steps=3,
            overrides={'n_subjects': 6, 'frames': 1, 'score_steps': 12, 'unconditional_steps': 12, 'heatmap_steps': 8, 'domain_steps': 8, 'batch_size': 8,
                       't0_images': 2},
            fer_overrides={'epochs': 2, 'min_epochs': 1, 'patience': 1})
LOW_NIR = ['gray', 'regression', 'nfer-sde']  # beyond DEMO_PARAMS' gray and nfer-sde: a paired translator under the leakage rules
CURVE = dict(curve_fractions=[1 / 6, 2 / 3], curve_methods=['gray'])  # the curve's other shares, which the demo leaves to the notebook's defaults

@pytest.mark.slow
def test_demo_runs_every_experiment(tmp_path, capsys):
    from nfer_sde.study import run_demo, STUDY_METHODS
    table = run_demo(tmp_path, progress=False, t0_fractions=[0.5], step_counts=[2], weight_factors=[0, 1], low_nir_methods=LOW_NIR, **CURVE, **TINY)
    assert list(table.index) == ['real NIR only', 'gray', 'sdedit', 'ilvr', 'egsde', 'regression', 'pix2pix', 'nfer-sde'] == ['real NIR only', *STUDY_METHODS]
    assert {'FER accuracy', 'FER gain', 'FER accuracy, 33% NIR', 'FER gain, 33% NIR', 'SSIM', 'landmark NME (dlib)', 'face found (dlib)', 'expression consistency',
            't0 / T (folds)'} <= set(table.columns)
    assert not [c for c in table.columns if 'guide net' in c]  # the guidance's own network judges no main-table column
    assert table.loc['gray', 't0 / T (folds)'] == '' and len(table.loc['sdedit', 't0 / T (folds)'].split(', ')) == 2
    assert table.loc['regression', 't0 / T (folds)'] == table.loc['pix2pix', 't0 / T (folds)'] == ''  # no sampling, no start
    assert table.loc[['regression', 'pix2pix'], ['FER accuracy', 'SSIM', 'face found (dlib)']].ne('').all().all()
    reading = pd.read_csv(tmp_path / 'translation_quality' / 'paired_vs_nfer_sde.csv')
    assert set(reading.peer) == {'regression', 'pix2pix'} and 'SSIM' in set(reading.metric)
    diversity = reading[reading.metric.str.startswith('diversity')]
    assert (diversity['peer value'] == 0).all() and (diversity['nfer-sde'] > 0).all()  # one image per source, against a sampler's several
    check_held_out_and_t0(tmp_path)
    check_fer_regimes(tmp_path)
    for name in ('fer_accuracy', 'translation_quality', 'ablation'):
        assert (tmp_path / f'{name}.ipynb').exists()
    assert (tmp_path / 'fer_accuracy' / 'fer_curve.png').exists()
    assert (tmp_path / 'translation_quality' / 'translations.png').exists()
    sweeps = pd.read_csv(tmp_path / 'ablation' / 'ablation_sweeps.csv')
    assert set(sweeps.sweep) >= {'t0 / T', 'steps (NFE)'}
    components = pd.read_csv(tmp_path / 'ablation' / 'ablation_components.csv', index_col=0)
    assert {'NFER-SDE, no energy', 'NFER-SDE, energies on the noisy pair',
            'NFER-SDE, energies on the noisy pair, time-conditioned heatmap net', 'NFER-SDE, unconditional, no landmark'} <= set(components.index)
    assert {'landmark NME (dlib)', 'face found (dlib)', 'SSIM'} <= set(components.columns) and 'landmark NME (guide net)' not in components
    assert {'high-band SSIM', 't0'} <= set(components.columns) and components['SSIM'].str.contains(' ± ').all()  # over the folds
    per_fold = pd.read_csv(tmp_path / 'ablation' / 'ablation_components_folds.csv')
    assert set(per_fold.fold) == {0, 1} and len(per_fold) == 2 * len(components)
    effects = pd.read_csv(tmp_path / 'ablation' / 'ablation_energy_effects.csv', index_col=0)
    assert list(effects.index) == ['landmark', 'frequency', 'landmark, without the conditioning', 'landmark, by its own guide net'] and set(effects.helped) <= {'0/2', '1/2', '2/2'}
    for i in (0, 1):  # trained for the ablation's components, on every fold
        assert (tmp_path / 'work' / 'nets' / f'fold_{i:02d}' / 'heatmap_timed').is_dir()
    record = pd.read_json(tmp_path / 'fer_accuracy' / 'fer_accuracy.json', typ='series')['run']
    assert record['data_kind'].startswith('built-in synthetic') and record['params']['folds'] == 2
    out = capsys.readouterr().out
    assert 'Main table' in out and 'not Oulu-CASIA' in out
    summary = (tmp_path / 'main_table.md').read_text()
    assert 'not Oulu-CASIA' in summary and '| real NIR only |' in summary and 'from scratch' in summary
    docs = tmp_path / 'docs'; docs.mkdir()
    shutil.copy(ROOT / 'nbs' / 'index.ipynb', docs)
    publish(tmp_path, docs)
    index = (docs / 'index.ipynb').read_text()
    assert '| nfer-sde |' in index and 'images/demo_translations.png' in index and (docs / 'images' / 'demo_translations.png').exists()
    assert 'images/demo_fer_curve.png' in index and (docs / 'images' / 'demo_fer_curve.png').exists()
    # a second run reuses every network, translation and FER run: same table
    again = run_demo(tmp_path, progress=False, t0_fractions=[0.5], step_counts=[2], weight_factors=[0, 1], low_nir_methods=LOW_NIR, **CURVE, **TINY)
    pd.testing.assert_frame_equal(again, table)
    assert 'resumed' in (tmp_path / 'main_table.md').read_text()
    with pytest.raises(SystemExit, match='was resumed'): publish(tmp_path, docs)  # its time would not be a whole run's

def check_fer_regimes(run):
    "Every regime's runs (folds x seeds), gains in demo.json, and low-NIR networks that learnt from the kept subjects' NIR only."
    import json
    from nfer_sde.fer import fer_config
    from nfer_sde.fer_protocol import fold_split
    runs = pd.read_csv(run / 'fer_accuracy' / 'fer_accuracy_runs.csv')
    seeds = fer_config('tiny').seeds
    assert set(runs.regime) == {'all_nir', 'nir_17', 'nir_33', 'nir_67'}
    assert len(runs[runs.regime == 'all_nir']) == 8 * 2 * seeds  # real + 7 methods, 2 folds, every seed
    assert set(runs.loc[runs.regime == 'nir_33', 'training set']) == {'real NIR only', '+ gray', '+ regression', '+ nfer-sde'}  # the test's low_nir_methods
    assert set(runs.loc[runs.regime == 'nir_17', 'training set']) == {'real NIR only', '+ gray'}
    gains = json.loads((run / 'demo.json').read_text())['fer_gain']
    assert set(gains) == {'all_nir', 'nir_17', 'nir_33', 'nir_67'} and set(gains['nir_33']) == {'gray', 'regression', 'nfer-sde'}
    g = gains['all_nir']['nfer-sde']
    assert g['runs'] == 2 * seeds and len(g['ci95']) == 2 and 0 <= g['better'] <= g['runs']
    folds = json.loads((run / 'work' / 'folds.json').read_text())['folds']
    for i, fold in enumerate(folds):
        kept = fold_split(fold['train'], i, fer_config('tiny', real_nir_fraction=1 / 3))['real']
        nets = run / 'work' / 'regimes' / 'nir_33' / 'nets' / f'fold_{i:02d}'
        for net in ('score_conditional', 'heatmap', 'paired_regression'):  # the paired translator too
            meta = json.loads((nets / net / 'config.json').read_text())['meta']
            assert meta['nir_subjects'] == sorted(kept), net  # no withheld subject's NIR
        seen = pd.read_csv(run / 'work' / 'regimes' / 'nir_33' / 'translations' / f'fold_{i:02d}' / 'nfer-sde' / 'manifest.csv')
        assert set(seen.subject.astype(str)) == set(fold['train'])  # every training subject's VIS is translated

def check_held_out_and_t0(run):
    "The quality table scored each fold's test subjects; every sampling method's t0 was chosen on validation subjects only."
    import json
    from nfer_sde.fer import fer_config
    from nfer_sde.fer_protocol import fold_split
    folds = json.loads((run / 'work' / 'folds.json').read_text())['folds']
    per_fold = pd.read_csv(run / 'translation_quality' / 'translation_quality_folds.csv')
    assert 'landmark NME (guide net)' in per_fold and 'landmark NME (guide net)' not in pd.read_csv(run / 'translation_quality' / 'translation_quality.csv')
    for i, fold in enumerate(folds):
        tr = run / 'work' / 'translations' / f'fold_{i:02d}'
        for m in ('gray', 'sdedit', 'ilvr', 'egsde', 'regression', 'pix2pix', 'nfer-sde'):
            held_out = pd.read_csv(tr / 'held_out' / m / 'manifest.csv', dtype={'subject': str})
            assert set(held_out.subject) == set(fold['test']) and set(held_out.illumination) == {'strong'}
            assert set(pd.read_csv(tr / m / 'manifest.csv', dtype={'subject': str}).subject) == set(fold['train'])
            if m in ('gray', 'regression', 'pix2pix'): continue  # no start to choose
            chosen = json.loads((tr / 't0' / f'{m}.json').read_text())
            assert set(chosen['validation_subjects']) <= set(fold_split(fold['train'], i, fer_config('tiny'))['val'])  # the FER protocol's
            assert not set(chosen['validation_subjects']) & set(fold['test']) and len(chosen['scores']) == 8
            for folder in (tr / m, tr / 'held_out' / m):  # both translations start where the choice said
                assert json.loads((folder / 'translation.json').read_text())['translator']['t0'] == chosen['t0']

def fake_oulu_tree(root, n_subjects=3):
    "Oulu-CASIA's layout, filled with built-in faces rendered large enough for dlib's detector."
    from nfer_sde.synthetic import build_dataset
    from nfer_sde.datasets import read_manifest
    df = read_manifest(build_dataset(root / 'render', n_subjects=n_subjects, size=160, frames_per_sequence=1, progress=False))
    for r in df.itertuples():
        d = root / 'OriginalImg' / ('NI' if r.modality == 'NIR' else 'VL') / r.illumination.title() / f'P{int(r.subject[1:]):03d}' / r.expression.title()
        d.mkdir(parents=True, exist_ok=True)
        Image.open(r.path).convert('L' if r.modality == 'NIR' else 'RGB').save(d / f'{r.frame:03d}.jpeg', quality=95)
    shutil.rmtree(root / 'render')
    return root / 'OriginalImg'

@pytest.mark.slow
def test_oulu_layout_end_to_end(tmp_path):
    import papermill as pm
    from nfer_sde.faces import preprocess_dataset
    from nfer_sde.study import experiments_dir
    oulu = fake_oulu_tree(tmp_path / 'oulu')
    aligned = tmp_path / 'aligned'
    preprocess_dataset(oulu, aligned, size=32, last_k=1, progress=False)
    out = tmp_path / 'out'; out.mkdir()
    params = {**TINY, 'data_root': str(aligned), 'out_dir': str(out / 'fer_accuracy'), 'work_dir': str(out / 'work'),
              'progress': False, 'methods': ['gray', 'nfer-sde']}
    params['overrides'] = {k: v for k, v in params['overrides'].items() if k != 'n_subjects'}
    pm.execute_notebook(experiments_dir() / 'fer_accuracy.ipynb', out / 'fer_accuracy.ipynb', parameters=params,
                        cwd=str(experiments_dir()), progress_bar=False)
    acc = pd.read_csv(out / 'fer_accuracy' / 'fer_accuracy_runs.csv')
    assert set(acc.loc[acc.regime == 'all_nir', 'training set']) == {'real NIR only', '+ gray', '+ nfer-sde'}
    assert len(acc[acc.regime == 'all_nir']) == 3 * 2 * 3  # 3 training sets, 2 folds, 3 seeds
    record = pd.read_json(out / 'fer_accuracy' / 'fer_accuracy.json', typ='series')['run']
    assert record['data_kind'] == 'user data'
