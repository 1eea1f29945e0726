"""Test photos: a fixture of the tests, the notebooks' examples and `benchmarks/real_photos.py`, not of the library."""
from pathlib import Path
import numpy as np
from PIL import Image

def write_test_photos(folder) -> Path:
    "A folder of photos: the scikit-image astronaut in 5 formats, sizes and orientations, a faceless image, a corrupt file."
    from skimage import data as skdata
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    a = Image.fromarray(skdata.astronaut())
    a.save(folder / 'rgb.png')
    a.crop((60, 0, 460, 300)).save(folder / 'landscape.jpg', quality=90)  # 400 x 300, not square
    a.convert('L').resize((200, 200), Image.BICUBIC).save(folder / 'gray.png')
    a.convert('RGBA').resize((256, 256), Image.BICUBIC).save(folder / 'rgba.png')
    exif = Image.Exif(); exif[0x0112] = 6  # EXIF orientation: turn 90 degrees clockwise to view
    a.rotate(90, expand=True).save(folder / 'phone.jpg', exif=exif, quality=90)  # stored sideways, as phones do
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(folder / 'no_face.png')
    (folder / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0 this is not a JPEG')
    return folder
