"""Offline check of the documentation site, for machines without Quarto.

Renders every notebook in `nbs/` to HTML with nbconvert from its saved outputs (no execution), fails on error
outputs saved in a notebook, opens the index and the sampler pages in headless Chromium with every network
request blocked, fails on JavaScript errors and images that do not load in those pages, and saves a screenshot
of each.

    python tools/docs_check.py [--out _site_check] [--chromium /usr/bin/chromium]
"""
import argparse, shutil, sys
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
PAGES = ('index', '08_sampler')  # opened in the browser; the sampler page once it exists
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']

def notebooks(): return sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)

def saved_errors(nb) -> list[str]:
    "The error outputs saved in a notebook: a page that shows a traceback is a broken page."
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb.cells) if c.cell_type == 'code'
            for o in c.get('outputs', []) if o.get('output_type') == 'error']

def render_all(out: Path) -> list[str]:
    "Render every notebook to `out`; return the problems found."
    problems, exporter = [], HTMLExporter(template_name='lab')
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        problems += [f"{path.relative_to(ROOT)} {e}" for e in saved_errors(nb)]
        html, _ = exporter.from_notebook_node(nb)
        dest = out/path.relative_to(ROOT/'nbs').with_suffix('.html')
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(html, encoding='utf-8')
    if (ROOT/'nbs'/'images').is_dir(): shutil.copytree(ROOT/'nbs'/'images', out/'images', dirs_exist_ok=True)  # figures the markdown links
    return problems

def browse(out: Path, chromium: str) -> list[str]:
    "Open the key pages offline in headless Chromium; return JavaScript errors and missing pages."
    from playwright.sync_api import sync_playwright
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for name in PAGES:
            page_path = out/f'{name}.html'
            if not page_path.exists():
                if name == 'index': problems.append('nbs/index.ipynb did not render')
                continue
            page = browser.new_page(viewport={'width': 1100, 'height': 1400})
            page.route('**/*', lambda route: route.continue_() if route.request.url.startswith('file:') else route.abort())
            errors = []
            page.on('pageerror', lambda e, errors=errors: errors.append(str(e)))
            page.goto(page_path.as_uri(), wait_until='load')
            if not page.locator('h1').count(): errors.append('no title (h1) on the page')
            broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
            errors += [f"image does not load: {src}" for src in broken]
            page.screenshot(path=str(out/'screenshots'/f'{name}.png'))
            problems += [f"{name}.html: {e}" for e in errors]
            page.close()
        browser.close()
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=str(ROOT/'_site_check'), help='folder for the HTML pages and screenshots')
    ap.add_argument('--chromium', default=shutil.which('chromium') or '/usr/bin/chromium', help='Chromium executable')
    args = ap.parse_args()
    out = Path(args.out); (out/'screenshots').mkdir(parents=True, exist_ok=True)
    if not Path(args.chromium).exists():
        sys.exit(f"{args.chromium}: Chromium not found. Install it (Debian: `apt-get install chromium`) or pass --chromium PATH.")
    problems = render_all(out) + browse(out, args.chromium)
    for p in problems: print('docs:', p)
    print(f"docs check: {len(notebooks())} notebooks rendered to {out}, screenshots in {out/'screenshots'}; "
          f"{len(problems)} problem(s)")
    sys.exit(1 if problems else 0)

if __name__ == '__main__': main()
