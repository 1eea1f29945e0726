"""Metrics that need weight files: the Inception-v3 FID path and the ResNet-18 ImageNet path, exercised with
stand-in files of the real layout (random weights; nothing is downloaded), and their absence."""
import pytest
import torch
from torch_fidelity import feature_extractor_inceptionv3 as tfi
from nfer_sde.core import InputError
from nfer_sde.fer import RESNET18_IMAGENET, WEIGHTS_ENV, fer_config, resnet18_fer, small_cnn_fer
from nfer_sde.metrics import INCEPTION_FID, default_extractor, frechet_distance, inception_extractor, translation_metrics

@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch-home'))  # an empty hub cache: only our folder counts
    return tmp_path

def standin_inception(folder, monkeypatch):
    "Write a random state dict with the layout of torch-fidelity's Inception file (built without any download)."
    with monkeypatch.context() as m:
        m.setattr(tfi, 'load_state_dict_from_url', lambda *a, **k: None)
        m.setattr(tfi.FeatureExtractorInceptionV3, 'load_state_dict', lambda self, sd, *a, **k: None)
        net = tfi.FeatureExtractorInceptionV3('inception-v3-compat', ['2048'])
    torch.manual_seed(0)
    for m in net.modules():  # He initialisation keeps the random features from vanishing through 94 layers
        if isinstance(m, torch.nn.Conv2d): torch.nn.init.kaiming_normal_(m.weight)
    torch.save(net.state_dict(), folder / INCEPTION_FID)

def test_absent_weights_name_the_file_and_where_they_were_looked_for(weights_dir):
    with pytest.raises(InputError, match=f'{INCEPTION_FID} is not on disk .*{weights_dir}'):
        inception_extractor()
    with pytest.raises(InputError, match=f'{RESNET18_IMAGENET} is not on disk .*{weights_dir}'):
        resnet18_fer(64, pretrained=True)
    with pytest.raises(InputError, match='never downloads'):
        fer_config('gpu', pretrained='imagenet').build()

def test_without_inception_the_substitute_is_never_called_fid(weights_dir):
    x = torch.rand(12, 1, 32, 32) * 2 - 1
    m = translation_metrics(x, real=x.flip(0), fer_model=small_cnn_fer(32, width=8).eval(), kid_subset_size=6)
    assert 'FID' not in m and 'KID' not in m
    assert {'FD[fer-small-cnn]', 'KD[fer-small-cnn]'} <= set(m)

@pytest.mark.slow
def test_inception_from_a_file_on_disk_gives_fid(weights_dir, monkeypatch):
    standin_inception(weights_dir, monkeypatch)
    ext = default_extractor()  # picks Inception because its file is there
    assert ext.name == 'inception-v3' and ext.distance_names == ('FID', 'KID')
    g = torch.Generator().manual_seed(0)
    a = torch.rand(4, 1, 48, 48, generator=g) * 2 - 1
    f = ext(a)
    assert f.shape == (4, 2048) and f.std() > 0
    assert frechet_distance(a, a, ext) == pytest.approx(0, abs=1e-4 * f.var(0).sum().item())  # 0 up to round-off
    m = translation_metrics((a + 0.8).clamp(-1, 1), real=a, kid_subset_size=4, extractor=ext)
    assert {'FID', 'KID'} <= set(m)
    assert m['FID'] > 1e-3 * f.var(0).sum().item() and m['KID'] > 0  # a brightened set is farther
