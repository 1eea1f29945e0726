"""What `core.run_parallel` gains on this machine: the same independent jobs run one after the other in one process
with every torch thread, and shared by `--workers` spawned processes of one thread each (how `make demo` runs its
networks and FER runs on a CPU). Two kinds of job, at the quick profile's sizes:

- `score_net`: training steps of the conditional 'tiny' U-Net (32 px, batch 16, DSM loss, AdamW), `--steps` each;
- `fer`: FER protocol runs ('tiny' classifier, 32 px) on the demo's built-in data (rendered if missing), real NIR
  only, 3 folds x `--seeds` seeds.

    .venv/bin/python benchmarks/bench_workers.py [--workers 2] [--steps 60] [--seeds 2]

Prints one JSON object: wall seconds of each way, and the speed-up. Built-in synthetic data, not Oulu-CASIA."""
import argparse, json, platform, tempfile, time
from pathlib import Path
import torch
from nfer_sde.core import run_parallel

def score_net_steps(steps: int, seed: int) -> float:
    "Train a fresh conditional 'tiny' U-Net for `steps` steps on random 32 px pairs; return the last loss (a job)."
    from nfer_sde.sde import VPSDE
    from nfer_sde.train import score_matching_loss
    from nfer_sde.unet import UNet, score_net_config
    torch.manual_seed(seed)
    net, sde = UNet(**score_net_config('tiny', conditional=True)), VPSDE()
    opt, g = torch.optim.AdamW(net.parameters(), lr=2e-4), torch.Generator().manual_seed(seed)
    y0, vis = torch.rand(16, 1, 32, 32) * 2 - 1, torch.rand(16, 3, 32, 32) * 2 - 1
    for _ in range(steps):
        loss = score_matching_loss(net, sde, y0, vis, g)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return float(loss.detach())

def timed(fn) -> float:
    start = time.perf_counter(); fn(); return round(time.perf_counter() - start, 2)

def score_net_case(a) -> dict:
    jobs = [(a.steps, s) for s in range(2 * a.workers)]
    run_parallel(score_net_steps, jobs[:a.workers], a.workers, progress=False)  # start the pool: its cost is paid once per session
    serial = timed(lambda: run_parallel(score_net_steps, jobs, 1, progress=False))
    shared = timed(lambda: run_parallel(score_net_steps, jobs, a.workers, progress=False))
    return dict(jobs=len(jobs), steps_per_job=a.steps, serial_s=serial, workers_s=shared, speedup=round(serial / shared, 2))

def fer_case(a) -> dict:
    from nfer_sde.datasets import read_manifest, subject_folds
    from nfer_sde.fer import fer_config
    from nfer_sde.fer_protocol import fer_protocol
    from nfer_sde.pipeline import get_profile, resolve_data
    p = get_profile('quick')
    df = read_manifest(resolve_data(None, p, 'runs/data', 0, progress=False))
    folds, config = subject_folds(df, k=p.folds, seed=0), fer_config(p.fer, size=p.size, seeds=a.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        serial = timed(lambda: fer_protocol(df, folds, Path(tmp) / 'serial', config=config, progress=False, device='cpu'))
        shared = timed(lambda: fer_protocol(df, folds, Path(tmp) / 'workers', config=config, progress=False, device='cpu',
                                            workers=a.workers))
    return dict(runs=p.folds * a.seeds, serial_s=serial, workers_s=shared, speedup=round(serial / shared, 2))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--steps', type=int, default=60, help='training steps of each score-net job')
    ap.add_argument('--seeds', type=int, default=2, help='FER seeds per fold')
    a = ap.parse_args()
    out = dict(benchmark='workers', platform=platform.platform(), processor=platform.processor(), python=platform.python_version(),
               torch=torch.__version__, threads=torch.get_num_threads(), workers=a.workers,
               score_net=score_net_case(a), fer=fer_case(a))
    print(json.dumps(out))
