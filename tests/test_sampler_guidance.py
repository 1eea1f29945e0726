"""The guided sampler with the project's real (untrained) networks: presets, exactness, guidance direction."""
import pytest
import torch
from nfer_sde.energies import FrequencyEnergy, LandmarkEnergy, RealisticEnergy, FaithfulEnergy, noisy_pair
from nfer_sde.sampler import (METHODS, sample_guided, translate, build_translator, energy_pull, guidance_weight,
                              posterior_x0_var)
from nfer_sde.sde import VPSDE, respaced_timesteps, sample_ancestral, sample_ddim

import nfer_sde.unet as unet
import nfer_sde.landmarks as landmarks
SDE = VPSDE()

def score_net(conditional):
    torch.manual_seed(0)
    net = unet.UNet(**unet.score_net_config('tiny', conditional=conditional)).eval()
    with torch.no_grad(): net.out[-1].weight.normal_(0, 0.05)  # the zero-initialised output would predict eps = 0
    return net

@pytest.fixture(scope='module')
def nets():
    torch.manual_seed(0)
    return dict(heatmap_net=landmarks.HeatmapNet(base_channels=8, depth=1).eval(),
                domain_classifier=unet.DomainClassifier(image_size=32, base_channels=16, channel_mults=(1, 2)).eval())

@pytest.fixture(scope='module')
def vis(): return torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1

def test_every_preset_runs_in_seconds_at_32px(nets, vis):
    scores = {'conditional': score_net(True), 'unconditional': score_net(False)}
    for name, preset in METHODS.items():
        kw = dict(score_net=scores.get(preset.score_net), n_steps=5, seed=0, **nets, **({'paired_net': scores['conditional']} if preset.paired else {}))
        out = translate(vis, name, **kw)  # speed: benchmarks/bench_sampler.py
        assert out.shape == (3, 1, 32, 32) and torch.isfinite(out).all() and out.abs().max() <= 1
        again = translate(vis, name, **kw)
        assert torch.equal(out, again), name  # deterministic for a seed

def conditional_setup(vis):
    "A conditional score net's noise predictor for `vis`, the gray source and a fixed perturbation noise."
    net = score_net(True)
    eps_fn = lambda y, t: net(y, t, cond=vis)
    return eps_fn, vis.mean(1, keepdim=True), torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(1))

@pytest.mark.parametrize('point', ['noisy', 'tweedie'])
def test_zero_weights_are_the_unguided_samplers(nets, vis, point):
    eps_fn, src, e = conditional_setup(vis)
    ts = respaced_timesteps(499, 6)
    y = SDE.q_sample(src, ts[0], e)
    energies = {'landmark': LandmarkEnergy(nets['heatmap_net']), 'frequency': FrequencyEnergy()}
    kw = dict(source=src, source_noise=e, energies=energies, weights={'landmark': 0., 'frequency': 0.}, point=point)
    g = lambda: torch.Generator().manual_seed(7)
    assert torch.equal(sample_guided(eps_fn, y, ts, SDE, g(), **kw), sample_ancestral(eps_fn, y, ts, SDE, g()))
    assert torch.equal(sample_guided(eps_fn, y, ts, SDE, g(), step='ddim', eta=0.3, **kw), sample_ddim(eps_fn, y, ts, SDE, g(), eta=0.3))

@pytest.mark.parametrize('point', ['noisy', 'tweedie'])
def test_one_guided_step_lowers_each_energy_with_the_real_networks(nets, vis, point):
    eps_fn, src, e = conditional_setup(vis)
    ts = respaced_timesteps(499, 10)
    x = sample_ancestral(eps_fn, SDE.q_sample(src, ts[0], e), ts[:3], SDE, torch.Generator().manual_seed(2))
    t, s = torch.full((3,), int(ts[2])), torch.full((3,), int(ts[3]))
    x0 = SDE.eps_to_x0(x, t, eps_fn(x, t)).detach()
    for E in (LandmarkEnergy(nets['heatmap_net']), RealisticEnergy(nets['domain_classifier']), FaithfulEnergy(4)):
        y, ref, level = (x, SDE.q_sample(src, t, e), t) if point == 'noisy' else (x0, src, torch.zeros_like(t))
        grad = energy_pull({'E': E}, {'E': 1.}, y, ref, level, {})[0]
        per_unit = guidance_weight(SDE, t, s, x) if point == 'noisy' else posterior_x0_var(SDE, t, x)
        lam = 0.02 / (per_unit * grad).abs().mean().item()
        def landing(w):
            seen = []
            x_s = sample_guided(eps_fn, x, ts[2:4], SDE, torch.Generator().manual_seed(3), seen.append, source=src, source_noise=e,
                                energies={'E': E}, weights={'E': w}, point=point)
            with torch.no_grad():
                if point == 'noisy': return E(*noisy_pair(SDE, x_s, src, s, e))
                return E(SDE.eps_to_x0(x, t, seen[0]['eps']), src, torch.zeros_like(t))
        assert (landing(lam) < landing(0.)).all(), (point, E)

def test_translator_refuses_wrong_networks(nets):
    with pytest.raises(ValueError, match="needs a conditional score network"): build_translator('nfer-sde', score_net=score_net(False), **nets)
    with pytest.raises(ValueError, match="'landmark' needs `heatmap_net`"): build_translator('nfer-sde', score_net=score_net(True))
    with pytest.raises(ValueError, match='unknown method'): build_translator('cyclegan')
    with pytest.raises(ValueError, match="does not use"): build_translator('sdedit', score_net=score_net(False), weights={'landmark': 1.})
