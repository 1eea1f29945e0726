"""Render `nbs/index.ipynb` to `README.md` (what `nbdev_readme` does with Quarto, done with nbconvert
so that it works offline). `--check` exits 1 when README.md is out of date."""
import re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
HIDE = re.compile(r'^\s*#\s*\|\s*(hide|export|exporti|exports)\b', re.M)
DIRECTIVE = re.compile(r'^\s*#\s*\|.*\n?', re.M)
LOCAL_IMAGE = re.compile(r'(!\[[^\]]*\]\()(?![a-z]+:|/|README_files/)([^)\s]+)')  # an image linked relative to nbs/

def readme_text(nb_path=ROOT/'nbs'/'index.ipynb'):
    "The markdown of the index notebook, without hidden cells and `#|` directives."
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == 'code' and HIDE.search(c.source))]
    for c in nb.cells:
        if c.cell_type == 'code': c.source = DIRECTIVE.sub('', c.source)
    exporter = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True)
    body, res = exporter.from_notebook_node(nb, resources={'output_files_dir': 'README_files'})
    body = re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'
    body = LOCAL_IMAGE.sub(r'\1nbs/\2', body)  # the index links its figures relative to nbs/; README.md is one level up
    header = '<!-- Rendered from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n\n'
    return header + body, res.get('outputs', {})

def main():
    (text, figures), readme = readme_text(), ROOT/'README.md'
    if '--check' in sys.argv:
        linked = [m.group(2) for m in LOCAL_IMAGE.finditer(text)]
        ok = readme.exists() and readme.read_text() == text and all((ROOT/f).exists() for f in [*figures, *linked])
        if not ok: print('README.md is out of date with nbs/index.ipynb: run `make readme` and commit it.')
        sys.exit(0 if ok else 1)
    for name, data in figures.items():
        (ROOT/name).parent.mkdir(exist_ok=True)
        (ROOT/name).write_bytes(data)
    readme.write_text(text)

if __name__ == '__main__': main()
