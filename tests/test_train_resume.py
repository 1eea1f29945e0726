"""Exact resume of `python -m nfer_sde.train` after a real SIGKILL: the resumed run ends with the same weights (model,
EMA and optimiser state, bit for bit) as a run that was never interrupted; for the score net and for the
time-conditioned heatmap net (whose noise levels and noise are drawn per step too), and for the paired translators
(pix2pix: two networks in one checkpoint, batch-norm statistics, a decaying learning rate)."""
import json, os, random, signal, subprocess, sys, time
import pytest
import torch

ARGS = ['score', '--toy', '--n-subjects', '4', '--size', '32', '--net', 'tiny', '--steps', '60', '--batch-size', '8',
        '--ckpt-every', '5', '--sample-every', '0', '--seed', '1', '--no-progress', '--digest']
TIMED_HEATMAP_ARGS = ['heatmap', '--time-conditioned', '--toy', '--n-subjects', '4', '--size', '32',
                      '--net', '{"base_channels": 16, "depth": 1}', '--steps', '60', '--batch-size', '8',
                      '--ckpt-every', '5', '--seed', '1', '--no-progress', '--digest']
PIX2PIX_ARGS = ['paired', '--kind', 'pix2pix', '--toy', '--n-subjects', '4', '--size', '32', '--net', 'tiny', '--steps', '60',
                '--batch-size', '8', '--ckpt-every', '5', '--sample-every', '0', '--seed', '1', '--no-progress', '--digest']
REGRESSION_ARGS = [('regression' if a == 'pix2pix' else a) for a in PIX2PIX_ARGS]
RUNS = {'score': ARGS, 'heatmap_timed': TIMED_HEATMAP_ARGS, 'pix2pix': PIX2PIX_ARGS, 'regression': REGRESSION_ARGS}

def env():
    return {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'NFER_SDE_DEVICE': 'cpu'}

def train(out, *extra, args=ARGS, **kw):
    return subprocess.run([sys.executable, '-m', 'nfer_sde.train', *args, '--out', str(out), *extra],
                          capture_output=True, text=True, env=env(), timeout=300, **kw)

def logged_steps(out):
    path = out / 'log.jsonl'
    if not path.exists(): return 0
    lines = [l for l in path.read_text().splitlines() if l.endswith('}')]
    return json.loads(lines[-1])['step'] if lines else 0

def state(out):
    return torch.load(out / 'checkpoint.pt', map_location='cpu', weights_only=True)

def assert_same_tensors(a, b, where=''):
    "Bit-identical nested state dicts."
    if torch.is_tensor(a): assert torch.equal(a, b), where; return
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a: assert_same_tensors(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)): assert_same_tensors(x, y, f'{where}[{i}]')
    else: assert a == b, where

@pytest.mark.slow
@pytest.mark.parametrize('run', list(RUNS))
def test_sigkill_then_resume_gives_identical_weights(tmp_path, run):
    args = RUNS[run]
    whole, killed = tmp_path / 'whole', tmp_path / 'killed'
    r = train(whole, args=args)
    assert r.returncode == 0, r.stderr
    digest_whole = json.loads(r.stdout.splitlines()[-1])['digest']
    kill_after = random.Random(os.getpid()).randrange(12, 45)  # any step, not only a checkpoint step
    p = subprocess.Popen([sys.executable, '-m', 'nfer_sde.train', *args, '--out', str(killed)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    deadline = time.time() + 120
    while logged_steps(killed) < kill_after and p.poll() is None and time.time() < deadline: time.sleep(0.005)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL, 'the run ended before it could be killed'
    ck_step = state(killed)['step']
    assert 0 < ck_step < 60 and ck_step % 5 == 0
    (killed / '.checkpoint.pt.k1ll3d_x.tmp').write_bytes(b'half a checkpoint')  # what a kill inside atomic_save leaves
    r = train(killed, args=args)  # without --resume: refuses to overwrite
    assert r.returncode == 2 and '--resume' in r.stderr
    r = train(killed, '--resume', args=args)
    assert r.returncode == 0, r.stderr
    a, b = state(whole), state(killed)
    assert a['step'] == b['step'] == 60
    for k in ('model', 'ema', 'optimizer', 'scheduler'): assert_same_tensors(a[k], b[k], k)
    assert json.loads(r.stdout.splitlines()[-1])['digest'] == digest_whole  # the returned (EMA) network too
    steps = [json.loads(l)['step'] for l in (killed / 'log.jsonl').read_text().splitlines()]
    assert steps == list(range(1, 61))  # each step logged once, though steps after the checkpoint ran twice
    assert not list(killed.rglob('*.tmp'))  # the resumed run removed what the kill left half-written
    if run == 'heatmap_timed': assert b['meta']['time_conditioned'] and b['model_config']['time_conditioned']
    if run == 'pix2pix': assert b['model_class'] == 'Pix2Pix' and b['scheduler']['_last_lr'][0] < 2e-4 / 10  # decayed to 1/31

@pytest.mark.slow
def test_plain_and_timed_heatmap_runs_refuse_each_other(tmp_path):
    from nfer_sde.train import main
    from nfer_sde.training_loop import load_model
    common = ['--toy', '--n-subjects', '2', '--size', '32', '--net', '{"base_channels": 8, "depth": 1}', '--steps', '2',
              '--batch-size', '4', '--no-progress']
    assert main(['heatmap', '--time-conditioned', '--out', str(tmp_path / 'timed'), *common]) == 0
    assert load_model(tmp_path / 'timed' / 'checkpoint.pt').time_conditioned
    assert main(['heatmap', '--out', str(tmp_path / 'timed'), '--resume', *common]) == 2  # a plain run refuses the timed checkpoint
    assert main(['heatmap', '--out', str(tmp_path / 'plain'), *common]) == 0
    assert main(['heatmap', '--time-conditioned', '--out', str(tmp_path / 'plain'), '--resume', *common]) == 2  # and the reverse
    assert main(['score', '--time-conditioned', '--out', str(tmp_path / 'score'), *common]) == 2  # a heatmap option only
