"""The `nfer-sde` command driven as a subprocess: help, bad arguments, bad files, data, train, translate of ordinary photos."""
import os, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from PIL import Image

BIN = Path(sys.executable).parent
# the console script once installed, else the module (same `main`)
CMD = [str(BIN / 'nfer-sde')] if (BIN / 'nfer-sde').exists() else [sys.executable, '-m', 'nfer_sde.cli']
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'NFER_SDE_DEVICE': 'cpu'}
SUBCOMMANDS = ('data', 'preprocess', 'train', 'translate', 'fer', 'demo', 'plan')

def run(*args, timeout=300):
    "Run `nfer-sde ARGS`; the completed process (text stdout/stderr)."
    return subprocess.run([*CMD, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout)

def assert_bad_input(p, *words):
    "Exit code 2, one `nfer-sde: error:` line (or argparse's usage + error) on stderr naming `words`, no traceback."
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert 'Traceback' not in p.stderr, p.stderr
    err = [l for l in p.stderr.splitlines() if 'error:' in l]
    assert len(err) == 1, p.stderr
    for w in words: assert w in err[0], (w, err[0])

def test_help():
    p = run('--help')
    assert p.returncode == 0 and all(c in p.stdout for c in SUBCOMMANDS), p.stdout
    for c in SUBCOMMANDS:
        p = run(c, '--help')
        assert p.returncode == 0, (c, p.stderr)
        assert f'nfer-sde {c}' in p.stdout and 'examples:' in p.stdout, (c, p.stdout)
    assert '--align {auto,yes,no}' in run('translate', '--help').stdout
    assert run('--version').stdout.startswith('nfer-sde ')

def test_bad_arguments_subprocess(tmp_path):
    "Exit codes and stderr as the shell sees them: argparse's errors, and one line for bad input."
    p = run()
    assert p.returncode == 2 and 'required: COMMAND' in p.stderr
    assert run('translate', tmp_path, tmp_path / 'o', '--steps', 'many').returncode == 2
    assert_bad_input(run('translate', tmp_path / 'absent', tmp_path / 'o'), 'absent', 'does not exist')
    assert not (tmp_path / 'o').exists()

def main_in_process(capsys, *args) -> tuple[int, str]:
    "`nfer_sde.cli.main(ARGS)` in this process (many cases, one torch import): exit code and stderr."
    from nfer_sde.cli import main
    try: code = main([str(a) for a in args])
    except SystemExit as e: code = e.code
    return code, capsys.readouterr().err

def bad_cases(d: Path) -> list:
    "(arguments, words the error line must name) of bad arguments and bad files; `d` is an empty folder to play in."
    (d / 'empty').mkdir(); (d / 'crops').mkdir()
    (d / 'bad.pt').write_bytes(b'not a checkpoint')
    (d / 'manifest.csv').write_text('path,subject\nx.png,S1\n')
    (d / 'crops' / 'a.png').write_bytes(b'\x89PNG broken')
    o = d / 'o'
    return [
        (('paint',), ('invalid choice',)),
        (('translate', d), ('required', 'out')),
        (('translate', d, o, '--align', 'maybe'), ('--align',)),
        (('train', 'score', '--out', o), ('--manifest',)),
        (('translate', d, o, '--weight', 'landmark'), ('NAME=VALUE',)),
        (('translate', d, o, '--weight', 'realistic=1'), ('realistic',)),
        (('translate', d, o, '--method', 'pix2pix'), ('pix2pix', 'nfer-sde')),
        (('translate', d, o, '--method', 'sdedit'), ('--checkpoint',)),
        (('translate', d, o, '--t0', '1.5'), ('--t0',)),
        (('translate', d / 'empty', o), ('empty', 'no images')),
        (('translate', d / 'empty', o, '--checkpoint', d / 'bad.pt'), ('bad.pt', 'not a readable checkpoint')),
        (('translate', d / 'empty', o, '--checkpoint', d / 'none.pt'), ('none.pt', 'not found')),
        (('translate', d / 'empty', o, '--checkpoint', d / 'empty'), ('without checkpoint.pt',)),
        (('translate', d / 'manifest.csv', o), ('manifest.csv', 'missing column')),
        (('translate', d / 'crops', o, '--align', 'no', '--no-progress'), ('a.png', 'not a readable image')),
        (('fer', d / 'manifest.csv', d / 'fer', '--no-progress'), ('manifest.csv', 'missing column')),
        (('fer', d / 'no.csv', d / 'fer'), ('no.csv', 'not found')),
        (('preprocess', d / 'absent', d / 'p'), ('absent', 'does not exist')),
        (('data', d / 'data', '--subjects', '0', '--no-progress'), ('n_subjects',)),
    ]

def test_bad_arguments_and_files(tmp_path, capsys):
    "Every bad argument or file: exit code 2 and one error line that names it, no traceback, nothing half-written."
    for args, words in bad_cases(tmp_path):
        code, err = main_in_process(capsys, *args)
        assert code == 2, (args, code, err)
        assert 'Traceback' not in err, (args, err)
        lines = [l for l in err.splitlines() if 'error:' in l]
        assert len(lines) == 1, (args, err)
        for w in words: assert w in lines[0], (args, w, lines[0])
    assert not (tmp_path / 'o' / 'images').exists()

def test_data_tiny(tmp_path):
    args = ['data', tmp_path / 'd', '--subjects', '2', '--size', '32', '--frames', '1', '--illuminations', 'strong', '--no-progress']
    p = run(*args)
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(tmp_path / 'd' / 'manifest.csv')
    assert len(df) == 2 * 6 * 2 and set(df.modality) == {'VIS', 'NIR'} and '24 images' in p.stdout
    assert {Image.open(tmp_path / 'd' / f).size for f in df.path} == {(32, 32)}
    args[5] = '64'
    assert_bad_input(run(*args), 'size')  # other settings into the same folder: refused, not mixed

@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    "Ordinary photos: the astronaut as PNG, JPEG (not square), gray, RGBA, sideways JPEG (EXIF); a faceless image; a corrupt file."
    from photos import write_test_photos
    return write_test_photos(tmp_path_factory.mktemp('photos'))

@pytest.fixture(scope='module')
def nets(tmp_path_factory):
    "Run folders of a few training steps at 32 px: a conditional tiny score net (subprocess) and a small heatmap net."
    d = tmp_path_factory.mktemp('nets')
    common = ('--toy', '--n-subjects', '2', '--size', '32', '--steps', '3', '--batch-size', '4', '--no-progress')
    p = run('train', 'score', '--out', d / 'score', '--net', 'tiny', *common)
    assert p.returncode == 0, p.stderr
    from nfer_sde.cli import main  # the second in-process: one subprocess per kind of call is enough
    assert main(['train', 'heatmap', '--out', str(d / 'heatmap'), '--net', '{"base_channels": 8, "depth": 1}', *common]) == 0
    return d

@pytest.mark.slow
def test_train_few_steps(nets):
    import torch
    ck = torch.load(nets / 'score' / 'checkpoint.pt', map_location='cpu', weights_only=True)
    assert ck['step'] == 3 and ck['model_class'] == 'UNet' and ck['model_config']['image_size'] == 32
    assert len((nets / 'score' / 'log.jsonl').read_text().splitlines()) == 3
    ck = torch.load(nets / 'heatmap' / 'checkpoint.pt', map_location='cpu', weights_only=True)
    assert ck['step'] == 3 and ck['model_class'] == 'HeatmapNet'

def _check_output(out, n, size):
    m = pd.read_csv(out / 'manifest.csv')
    assert len(m) == n and set(m.modality) == {'NIR'}
    assert sorted(Path(p).name for p in m.path) == ['gray.png', 'landscape.png', 'phone.png', 'rgb.png', 'rgba.png']
    for p in m.path:
        im = Image.open(out / p)
        assert im.size == (size, size) and im.mode == 'L'
    return m

@pytest.mark.slow
def test_translate_photos_gray(photos, tmp_path):
    p = run('translate', photos, tmp_path / 'out', '--no-progress')
    assert p.returncode == 0, p.stderr
    assert "'gray' baseline" in p.stderr and '2 of 7 image(s) skipped' in p.stderr
    _check_output(tmp_path / 'out', 5, 64)
    skipped = pd.read_csv(tmp_path / 'out' / 'skipped.csv')
    assert dict(zip(skipped.path.map(lambda s: Path(s).name), skipped.reason.str.split(':').str[0])) == \
        {'no_face.png': 'no face found', 'corrupt.jpg': 'unreadable'}
    # gray of an aligned crop: the eyes are dark blobs at the framing's height, level, in every format
    vis = {Path(q).name: np.asarray(Image.open(q).convert('L'), dtype=float) for q in (tmp_path / 'out' / 'vis').glob('*.png')}
    nir = {Path(q).name: np.asarray(Image.open(q), dtype=float) for q in (tmp_path / 'out' / 'images').glob('*.png')}
    for k in nir: assert np.abs(nir[k] - vis[k]).mean() < 2, k  # gray = luma of the aligned VIS crop
    ref = nir['rgb.png']
    for k in ('gray.png', 'rgba.png', 'landscape.png', 'phone.png'):
        assert np.corrcoef(ref.ravel(), nir[k].ravel())[0, 1] > 0.8, k  # the same face, aligned alike
    p = run('translate', photos, tmp_path / 'out', '--no-progress')  # resumes: nothing to redo
    assert p.returncode == 0, p.stderr

@pytest.mark.slow
def test_translate_photos_with_networks(photos, nets, tmp_path, capsys):
    p = run('translate', photos, tmp_path / 'out', '--checkpoint', nets / 'score', '--heatmap', nets / 'heatmap',
            '--steps', '3', '--t0', '0.2', '--weight', 'landmark=2', '--no-progress')
    assert p.returncode == 0, p.stderr
    assert 'translated 5 image(s) with nfer-sde at 32x32' in p.stdout
    _check_output(tmp_path / 'out', 5, 32)
    import json
    rec = json.loads((tmp_path / 'out' / 'translation.json').read_text())
    assert rec['method'] == 'nfer-sde' and rec['translator']['weights'] == {'landmark': 2.0} and rec['translator']['n_steps'] == 3
    code, err = main_in_process(capsys, 'translate', photos, tmp_path / 'out', '--checkpoint', nets / 'score', '--heatmap', nets / 'heatmap',
                                '--steps', '4', '--t0', '0.2', '--no-progress')
    assert code == 2 and 'other settings' in err, err  # never mixes two runs in one folder
    code, err = main_in_process(capsys, 'translate', photos / 'rgb.png', tmp_path / 'one', '--checkpoint', nets / 'score',
                                '--method', 'nfer-sde/no-landmark', '--steps', '2', '--t0', '0.1', '--no-progress')  # a single photo
    assert code == 0, err
    assert Image.open(tmp_path / 'one' / 'images' / 'rgb.png').size == (32, 32)

@pytest.mark.slow
def test_translate_network_errors(photos, nets, tmp_path, capsys):
    for args, words in [(('--checkpoint', nets / 'score'), ('--heatmap',)),
                        (('--checkpoint', nets / 'score', '--method', 'sdedit'), ('unconditional',)),
                        (('--checkpoint', nets / 'heatmap', '--method', 'sdedit'), ('HeatmapNet', 'not the score network')),
                        (('--checkpoint', nets / 'score', '--heatmap', nets / 'score'), ('UNet', 'not the heatmap network')),
                        (('--checkpoint', nets / 'score', '--heatmap', nets / 'heatmap', '--t0', '0.01', '--steps', '50'), ('--steps',))]:
        code, err = main_in_process(capsys, 'translate', photos, tmp_path / 'o', *args, '--no-progress')
        assert code == 2 and all(w in err for w in words), (args, err)
    assert not (tmp_path / 'o').exists()  # refused before aligning anything

@pytest.mark.slow
def test_translate_with_a_paired_translator(photos, nets, tmp_path, capsys):
    "`nfer-sde train paired` then `translate --method regression|pix2pix`; a score net is refused as a paired one and back."
    common = ('--toy', '--n-subjects', '2', '--size', '32', '--steps', '3', '--batch-size', '4', '--net', 'tiny', '--no-progress')
    for kind in ('regression', 'pix2pix'):
        code, err = main_in_process(capsys, 'train', 'paired', '--kind', kind, '--out', tmp_path / kind, *common)
        assert code == 0, err
        code, err = main_in_process(capsys, 'translate', photos, tmp_path / f'out_{kind}', '--method', kind, '--checkpoint', tmp_path / kind, '--no-progress')
        assert code == 0, err
        _check_output(tmp_path / f'out_{kind}', 5, 32)
    for args, words in [(('--method', 'regression', '--checkpoint', nets / 'score'), ('score', 'not the paired network')),
                        (('--method', 'sdedit', '--checkpoint', tmp_path / 'regression'), ('paired', 'not the score network')),
                        (('--method', 'pix2pix'), ('paired translator', 'train paired --kind pix2pix'))]:
        code, err = main_in_process(capsys, 'translate', photos, tmp_path / 'o', *args, '--no-progress')
        assert code == 2 and all(w in err for w in words), (args, err)

def test_translate_builtin_manifest(tmp_path, capsys):
    "A manifest of aligned crops is translated as it is, its labels kept (in-process)."
    assert main_in_process(capsys, 'data', tmp_path / 'd', '--subjects', '1', '--size', '32', '--frames', '1',
                           '--illuminations', 'strong', '--no-progress')[0] == 0
    assert main_in_process(capsys, 'data', tmp_path / 'd', '--subjects', '1', '--size', '32', '--frames', '1',
                           '--illuminations', 'strong', '--no-progress')[0] == 0  # again: complete, nothing to do
    assert main_in_process(capsys, 'translate', tmp_path / 'd' / 'manifest.csv', tmp_path / 'out', '--method', 'gray', '--no-progress')[0] == 0
    m = pd.read_csv(tmp_path / 'out' / 'manifest.csv')
    assert len(m) == 6 and set(m.expression) == {'anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'}
    assert not (tmp_path / 'out' / 'vis').exists()  # not re-aligned

@pytest.mark.slow
def test_preprocess_manifest(photos, tmp_path, capsys):
    "A manifest of photos is aligned into crops with landmarks; a faceless image is reported, not fatal (in-process)."
    rows = [('rgb.png', 'VIS'), ('gray.png', 'NIR'), ('no_face.png', 'VIS')]
    pd.DataFrame({'path': [str(photos / f) for f, _ in rows], 'subject': 'P001', 'expression': 'happiness',
                  'modality': [m for _, m in rows], 'illumination': 'strong', 'frame': [0, 0, 1]}).to_csv(tmp_path / 'm.csv', index=False)
    code, err = main_in_process(capsys, 'preprocess', tmp_path / 'm.csv', tmp_path / 'aligned', '--size', '32', '--upsample', '2', '--no-progress')
    assert code == 0, err
    m = pd.read_csv(tmp_path / 'aligned' / 'manifest.csv')
    assert len(m) == 2 and m.landmarks.str.split().str.len().tolist() == [136, 136]
    assert {Image.open(tmp_path / 'aligned' / p).size for p in m.path} == {(32, 32)}
    assert pd.read_csv(tmp_path / 'aligned' / 'no_face.csv').path.str.endswith('no_face.png').tolist() == [True]

@pytest.mark.slow
def test_fer_tiny(tmp_path, capsys):
    "One fold of the FER protocol at the tiny profile; extra images of a test subject are refused (in-process)."
    assert main_in_process(capsys, 'data', tmp_path / 'd', '--subjects', '2', '--size', '32', '--frames', '1',
                           '--illuminations', 'strong', '--no-progress')[0] == 0
    code, err = main_in_process(capsys, 'fer', tmp_path / 'd' / 'manifest.csv', tmp_path / 'fer', '--profile', 'tiny', '--folds', '2',
                                '--max-folds', '1', '--epochs', '1', '--no-progress')
    assert code == 0, err
    import json
    s = json.loads((tmp_path / 'fer' / 'fer_real.json').read_text())
    assert s['k'] == 1 and 0 <= s['mean_accuracy'] <= 1 and s['config']['epochs'] == 1
    assert main_in_process(capsys, 'translate', tmp_path / 'd' / 'manifest.csv', tmp_path / 'gray', '--method', 'gray', '--no-progress')[0] == 0
    code, err = main_in_process(capsys, 'fer', tmp_path / 'd' / 'manifest.csv', tmp_path / 'fer', '--extra', tmp_path / 'gray' / 'manifest.csv',
                                '--name', 'gray', '--profile', 'tiny', '--folds', '2', '--max-folds', '1', '--epochs', '1', '--no-progress')
    assert code == 2 and 'not training subjects' in err, err  # every subject was translated: the test subject's images would leak

def test_demo_bad_data_root(tmp_path):
    "A demo on a data folder that does not exist stops at once with one line naming it, before any notebook runs."
    missing = tmp_path / 'no_such_oulu'
    assert_bad_input(run('demo', tmp_path / 'demo', '--data', missing), str(missing), 'does not exist')
    assert not (tmp_path / 'demo' / 'fer_accuracy.ipynb').exists()

def test_plan_subprocess(tmp_path):
    "`plan` measures and prints the quick study's estimate; an unknown profile is one line naming the profiles."
    p = run('plan', '--profile', 'quick', '--repeats', 0, '--json', tmp_path / 'plan.json')
    assert p.returncode == 0, p.stderr
    assert "profile 'quick'" in p.stdout and 'estimated total' in p.stdout and (tmp_path / 'plan.json').exists()
    assert_bad_input(run('plan', '--profile', 'huge'), "'huge'", 'paper256')
