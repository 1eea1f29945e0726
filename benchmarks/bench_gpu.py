"""Throughput of each profile's networks on CUDA, at their full size: training images/s of every network a study
trains (optimiser steps at the profile's batch, precision and memory layout, through `plan.time_training_step`) and
guided translation images/s of every sampling method (`plan.time_translation_step`, scaled to the profile's reverse
steps), with the peak GPU memory of each. Prints one JSON line.

    python benchmarks/bench_gpu.py                       # every profile, one GPU
    python benchmarks/bench_gpu.py --profiles paper --compile
    torchrun --nproc_per_node 4 benchmarks/bench_gpu.py --world-size 4

Under `torchrun` with `--world-size N` the networks train with `DistributedDataParallel` (nccl; the profile's batch
split over the ranks, as `train.fit` splits it) and translation is sharded (each rank translates its own batch, as
`translation_job.translate_dataset` does); every rate is then also measured on rank 0 alone, and the JSON gives the scaling.
Without CUDA the JSON says so and the script exits 0; `--device cpu` measures on the CPU instead (gloo under
`torchrun`), which is how the tests check this script."""
import argparse, json, sys
import torch
import torch.distributed as dist
from nfer_sde.pipeline import PROFILES, get_profile
from nfer_sde.plan import (NETWORKS, SAMPLING_METHODS, TRANSLATION_BATCH, profile_networks, time_training_step,
                           time_translation_step, train_batch)
from nfer_sde.study import machine_description
from nfer_sde.translation_job import dist_env
from nfer_sde.unet import n_params

def peak_gib(device) -> float | None:
    "Peak GPU memory since the last reset, in GiB (None on a CPU)."
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == 'cuda' else None

def reset_peak(device):
    if device.type == 'cuda': torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)

def ddp(device):
    "A wrapper that puts a network (already on `device`) under DistributedDataParallel."
    return lambda net: torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == 'cuda' else None)

def training_rates(profile, nets, device, world: int, repeats: int) -> dict:
    "Images per second of one optimiser step of each network, all ranks together (the profile's batch split over `world`)."
    out = {}
    for name in NETWORKS:
        per_rank = max(1, train_batch(name, profile) // world)
        reset_peak(device)
        r = time_training_step(name, nets[name], profile, per_rank, device, repeats, wrap=ddp(device) if world > 1 else None)
        out[name] = dict(images_per_s=round(world / r['seconds_per_item'], 1), batch_per_rank=per_rank, loss_finite=r['finite'],
                         peak_gib=peak_gib(device))
    return out

def translation_rates(profile, nets, device, world: int, batch: int, steps: int, repeats: int) -> dict:
    "Whole translations per second (the profile's reverse steps) of each sampling method, all ranks together, `batch` images per rank."
    out = {}
    for m in SAMPLING_METHODS:
        reset_peak(device)
        if world > 1: dist.barrier()  # the ranks start each method together, as sharded translation runs them
        r = time_translation_step(m, nets, profile, batch, device, n_steps=steps, repeats=repeats)  # this rank's own rate: rank 0 reports
        per_image = r['seconds_per_image_step'] * profile.sampler_steps
        out[m] = dict(images_per_s=round(world / per_image, 2), batch_per_rank=batch, measured_steps=steps,
                      sampler_steps=profile.sampler_steps, finite=r['finite'], peak_gib=peak_gib(device))
    return out

def scaling(many: dict, one: dict) -> dict:
    "Each rate with all ranks over the same rate on one device."
    return {k: round(many[k]['images_per_s'] / one[k]['images_per_s'], 2) for k in many}

def measure(profile, device, world: int, rank: int, a) -> dict:
    nets = profile_networks(profile)
    result = dict(size=profile.size, score_net=profile.score_net, fer=profile.fer, batch_size=profile.batch_size,
                  parameters={k: n_params(v) for k, v in nets.items()})
    if world > 1:  # rank 0 alone first: the one-device rates that the scaling divides by
        if rank == 0:
            result['one_device'] = dict(train=training_rates(profile, nets, device, 1, a.repeats),
                                        translate=translation_rates(profile, nets, device, 1, a.translate_batch, a.steps, a.repeats))
        dist.barrier()
    result['train'] = training_rates(profile, nets, device, world, a.repeats)
    result['translate'] = translation_rates(profile, nets, device, world, a.translate_batch, a.steps, a.repeats)
    if world > 1 and rank == 0:
        result['scaling'] = dict(train=scaling(result['train'], result['one_device']['train']),
                                 translate=scaling(result['translate'], result['one_device']['translate']))
    return result

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--profiles', nargs='+', default=list(PROFILES), choices=list(PROFILES))
    p.add_argument('--world-size', type=int, default=1, help='processes started by torchrun (must equal its WORLD_SIZE)')
    p.add_argument('--device', choices=['cuda', 'cpu'], default='cuda', help='cpu: measure on the CPU (a check of the script)')
    p.add_argument('--repeats', type=int, default=3, help='timed steps after the warm-up; the fastest counts')
    p.add_argument('--steps', type=int, default=5, help='reverse steps timed per translation (scaled to the profile\'s)')
    p.add_argument('--translate-batch', type=int, default=TRANSLATION_BATCH, help='images per translation batch and rank')
    p.add_argument('--amp', help="override the profiles' precision: auto, bf16, fp16, off")
    p.add_argument('--compile', action='store_true', help='torch.compile the networks (the warm-up step pays the compilation)')
    a = p.parse_args(argv)
    rank, world, local = dist_env()
    if world != a.world_size:
        print(f"bench_gpu: --world-size {a.world_size} but {world} processes (start several with torchrun --nproc_per_node)", file=sys.stderr)
        return 2
    out = dict(benchmark='bench_gpu', world_size=world, torch=torch.__version__, cuda=torch.cuda.is_available())
    if a.device == 'cuda' and not torch.cuda.is_available():
        print(json.dumps({**out, 'machine': machine_description(), 'measured': False,
                          'note': 'no CUDA device here: nothing measured (run it on a GPU machine; --device cpu checks the script)'}))
        return 0
    device = torch.device('cuda', local) if a.device == 'cuda' else torch.device('cpu')
    if device.type == 'cuda': torch.cuda.set_device(device); torch.backends.cudnn.benchmark = True
    if world > 1: dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    try:
        overrides = dict(compile=a.compile or None, amp=a.amp)
        profiles = {name: measure(get_profile(name, **overrides), device, world, rank, a) for name in a.profiles}
    finally:
        if world > 1: dist.destroy_process_group()
    if rank == 0:
        print(json.dumps({**out, 'measured': True, 'device': str(device), 'machine': machine_description(),
                          'gpu': torch.cuda.get_device_name(device) if device.type == 'cuda' else None,
                          'compile': a.compile, 'profiles': profiles}))
    return 0

if __name__ == '__main__': sys.exit(main())
