"""The repository's own contracts: README rendered from the index notebook, papermill tags kept by nbdev_clean,
notebooks clean and exported."""
import json, subprocess, sys
import nbformat

def run(args, cwd, **kw): return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, **kw)

def test_readme_is_rendered_from_index(root):
    r = run([sys.executable, 'tools/render_readme.py', '--check'], root)
    assert r.returncode == 0, r.stdout + r.stderr

def test_nbdev_clean_keeps_papermill_parameters_tag(root, bin_dir, tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('data_root = None', metadata={'tags': ['parameters'], 'scrolled': True})
    nb.cells = [cell]
    path = root / 'nbs' / f'_tmp_tag_check_{tmp_path.name}.ipynb'
    nbformat.write(nb, path)
    try:
        r = run([bin_dir / 'nbdev_clean', '--fname', path], root)
        assert r.returncode == 0, r.stderr
        meta = json.loads(path.read_text())['cells'][0]['metadata']
    finally: path.unlink()
    assert meta == {'tags': ['parameters']}  # tags kept, other cell metadata cleaned

def test_every_numbered_notebook_exports_a_module(root):
    for nb_path in sorted((root / 'nbs').glob('[0-9][0-9]_*.ipynb')):
        src = nb_path.read_text()
        assert '#| default_exp' in src, f'{nb_path.name} declares no module'

def test_run_notebooks_skips_cells_nbdev_does_not_evaluate(root, tmp_path):
    nb = nbformat.v4.new_notebook()
    saved = nbformat.v4.new_output('stream', name='stdout', text='trained for an hour\n')
    nb.cells = [nbformat.v4.new_code_cell('print(1 + 1)'),
                nbformat.v4.new_code_cell("#| eval: false\nraise SystemExit('would train for an hour')", outputs=[saved])]
    path = tmp_path / 'n.ipynb'
    nbformat.write(nb, path)
    r = run([sys.executable, root / 'tools' / 'run_notebooks.py', path], root)
    assert r.returncode == 0, r.stdout + r.stderr
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].outputs[0].text == '2\n'
    assert cells[1].outputs == [saved]  # not run; its saved output kept

def test_every_notebook_names_its_kernel(root):
    "JupyterLab opens each notebook with the project's Python kernel instead of asking 'Select Kernel'; no leftover metadata."
    for nb_path in sorted(p for p in (root / 'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts):
        meta = json.loads(nb_path.read_text())['metadata']
        assert meta == {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}}, f'{nb_path}: {meta}'

def test_base_imports_without_torch(root):
    "What every layer shares (`nfer_sde.base`) imports without torch, pandas or PIL."
    code = "import sys, nfer_sde.base; print(sorted(m for m in ('torch', 'pandas', 'PIL') if m in sys.modules))"
    r = run([sys.executable, '-c', code], root)
    assert r.returncode == 0 and r.stdout.strip() == '[]', r.stdout + r.stderr
