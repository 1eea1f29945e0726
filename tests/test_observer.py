"""The independent landmark observer (dlib's 68-point predictor on upsampled images) and the metrics that use it."""
import numpy as np
import pytest
import torch
from skimage import data as skdata
from nfer_sde.core import image_to_tensor, OUTER_EYE_CORNERS
from nfer_sde.faces import align_face, detect_landmarks, dlib_face_found, dlib_landmark_fn, upsample_for_dlib
from nfer_sde.metrics import observer_nme, translation_metrics

@pytest.fixture(scope='module')
def face():
    "The astronaut's aligned 64 px gray crop (1, 1, 64, 64) and its landmarks (1, 68, 2)."
    a = skdata.astronaut()
    crop, L = align_face(a, detect_landmarks(a), 64)
    return image_to_tensor(np.asarray(crop.convert('L')), 1)[None], torch.as_tensor(L)[None]

def test_planted_shift(face):
    "The observer reads the face where it is: NME near 0 on the crop, about the move itself when it is moved by 2 px."
    x, L = face
    observer = dlib_landmark_fn()
    same, moved = observer_nme(x, L, observer).item(), observer_nme(torch.roll(x, 2, -1), L, observer).item()
    move = 2 / (L[0, OUTER_EYE_CORNERS[0]] - L[0, OUTER_EYE_CORNERS[1]]).norm().item()
    assert same < 0.03, same
    assert moved > 0.6 * move and moved > 3 * same, (moved, move, same)

def test_metric_keys(face):
    "The guide's NME and the observer's columns are named apart; the face-found rate uses dlib's detector."
    x, L = face
    batch, refs = torch.cat([x, torch.roll(x, 2, -1), torch.zeros_like(x)]), L.expand(3, -1, -1)
    m = translation_metrics(batch, source_landmarks=refs, landmark_fn=lambda b: refs[:len(b)], observer_fn=dlib_landmark_fn())
    assert set(m) == {'n', 'landmark NME (guide net)', 'landmark NME (dlib)', 'face found (dlib)'}
    assert m['landmark NME (guide net)'] == 0. and m['face found (dlib)'] == pytest.approx(2 / 3)
    assert 'landmark NME' not in m

def test_observer_modes(face):
    "Reference box, detected box, NaN where there is no reference or no face, clear errors on misuse."
    x, L = face
    gt, det = dlib_landmark_fn(), dlib_landmark_fn(detect=True)
    P, Q = gt(x, L), det(x)
    iod = (L[0, 36] - L[0, 45]).norm()
    assert ((P - L).norm(dim=-1).mean() / iod) < 0.05 and ((Q - L).norm(dim=-1).mean() / iod) < 0.05
    assert torch.isnan(det(torch.zeros_like(x))).all() and torch.isnan(gt(x, torch.full_like(L, float('nan')))).all()
    assert dlib_face_found(torch.cat([x, torch.zeros_like(x)])).tolist() == [True, False]
    with pytest.raises(ValueError, match='reference landmarks'): gt(x)
    with pytest.raises(ValueError, match='reference must be'): gt(x, L[:, :5])
    with pytest.raises(ValueError, match='expected images'): gt(x[0], L)

def test_upsampling_coordinates():
    "A bright pixel at (x, y) of a small image is found at (x + 0.5) * s - 0.5 of the upsampled one (pixel centres at integers)."
    x = -torch.ones(1, 1, 32, 32); x[0, 0, 10, 20] = 1.
    (a,), f = upsample_for_dlib(x, 256)
    assert a.shape == (256, 256) and a.dtype == np.uint8 and tuple(f) == (8., 8.)
    y, xx = np.unravel_index(np.argmax(a), a.shape)
    assert abs(xx - (20.5 * 8 - 0.5)) <= 1 and abs(y - (10.5 * 8 - 0.5)) <= 1

def test_rendered_nir_floor(tmp_path):
    "On the built-in NIR faces (32 px) dlib is an observer, if an imperfect one: NME to the renderer's exact landmarks < 0.12."
    from torch.utils.data import default_collate
    from nfer_sde.synthetic import build_dataset
    from nfer_sde.datasets import read_manifest, ImageDataset
    from nfer_sde.landmarks import nme
    df = read_manifest(build_dataset(tmp_path, n_subjects=1, size=32, frames_per_sequence=1, illuminations=['strong'], progress=False))
    b = default_collate(list(ImageDataset(df[df.modality == 'NIR'], size=32, channels=1)))
    floor = nme(dlib_landmark_fn()(b['image'], b['landmarks']).double(), b['landmarks'].double()).mean().item()
    assert floor < 0.12, floor
