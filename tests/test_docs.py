"""The documentation site, checked offline: every notebook renders as nbdev and Quarto show it (directives applied,
hidden cells gone), the key pages load in headless Chromium without JavaScript errors, with their formulas typeset
by a local MathJax (tools/docs_check.py); and the check fails where a page would show raw math or a directive."""
import shutil, subprocess, sys
import nbformat
import pytest

needs_chromium = pytest.mark.skipif(shutil.which('chromium') is None, reason='Chromium not installed (make docs-deps installs it as root)')

def docs_check(root, out, *args):
    "Run tools/docs_check.py of the project at `root`."
    return subprocess.run([sys.executable, str(root/'tools'/'docs_check.py'), '--out', str(out), *args], cwd=root,
                          capture_output=True, text=True)

@pytest.mark.slow
@needs_chromium
def test_docs_render_and_load(root, tmp_path):
    r = docs_check(root, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path/'index.html').exists() and (tmp_path/'screenshots'/'index.png').stat().st_size > 10_000
    for page in ('sde', 'energies', 'sampler'):  # opened under the site's page names, and their formulas typeset
        line = next(l for l in r.stdout.splitlines() if l.startswith(f'docs: {page}.html opened'))
        assert int(line.split(', ')[1].split()[0]) > 0, line

def planted_site(root, tmp_path, markdown: str, *code: str):
    "A one-page copy of the project whose index holds a `markdown` cell and `code` cells."
    site = tmp_path/'site'
    (site/'tools').mkdir(parents=True); (site/'nbs').mkdir()
    shutil.copy(root/'settings.ini', site); shutil.copy(root/'tools'/'docs_check.py', site/'tools')
    nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}})
    nb.cells = [nbformat.v4.new_markdown_cell('# Planted\n\n> A page with a problem'), nbformat.v4.new_markdown_cell(markdown),
                *map(nbformat.v4.new_code_cell, code)]
    nbformat.write(nb, site/'nbs'/'index.ipynb')
    return site

@pytest.mark.slow
@needs_chromium
def test_docs_check_fails_on_directive_and_raw_math(root, tmp_path):
    site = planted_site(root, tmp_path, 'The noise level $x_t$ of $t$, and $\\nosuchmacro$.', '#| hide\nhidden = 1', 'x = 1\n#| export\ny = 2')
    r = docs_check(site, tmp_path/'out', '--pages', 'index')
    assert r.returncode == 1, r.stdout + r.stderr
    assert "a directive shows on the page: '#| export'" in r.stdout  # not at the top of its cell: not a directive for nbdev
    assert "a formula MathJax could not typeset: '\\\\nosuchmacro'" in r.stdout
    assert '#| hide' not in r.stdout and 'raw math' not in r.stdout  # the directive applied, the formulas typeset
    stub = tmp_path/'MathJax.js'; stub.write_text('// not MathJax')  # what the page sees when MathJax cannot load
    r = docs_check(site, tmp_path/'out', '--pages', 'index', '--mathjax', str(stub))
    assert r.returncode == 1 and 'MathJax did not load' in r.stdout and "raw math left (MathJax did not typeset it): '$x_t$'" in r.stdout, r.stdout
    r = docs_check(site, tmp_path/'out', '--mathjax', str(tmp_path/'none'/'MathJax.js'))
    assert r.returncode == 1 and 'MathJax not found' in r.stderr and 'libjs-mathjax' in r.stderr, r.stderr
