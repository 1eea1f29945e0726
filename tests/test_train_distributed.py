"""Two CPU processes under torchrun (gloo, loopback only): training runs, the ranks hold identical weights after
the steps, and only rank 0 writes (one log record per step, one checkpoint, no stray files)."""
import json, re, os, socket, subprocess, sys
import pytest
import torch

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.mark.slow
def test_two_gloo_processes(tmp_path):
    out = tmp_path / 'ddp'
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'NFER_SDE_DEVICE': 'cpu', 'GLOO_SOCKET_IFNAME': 'lo', 'MASTER_ADDR': '127.0.0.1'}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--nnodes', '1',
           '--master_addr', '127.0.0.1', '--master_port', str(free_port()),
           '-m', 'nfer_sde.train', 'score', '--toy', '--n-subjects', '4', '--size', '32', '--net', 'tiny',
           '--steps', '8', '--batch-size', '8', '--ckpt-every', '4', '--sample-every', '4', '--no-progress', '--digest',
           '--out', str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    reports = [json.loads(m) for m in re.findall(r'\{[^{}]*\}', r.stdout)]  # the ranks' reports, however their writes interleave
    assert sorted(x['rank'] for x in reports) == [0, 1] and {x['world_size'] for x in reports} == {2}
    assert reports[0]['digest'] == reports[1]['digest']  # identical (EMA) weights on both ranks
    # only rank 0 wrote: every step logged once, one checkpoint, the expected files and nothing else
    log = [json.loads(l) for l in (out / 'log.jsonl').read_text().splitlines()]
    assert [x['step'] for x in log] == list(range(1, 9))
    assert all(torch.isfinite(torch.tensor(x['loss'])) for x in log)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob('*')) == [
        'checkpoint.pt', 'config.json', 'log.jsonl', 'samples', 'samples/step_0000004.png', 'samples/step_0000008.png']
    assert json.loads((out / 'config.json').read_text())['world_size'] == 2
    ck = torch.load(out / 'checkpoint.pt', map_location='cpu', weights_only=True)
    assert ck['step'] == 8 and ck['sampler']['world_size'] == 2
    from nfer_sde.core import weights_digest
    from nfer_sde.training_loop import load_model
    assert weights_digest(load_model(out / 'checkpoint.pt')) == reports[0]['digest']
