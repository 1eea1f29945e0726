"""Every profile proven on a CPU: each network a study with it trains, built at full size, takes one optimiser step,
and each sampling method one guided reverse step, at batch 1 (`plan.check_profile`); the parameter counts are the
ones the profiles' docs state. And `benchmarks/bench_gpu.py` runs: without CUDA it says so, with `--device cpu` it
measures, under torchrun (gloo) it measures the scaling."""
import json, os, socket, subprocess, sys
from pathlib import Path
import pytest
from nfer_sde.pipeline import PROFILES, get_profile
from nfer_sde.plan import NETWORKS, SAMPLING_METHODS, check_profile

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'NFER_SDE_DEVICE': 'cpu', 'CUDA_VISIBLE_DEVICES': ''}
# parameters of each profile's networks (the figures `PROFILE_ABOUT` and the closing notes quote): a preset or profile
# that changes its networks changes these on purpose, here too
PARAMETERS = {
    'quick': dict(conditional=164_417, unconditional=163_985, heatmap=708_996, heatmap_timed=808_164, domain=320_962, regression=164_417,
                  pix2pix=339_986, fer=166_002),
    'cpu': dict(conditional=1_113_665, unconditional=1_112_801, heatmap=708_996, heatmap_timed=808_164, domain=320_962, regression=1_113_665,
                pix2pix=1_808_866, fer=1_174_182),
    'paper': dict(conditional=90_859_777, unconditional=90_856_321, heatmap=708_996, heatmap_timed=808_164, domain=320_962, regression=90_859_777,
                  pix2pix=93_626_434, fer=11_173_318),
    'paper256': dict(conditional=118_930_305, unconditional=118_926_849, heatmap=708_996, heatmap_timed=808_164, domain=320_962,
                     regression=118_930_305, pix2pix=121_696_962, fer=11_173_318),
}

def test_every_profile_is_checked():
    assert set(PARAMETERS) == set(PROFILES)

@pytest.mark.slow
@pytest.mark.parametrize('name', list(PROFILES))
def test_profile_steps_at_full_size(name):
    profile = get_profile(name)
    check = check_profile(profile, device='cpu')
    nets, samples = check['networks'], check['translation']
    assert list(nets.index) == list(NETWORKS) and list(samples.index) == list(SAMPLING_METHODS)
    assert nets.parameters.to_dict() == PARAMETERS[name]
    assert nets.finite.all(), nets  # loss and every weight finite after the step
    assert samples.finite.all(), samples
    assert set(samples['shape']) == {(1, 1, profile.size, profile.size)}

def bench(*args, torchrun: int = 0, timeout: int = 600):
    script = [str(ROOT / 'benchmarks' / 'bench_gpu.py'), *map(str, args)]
    cmd = [sys.executable, *script] if not torchrun else [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(torchrun), '--nnodes', '1',
        '--master_addr', '127.0.0.1', '--master_port', str(free_port()), *script]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env={**ENV, 'GLOO_SOCKET_IFNAME': 'lo', 'MASTER_ADDR': '127.0.0.1'})
    assert p.returncode == 0, p.stdout + p.stderr
    lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
    assert len(lines) == 1, p.stdout  # one JSON line (rank 0's)
    return json.loads(lines[0])

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_bench_gpu_without_cuda():
    out = bench()
    assert out['cuda'] is False and out['measured'] is False and 'no CUDA' in out['note']

def check_rates(profile: dict):
    assert set(profile['train']) == set(NETWORKS) and set(profile['translate']) == set(SAMPLING_METHODS)
    for r in [*profile['train'].values(), *profile['translate'].values()]: assert r['images_per_s'] > 0, r
    assert all(r['loss_finite'] for r in profile['train'].values()) and all(r['finite'] for r in profile['translate'].values())

def test_bench_gpu_on_cpu():
    out = bench('--device', 'cpu', '--profiles', 'quick', '--repeats', 1, '--steps', 1, '--translate-batch', 2)
    assert out['measured'] and out['device'] == 'cpu' and out['world_size'] == 1
    quick = out['profiles']['quick']
    assert quick['parameters'] == PARAMETERS['quick']
    check_rates(quick)
    assert quick['translate']['nfer-sde']['sampler_steps'] == get_profile('quick').sampler_steps

@pytest.mark.slow
def test_bench_gpu_scaling_under_torchrun():
    "Two gloo processes: DDP training steps and sharded translation run, and the scaling against one process is given."
    out = bench('--device', 'cpu', '--profiles', 'quick', '--repeats', 1, '--steps', 1, '--translate-batch', 2,
                '--world-size', 2, torchrun=2)
    assert out['world_size'] == 2
    quick = out['profiles']['quick']
    check_rates(quick); check_rates(quick['one_device'])
    assert set(quick['scaling']['train']) == set(NETWORKS) and all(v > 0 for v in quick['scaling']['translate'].values())
    assert {r['batch_per_rank'] for k, r in quick['train'].items() if k in ('conditional', 'domain')} == {get_profile('quick').batch_size // 2}

def test_bench_gpu_refuses_a_wrong_world_size():
    p = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'bench_gpu.py'), '--world-size', '2'], capture_output=True, text=True, env=ENV)
    assert p.returncode == 2 and 'torchrun' in p.stderr
