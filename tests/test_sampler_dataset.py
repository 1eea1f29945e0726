"""Dataset translation across processes: resume after a kill, sharding under torchrun, bad inputs."""
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from nfer_sde.core import InputError
from nfer_sde.translation_job import translate_dataset

# The networks and the call, shared by the test process and the subprocesses (same seed -> same weights).
RUN = textwrap.dedent('''
    import sys, time, torch
    from nfer_sde.translation_job import translate_dataset
    def build_net():
        "The untrained 'tiny' U-Net with a random (not zero) output layer, so that translations are not trivial."
        from nfer_sde.unet import UNet, score_net_config
        torch.manual_seed(0)
        net = UNet(**score_net_config('tiny'))
        with torch.no_grad(): net.out[-1].weight.normal_(0, 0.05)
        return net
    def run(src, out, pause=0., **kw):
        return translate_dataset(src, out, 'sdedit', score_net=build_net(), size=32, batch_size=1, n_steps=4,
                                 progress=False, callback=lambda d: time.sleep(pause), **kw)
    if __name__ == '__main__':
        torch.set_num_threads(1)
        run(sys.argv[1], sys.argv[2], float(sys.argv[3]))
''')
ns = {}
exec(RUN.replace("if __name__ == '__main__':", 'if False:'), ns)
run = ns['run']
N_IMAGES = 8

@pytest.fixture
def vis_folder(tmp_path):
    "A folder of small random VIS images in two subfolders."
    g = np.random.default_rng(0)
    for i in range(N_IMAGES):
        p = tmp_path / 'vis' / f'S{i % 2}' / f'{i}.png'
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(g.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(p)
    (tmp_path / 'run.py').write_text(RUN)
    return tmp_path

def images(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): np.asarray(Image.open(p)) for p in sorted((folder / 'images').rglob('*.png'))}

def same_outputs(a: Path, b: Path):
    ia, ib = images(a), images(b)
    assert sorted(ia) == sorted(ib) and len(ia) == N_IMAGES
    for k in ia: np.testing.assert_array_equal(ia[k], ib[k])
    pd.testing.assert_frame_equal(pd.read_csv(a / 'manifest.csv'), pd.read_csv(b / 'manifest.csv'))

def env():
    return {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}

@pytest.mark.slow
def test_resume_after_kill(vis_folder):
    src, out, ref = vis_folder / 'vis', vis_folder / 'out', vis_folder / 'ref'
    assert run(src, ref) == ref / 'manifest.csv'
    p = subprocess.Popen([sys.executable, str(vis_folder / 'run.py'), str(src), str(out), '0.1'], env=env())
    deadline = time.time() + 60
    while len(list((out / 'images').rglob('*.png'))) < 3 and time.time() < deadline and p.poll() is None: time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    written = images(out)
    assert 3 <= len(written) < N_IMAGES and not (out / 'manifest.csv').exists()
    missing = sorted({f'images/S{i % 2}/{i}.png' for i in range(N_IMAGES)} - set(written))[0]
    left_by_kill = (out / missing).parent / f'.{Path(missing).name}.k1ll3d_x.tmp'  # as a kill inside atomic_write leaves
    left_by_kill.write_bytes(b'half an image')
    steps = []
    assert translate_dataset(src, out, 'sdedit', score_net=ns['build_net'](), size=32, batch_size=1, n_steps=4,
                             progress=False, callback=steps.append) == out / 'manifest.csv'
    assert len(steps) <= 4 * (N_IMAGES - len(written) + 1)  # only what was missing (and the batch cut short) was redone
    same_outputs(out, ref)
    assert len(pd.read_csv(out / 'manifest.csv')) == N_IMAGES
    assert not list(out.rglob('*.tmp'))  # the resumed run cleaned up what the kill left

@pytest.mark.slow
def test_two_processes_under_torchrun_cover_every_image_once(vis_folder):
    src, out, ref = vis_folder / 'vis', vis_folder / 'out', vis_folder / 'ref'
    torchrun = Path(sys.executable).parent / 'torchrun'
    subprocess.run([str(torchrun), '--standalone', '--nproc_per_node', '2', str(vis_folder / 'run.py'), str(src), str(out), '0'],
                   env=env(), check=True, capture_output=True, timeout=120)
    shards = [json.loads((out / 'shards' / f'rank-{r}-of-2.json').read_text()) for r in (0, 1)]
    assert shards[0]['batches'] == [0, 2, 4, 6] and shards[1]['batches'] == [1, 3, 5, 7]
    covered = shards[0]['images'] + shards[1]['images']
    assert len(covered) == len(set(covered)) == N_IMAGES
    # the reference in a process of its own, with the same single thread: float reductions then agree bit for bit
    subprocess.run([sys.executable, str(vis_folder / 'run.py'), str(src), str(ref), '0'], env=env(), check=True, timeout=120)
    same_outputs(out, ref)  # sharding changes nothing in the outputs

def test_bad_inputs(vis_folder, tmp_path):
    src = vis_folder / 'vis'
    (src / 'S0' / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(InputError, match='broken.png: is not a readable image'): run(src, tmp_path / 'o1')
    with pytest.raises(InputError, match='neither a folder'): run(tmp_path / 'missing', tmp_path / 'o2')
    (tmp_path / 'm.csv').write_text('path,subject,expression,modality,illumination,frame\nvis/S1/1.png,S1,anger,NIR,strong,0\n')
    with pytest.raises(InputError, match='no VIS images'): run(tmp_path / 'm.csv', tmp_path / 'o3')
    with pytest.raises(ValueError, match='rank 2 is not in'): run(src, tmp_path / 'o4', rank=2, world_size=2)
