"""Speed of the networks on this machine: training throughput of the default (CPU) score net at 64x64, and the
forward and backward time of each network. Prints one JSON object.

Timing is best-of-`repeats` of a few steps each, so that other processes on a shared machine bias it little.
`python benchmarks/bench_networks.py [--threads N] [--repeats R] [--quick]`"""
import argparse, json, platform, time
import torch
from nfer_sde.core import seed_everything
from nfer_sde.unet import UNet, DomainClassifier, score_net_config, n_params
from nfer_sde.landmarks import HeatmapNet, FANHeatmaps, heatmaps_to_landmarks
from nfer_sde.sde import VPSDE
from nfer_sde.train import score_matching_loss
from nfer_sde.training_loop import EMA, amp_dtype, cpu_has_fast_bf16

def best_time(fn, repeats: int, inner: int = 2) -> float:
    "Smallest mean time of `inner` calls of `fn` over `repeats` tries (after one warm-up call)."
    fn(); best = float('inf')
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner): fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best

def train_step_fn(net, batch_size, size, amp, channels_last=False):
    "One full training step of the conditional score net as `train.fit` does it: DSM loss, AdamW, clipping, EMA."
    sde, opt, ema = VPSDE(), torch.optim.AdamW(net.parameters(), lr=2e-4), EMA(net, 0.999)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net.to(memory_format=fmt)
    y0 = torch.rand(batch_size, 1, size, size).mul(2).sub(1).contiguous(memory_format=fmt)
    vis = torch.rand(batch_size, 3, size, size).mul(2).sub(1).contiguous(memory_format=fmt)
    g = torch.Generator().manual_seed(0)
    dtype = amp_dtype(amp, torch.device('cpu'))
    def step():
        with torch.autocast('cpu', dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = score_matching_loss(net, sde, y0, vis, g)
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.); opt.step(); ema.update(net)
    return step

def fwd_bwd_ms(net, x, call, repeats, amp='off'):
    "Forward and forward+backward (to the input and weights) time per batch, in ms."
    dtype = amp_dtype(amp, torch.device('cpu'))
    def fwd():
        with torch.no_grad(), torch.autocast('cpu', dtype=dtype or torch.float32, enabled=dtype is not None): call(net, x)
    def bwd():
        xi = x.clone().requires_grad_()
        with torch.autocast('cpu', dtype=dtype or torch.float32, enabled=dtype is not None): out = call(net, xi)
        out.float().square().mean().backward()
    return {'forward_ms': round(1e3 * best_time(fwd, repeats), 2), 'forward_backward_ms': round(1e3 * best_time(bwd, repeats), 2)}

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=torch.get_num_threads())
    p.add_argument('--repeats', type=int, default=4)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--quick', action='store_true', help='fewer repeats, no FAN (smoke test)')
    a = p.parse_args()
    torch.set_num_threads(a.threads); seed_everything(0)
    reps, bs, size = (2 if a.quick else a.repeats), a.batch_size, 64
    t = torch.randint(0, 1000, (bs,))
    cond = torch.rand(bs, 3, size, size) * 2 - 1
    out = {'benchmark': 'bench_networks', 'machine': {'platform': platform.platform(), 'processor': platform.processor(),
           'torch': torch.__version__, 'threads': torch.get_num_threads(), 'cpu_capability': torch.backends.cpu.get_cpu_capability(),
           'native_bf16': cpu_has_fast_bf16()}, 'batch_size': bs, 'image_size': size}
    # training throughput of the default score net (conditional, 'cpu' preset), per precision and memory layout
    train = {}
    for amp, cl in [('off', False), ('off', True), ('auto', False), ('auto', True)]:
        seed_everything(0); net = UNet(**score_net_config('cpu', conditional=True))
        dt = best_time(train_step_fn(net, bs, size, amp, cl), reps)
        key = f"{'fp32' if amp_dtype(amp, torch.device('cpu')) is None else 'bf16'}{'_channels_last' if cl else ''}"
        train[key] = round(bs / dt, 1)
    out['score_net_cpu_train_images_per_s'] = train
    out['default_amp_on_this_cpu'] = 'bf16' if amp_dtype('auto', torch.device('cpu')) else 'fp32'
    # forward / backward time of each network, in the default precision of this CPU
    nets = {
        'score_net_cpu_conditional': (UNet(**score_net_config('cpu', conditional=True)), lambda n, x: n(x, t, cond), (bs, 1, size, size)),
        'score_net_cpu_unconditional': (UNet(**score_net_config('cpu')), lambda n, x: n(x, t), (bs, 1, size, size)),
        'domain_classifier': (DomainClassifier(), lambda n, x: n(x, t), (bs, 1, size, size)),
        'heatmap_net': (HeatmapNet(), lambda n, x: heatmaps_to_landmarks(n(x), size), (bs, 1, size, size)),
    }
    if not a.quick:  # FAN: 4 hourglasses at 256x256, randomly initialised (same cost as the released weights)
        nets['fan_4_hourglasses'] = (FANHeatmaps(random_init=True), lambda n, x: n(x), (1, 1, size, size))
    timings = {}
    for name, (net, call, shape) in nets.items():
        x = torch.rand(shape) * 2 - 1
        timings[name] = {'params_M': round(n_params(net) / 1e6, 2), 'batch': shape[0],
                         **fwd_bwd_ms(net, x, call, reps, amp='auto')}
    out['networks'] = timings
    print(json.dumps(out))

if __name__ == '__main__': main()
