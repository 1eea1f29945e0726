"""Re-execute notebooks in place so that their saved outputs (the documentation's figures) are current, honouring
nbdev's `#| eval: false`: those cells (long training, building a data set) are not run and keep their saved
outputs, as `nbdev_test` and the docs treat them. Plain `jupyter nbconvert --execute` would run them.

    python tools/run_notebooks.py nbs/01_sde.ipynb [more.ipynb ...]
"""
import re, sys, time
from pathlib import Path
import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

NO_EVAL = re.compile(r'^\s*#\s*\|\s*eval\s*:\s*false\b', re.M)

class NbdevExecutePreprocessor(ExecutePreprocessor):
    "Executes every code cell except those marked `#| eval: false`."
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == 'code' and NO_EVAL.search(cell.source): return cell, resources
        return super().preprocess_cell(cell, resources, index)

def run(path: Path, timeout: int = 1800):
    nb = nbformat.read(path, as_version=4)
    skipped = sum(1 for c in nb.cells if c.cell_type == 'code' and NO_EVAL.search(c.source))
    start = time.time()
    NbdevExecutePreprocessor(timeout=timeout, kernel_name='python3').preprocess(nb, {'metadata': {'path': str(path.parent)}})
    nbformat.write(nb, path)
    print(f"{path}: executed in {time.time() - start:.0f} s ({skipped} cell(s) marked `eval: false` left as saved)")

if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    for p in sys.argv[1:]: run(Path(p))
