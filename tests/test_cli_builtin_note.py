"""`nfer-sde translate` says once, not per network, when its networks learned from the built-in synthetic data."""
import pytest
from nfer_sde.cli import PROG, main
from nfer_sde.networks import BUILTIN_NOTE, trained_on_builtin
from photos import write_test_photos
from nfer_sde.synthetic import subject_name
from nfer_sde.train import ToyPairs, train_heatmap_net, train_score_net

@pytest.fixture(scope='module')
def nets(tmp_path_factory):
    "Tiny score and heatmap networks trained on toy pairs whose subjects are named as the renderer's ('S...') or not ('T...')."
    d = tmp_path_factory.mktemp('nets')
    for prefix in ('S', 'T'):
        data, kw = ToyPairs(n_subjects=2, per_subject=4, size=32, prefix=prefix), dict(steps=2, batch_size=4, progress=False)
        subjects = sorted(set(data.df.subject))
        train_score_net(data, d / f'score_{prefix}', net='tiny', train_subjects=subjects, **kw)
        train_heatmap_net(data, d / f'heatmap_{prefix}', net=dict(base_channels=8, depth=1), train_subjects=subjects, **kw)
    return d

def translate_notes(capsys, tmp_path, nets, score, heatmap) -> list[str]:
    "The stderr lines of one `nfer-sde translate` of a photo with the networks `score` and `heatmap`."
    photo = write_test_photos(tmp_path / 'photos') / 'rgb.png'
    code = main(['translate', str(photo), str(tmp_path / f'out_{score}_{heatmap}'), '--checkpoint', str(nets / score),
                 '--heatmap', str(nets / heatmap), '--steps', '1', '--t0', '0.1', '--no-progress', '--device', 'cpu'])
    assert code == 0
    return capsys.readouterr().err.splitlines()

def test_note_once(capsys, tmp_path, nets):
    lines = translate_notes(capsys, tmp_path, nets, 'score_S', 'heatmap_S')
    assert lines.count(f'{PROG}: {BUILTIN_NOTE}') == 1, lines  # two networks from the built-in data, one note

def test_note_when_one_network_is(capsys, tmp_path, nets):
    assert translate_notes(capsys, tmp_path, nets, 'score_T', 'heatmap_S').count(f'{PROG}: {BUILTIN_NOTE}') == 1

def test_no_note_otherwise(capsys, tmp_path, nets):
    assert not any(BUILTIN_NOTE in l for l in translate_notes(capsys, tmp_path, nets, 'score_T', 'heatmap_T'))

def test_trained_on_builtin():
    assert trained_on_builtin({'train_subjects': [subject_name(i) for i in range(3)]})
    assert not trained_on_builtin({'train_subjects': ['P001', 'P002']}) and not trained_on_builtin({})
    assert not trained_on_builtin({'train_subjects': ['S001'], 'builtin': False})
