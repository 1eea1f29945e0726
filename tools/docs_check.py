"""Offline check of the documentation site, for machines without Quarto.

Processes every notebook in `nbs/` with nbdev's own processors for Quarto (what `nbdev_proc_nbs` hands to Quarto:
directives applied, show_doc cells added, hidden and exported cells gone; for the show_doc cells nbdev executes, in
a fresh kernel, every exported cell and every cell with an import, so a test cell that imports fails the check),
applies the Quarto cell options that remain (`echo`, `output`, `include`), renders the result to HTML with nbconvert
from the saved outputs (no execution), with MathJax served from Debian's `libjs-mathjax` (a file:// URL). It fails on
error outputs saved in a notebook and on widget outputs the static site cannot draw, then opens the key pages in
headless Chromium with every network request but file:// blocked, and fails on JavaScript errors, images that do not
load, formulas MathJax did not typeset (raw `$...$` left in the text, TeX errors) and `#|` directives left on the
page. It saves a screenshot of each.

    python tools/docs_check.py [--out _site_check] [--chromium /usr/bin/chromium] [--mathjax PATH/MathJax.js] [--pages NAME ...] [--no-show-doc]
"""
import argparse, os, re, shutil, sys
from pathlib import Path
import nbformat, yaml
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
PAGES = ('index', 'sde', 'energies', 'sampler', 'explorer')  # opened in the browser: the site's page names (nbdev's `output-file`)
MATHJAX = Path('/usr/share/javascript/mathjax/MathJax.js')  # Debian's libjs-mathjax 2.7 (make docs-deps)
MATHJAX_CONFIG = 'TeX-AMS_CHTML-full,Safe'  # nbconvert's own choice, from the CDN it would use
WIDGET_VIEW, WIDGET_STATE = 'application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']

def notebooks(): return sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)

def saved_errors(nb) -> list[str]:
    "The error outputs saved in a notebook: a page that shows a traceback is a broken page."
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb.cells) if c.cell_type == 'code'
            for o in c.get('outputs', []) if o.get('output_type') == 'error']

def nbdev_processed(path: Path, show_doc: bool = True):
    "The notebook as `nbdev_proc_nbs` writes it for Quarto; with `show_doc`, nbdev's show_doc cells (it executes code for them)."
    from execnb.nbio import read_nb, nb2str
    from nbdev.processors import FilterDefaults, add_show_docs, exec_show_docs
    class SiteProcessors(FilterDefaults):
        def base_procs(self):
            return [p for p in super().base_procs() if show_doc or p not in (add_show_docs, exec_show_docs)]
    nb = read_nb(path)
    SiteProcessors()(nb)  # reads settings.ini from the working directory, as nbdev does
    return nbformat.reads(nb2str(nb), as_version=4)

_re_option = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def cell_options(cell) -> dict:
    "Take the Quarto options (`#| key: value`, which nbdev leaves for Quarto) off the top of a code cell."
    lines = cell.source.splitlines()
    n = next((i for i, l in enumerate(lines) if not _re_option.match(l)), len(lines))
    cell.source = '\n'.join(lines[n:])
    return {m[1]: m[2].strip('\'"').lower() for m in map(_re_option.match, lines[:n])}

def output_file(nb, path: Path) -> str:
    "The page's file name on the site: the `output-file` of nbdev's frontmatter (`01_sde.ipynb` -> `sde.html`)."
    first = nb.cells[0] if nb.cells else None
    has_fm = first is not None and first.cell_type == 'raw' and first.source.lstrip().startswith('---')
    fm = (yaml.safe_load(first.source.strip().strip('-')) or {}) if has_fm else {}
    return fm.get('output-file', path.with_suffix('.html').name)

def frontmatter_cell(cell):
    "The title block Quarto makes of nbdev's frontmatter (raw YAML cell): the title as h1, then the description."
    fm = yaml.safe_load(cell.source.strip().strip('-')) or {}
    return nbformat.v4.new_markdown_cell(f"# {fm.get('title', '')}\n\n{fm.get('description', '')}")

def quarto_applied(nb):
    "Apply what Quarto does to the processed notebook that nbconvert would not: frontmatter, cell options, fenced divs."
    cells = []
    for cell in nb.cells:
        if cell.cell_type == 'raw' and cell.source.lstrip().startswith('---'): cell = frontmatter_cell(cell)
        elif cell.cell_type == 'markdown': cell.source = re.sub(r'^:::.*$', '', cell.source, flags=re.MULTILINE)
        elif cell.cell_type == 'code':
            opts = cell_options(cell)
            if opts.get('include') == 'false': continue
            if opts.get('echo') == 'false': cell.metadata['transient'] = {'remove_source': True}
            if opts.get('output') == 'false': cell.outputs = []
        cells.append(cell)
    nb.cells = cells
    return nb

def undrawable_widgets(nb) -> list[str]:
    "Widget outputs whose state is not saved: the static site cannot draw them (show a static figure instead)."
    state = nb.metadata.get('widgets', {}).get(WIDGET_STATE, {}).get('state', {})
    return [f"cell {c.get('id')}: a widget output the static site cannot draw (no saved widget state): hide it "
            f"(`#| output: false`) and show a static figure" for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])
            if WIDGET_VIEW in o.get('data', {}) and o['data'][WIDGET_VIEW].get('model_id') not in state]

def render_all(out: Path, mathjax: Path = MATHJAX, show_doc: bool = True) -> list[str]:
    "Render every notebook as the site shows it to `out`, the pages loading `mathjax`; return the problems found."
    problems = []
    exporter = HTMLExporter(template_name='lab', mathjax_url=f'{mathjax.as_uri()}?config={MATHJAX_CONFIG}')
    for path in notebooks():
        name = path.relative_to(ROOT)
        problems += [f"{name} {e}" for e in saved_errors(nbformat.read(path, as_version=4))]
        try: nb = nbdev_processed(path, show_doc)
        except Exception as e:  # nbdev_docs stops here: a cell it executes (exported, show_doc, or one with an import) failed
            problems.append(f"{name}: nbdev's docs processors failed: {str(e).splitlines()[0]} {type(e.__cause__).__name__}: "
                            f"{e.__cause__} (move imports out of test cells: tools/split_import_cells.py)"); continue
        dest = out/path.parent.relative_to(ROOT/'nbs')/output_file(nb, path)
        nb = quarto_applied(nb)
        problems += [f"{name} {e}" for e in undrawable_widgets(nb)]
        html, _ = exporter.from_notebook_node(nb)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(html, encoding='utf-8')
    if (ROOT/'nbs'/'images').is_dir(): shutil.copytree(ROOT/'nbs'/'images', out/'images', dirs_exist_ok=True)  # figures the markdown links
    return problems

# In the page: wait for MathJax, then report what a reader would see that the site must not show.
PAGE_REPORT = r"""async () => {
  const r = {mathjax: !!(window.MathJax && MathJax.Hub)};
  if (r.mathjax) await new Promise(done => MathJax.Hub.Queue(done));
  r.typeset = document.querySelectorAll('.MathJax_CHTML, .MathJax, mjx-container').length;
  const mathml = j => { try { return j.root.toMathML(''); } catch (e) { return '<merror>'; } };
  r.tex_errors = r.mathjax ? MathJax.Hub.getAllJax().filter(j => /<merror|mathcolor="red">\\/.test(mathml(j)))  // undefined macros show red
    .map(j => j.originalText).slice(0, 5) : [];
  r.text = document.body.innerText;
  const prose = document.body.cloneNode(true);  // code may hold a `$` of its own: look for raw math in the prose
  prose.querySelectorAll('script, style, pre, code, .jp-CodeCell .jp-InputArea').forEach(e => e.remove());
  r.prose = prose.textContent;
  r.broken_images = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
  r.h1 = document.querySelectorAll('h1').length;
  return r;
}"""

def page_problems(r: dict) -> list[str]:
    "What is wrong with a page, from its `PAGE_REPORT`."
    errors = [] if r['h1'] else ['no title (h1) on the page']
    if not r['mathjax']: errors.append('MathJax did not load (Debian: apt-get install libjs-mathjax)')
    errors += [f'raw math left (MathJax did not typeset it): {m!r}' for m in re.findall(r'\$[^$\n]{1,80}\$', r['prose'])[:5]]
    errors += [f'a formula MathJax could not typeset: {e!r}' for e in r['tex_errors']]
    if '[Math Processing Error]' in r['text']: errors.append('MathJax shows [Math Processing Error]')
    errors += [f'a directive shows on the page: {l.strip()!r}' for l in r['text'].splitlines() if l.lstrip().startswith('#|')][:5]
    errors += [f"image does not load: {src}" for src in r['broken_images']]
    return errors

def browse(out: Path, chromium: str, pages=PAGES) -> list[str]:
    "Open `pages` offline in headless Chromium; return what is wrong with them."
    from playwright.sync_api import sync_playwright
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for name in pages:
            page_path = out/f'{name}.html'
            if not page_path.exists():
                problems.append(f'no page {name}.html was rendered (a notebook renamed? update PAGES in tools/docs_check.py)'); continue
            page = browser.new_page(viewport={'width': 1100, 'height': 1400})
            page.route('**/*', lambda route: route.continue_() if route.request.url.startswith('file:') else route.abort())
            errors = []
            page.on('pageerror', lambda e, errors=errors: errors.append(str(e)))
            page.goto(page_path.as_uri(), wait_until='load')
            report = page.evaluate(PAGE_REPORT)
            errors += page_problems(report)
            page.screenshot(path=str(out/'screenshots'/f'{name}.png'))
            problems += [f"{name}.html: {e}" for e in errors]
            print(f"docs: {name}.html opened, {report['typeset']} formula(s) typeset", flush=True)
            page.close()
        browser.close()
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=str(ROOT/'_site_check'), help='folder for the HTML pages and screenshots')
    ap.add_argument('--chromium', default=shutil.which('chromium') or '/usr/bin/chromium', help='Chromium executable')
    ap.add_argument('--mathjax', type=Path, default=MATHJAX, help="MathJax 2's MathJax.js, loaded by the pages as a file:// URL")
    ap.add_argument('--pages', nargs='+', default=PAGES, help="the pages to open in the browser, by the site's names (sde for nbs/01_sde.ipynb)")
    ap.add_argument('--no-show-doc', dest='show_doc', action='store_false',
                    help="skip nbdev's show_doc cells and the code nbdev executes for them (the notebooks' imports and exports)")
    args = ap.parse_args()
    out = Path(args.out).resolve(); (out/'screenshots').mkdir(parents=True, exist_ok=True)
    if not Path(args.chromium).exists():
        sys.exit(f"{args.chromium}: Chromium not found. Install it (Debian: `apt-get install chromium`) or pass --chromium PATH.")
    if not args.mathjax.exists():
        sys.exit(f"{args.mathjax}: MathJax not found, so the pages' formulas cannot be typeset offline. "
                 "Install it: `make docs-deps` (as root) or `apt-get install libjs-mathjax`.")
    os.chdir(ROOT)  # nbdev's processors read settings.ini from here
    problems = render_all(out, args.mathjax.resolve(), args.show_doc) + browse(out, args.chromium, args.pages)
    for p in problems: print('docs:', p)
    print(f"docs check: {len(notebooks())} notebooks rendered as the site shows them to {out}, screenshots in "
          f"{out/'screenshots'}; {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)

if __name__ == '__main__': main()
