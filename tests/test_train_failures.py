"""Training stops cleanly on a non-finite loss (keeping the last good checkpoint), and refuses data that would leak
test subjects or a folder that already holds a run."""
import json, os, subprocess, sys
import pytest
import torch
from nfer_sde.core import InputError
from nfer_sde.train import ToyPairs, train_score_net, train_heatmap_net, train_domain_classifier
from nfer_sde.training_loop import read_checkpoint

def cli(*args):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'NFER_SDE_DEVICE': 'cpu'}
    return subprocess.run([sys.executable, '-m', 'nfer_sde.train', *map(str, args)], capture_output=True, text=True, env=env, timeout=300)

TOY = ['--toy', '--n-subjects', '2', '--size', '32', '--net', 'tiny', '--batch-size', '4', '--no-progress']

def test_exploding_run_stops_with_message_and_keeps_last_good_checkpoint(tmp_path):
    # an absurd learning rate: the first update throws the weights to ~1e30, the next loss is inf/NaN
    r = cli('score', '--out', tmp_path, *TOY, '--steps', '20', '--lr', '1e30', '--warmup-steps', '1', '--ckpt-every', '1')
    assert r.returncode == 3, r.stderr
    assert 'training stopped' in r.stderr and 'last good checkpoint' in r.stderr and 'Lower the learning rate' in r.stderr
    stopped = int(r.stderr.split(' at step ')[1].split(';')[0])
    ck = read_checkpoint(tmp_path / 'checkpoint.pt')
    assert ck['step'] == stopped - 1  # the good step before, not the bad one
    assert all(torch.isfinite(v).all() for v in ck['model'].values())
    steps = [json.loads(l)['step'] for l in (tmp_path / 'log.jsonl').read_text().splitlines()]
    assert steps == list(range(1, stopped))

def test_cli_refuses_training_data_with_subjects_outside_the_fold(tmp_path):
    r = cli('score', '--out', tmp_path / 'run', *TOY, '--steps', '2', '--train-subjects', 'T000', '--test-subjects', 'T001')
    assert r.returncode == 2 and 'test subject(s) of this fold' in r.stderr and "T001" in r.stderr
    assert not (tmp_path / 'run').exists()  # refused before writing anything

@pytest.mark.parametrize('trainer', [train_score_net, train_heatmap_net, train_domain_classifier])
def test_every_trainer_checks_the_fold(tmp_path, trainer):
    toy = ToyPairs(n_subjects=3, per_subject=2, size=32)
    with pytest.raises(InputError, match='test subject'):
        trainer(toy, tmp_path, train_subjects=['T000', 'T001'], test_subjects=['T002'], steps=1, progress=False)
    with pytest.raises(InputError, match="outside the fold's training list"):
        trainer(toy, tmp_path, train_subjects=['T000', 'T001'], steps=1, progress=False)
    with pytest.raises(InputError, match="fold's training subjects"):
        trainer(toy, tmp_path, train_subjects=None, steps=1, progress=False)
    assert not list(tmp_path.iterdir())
