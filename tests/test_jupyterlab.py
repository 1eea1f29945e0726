"""`jupyter lab nbs/` as a user meets it: JupyterLab opens the explorer without asking for a kernel, runs all its cells,
and the explorer's figure is redrawn when one of its controls is moved (headless Chromium through playwright)."""
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

NOTEBOOK = '13_explorer.ipynb'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync']
RUN_TIMEOUT = 240  # s for Run All on a 2-core machine without a GPU (about 20 s of computing there)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which('chromium') is None, reason='Chromium not installed (make docs-deps installs it as root)')]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def lab_env(home: Path) -> dict:
    "The environment of a first-time user: own Jupyter config, data, settings and workspaces; JupyterLab's news and update checks off (offline)."
    env = {k: v for k, v in os.environ.items() if not k.startswith(('JUPYTER', 'MPLBACKEND'))}  # a figure shows as a user sees it
    dirs = dict(JUPYTER_CONFIG_DIR='config', JUPYTER_DATA_DIR='data', JUPYTER_RUNTIME_DIR='runtime', IPYTHONDIR='ipython',
                JUPYTERLAB_SETTINGS_DIR='settings', JUPYTERLAB_WORKSPACES_DIR='workspaces')
    env |= {k: str(home/v) for k, v in dirs.items()} | {'HOME': str(home), 'OMP_NUM_THREADS': '1'}
    notification = home/'settings'/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings'
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    return env

def api(url: str, token: str, method: str = 'GET'):
    req = urllib.request.Request(url, method=method, headers={'Authorization': f'token {token}'})
    with urllib.request.urlopen(req, timeout=10) as r: return json.loads(r.read() or b'null')

@pytest.fixture
def lab(root, tmp_path):
    "JupyterLab on a free local port with a token, serving a copy of the notebook (its autosave must not touch nbs/)."
    nbs = tmp_path/'nbs'; nbs.mkdir()
    shutil.copy(root/'nbs'/NOTEBOOK, nbs)
    if (root/'nbs'/'images').is_dir(): shutil.copytree(root/'nbs'/'images', nbs/'images')
    port, token = free_port(), secrets.token_hex(16)
    base = f'http://127.0.0.1:{port}/'
    log = open(tmp_path/'lab.log', 'w')
    server = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--allow-root', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
                               '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={nbs}'],
                              env=lab_env(tmp_path/'home'), cwd=nbs, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(120):
            try: api(base + 'api/status', token); break
            except OSError: assert server.poll() is None, (tmp_path/'lab.log').read_text(); time.sleep(0.5)
        else: pytest.fail('JupyterLab did not answer in 60 s:\n' + (tmp_path/'lab.log').read_text())
        yield base, token
    finally:
        stop_lab(server, base, token)
        log.close()

def stop_lab(server, base: str, token: str):
    "Shut the kernels and the server down through the API; end the server's own process group if it hangs."
    if server.poll() is not None: return
    try:
        for k in api(base + 'api/kernels', token): api(base + f"api/kernels/{k['id']}", token, 'DELETE')
        api(base + 'api/shutdown', token, 'POST')
        server.wait(30)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGTERM)
        try: server.wait(10)
        except subprocess.TimeoutExpired: os.killpg(server.pid, signal.SIGKILL); server.wait()

def wait_for_kernel(page, base: str, token: str):
    "Wait until the notebook's kernel runs and is idle, or a dialog asks the user something; the dialogs shown."
    idle, dialogs = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]'), page.locator('.jp-Dialog')
    for _ in range(180):
        kernels = [s for s in api(base + 'api/sessions', token) if s['path'].endswith(NOTEBOOK) and s.get('kernel')]
        if dialogs.count() or kernels and idle.count(): break
        time.sleep(0.5)
    else: pytest.fail('the notebook did not start its kernel in 90 s')
    page.wait_for_timeout(1000)  # a dialog that follows the kernel's start (e.g. a kernel that died) has shown by now
    return dialogs

# Where Run All stands: prompts still queued or running ([*]), prompts never run ([ ]), and the tracebacks shown.
RUN_STATE = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
  const errors = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent).filter(t => t.includes('Traceback') || /\\w+Error\\b/.test(t));
  return {busy: prompts.filter(p => p.includes('*')).length, unrun: prompts.filter(p => !/\\[\\d+\\]/.test(p)).length,
          cells: prompts.length, errors};
}"""

def click_run_all(page):
    "Run All Cells from the Run menu, as a user does (again if the click came before the notebook was ready for it)."
    for _ in range(3):
        page.locator('.jp-Notebook .jp-Cell').first.click()  # the notebook active, as after a user's first click
        page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
        page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
        for _ in range(20):
            s = page.evaluate(RUN_STATE)
            if s['busy'] or s['unrun'] < s['cells']: return
            time.sleep(0.5)
    pytest.fail(f'Run All Cells did not start the cells: {page.evaluate(RUN_STATE)}')

def run_all(page) -> dict:
    "Run all cells; wait until every cell ran or one failed."
    click_run_all(page)
    deadline = time.time() + RUN_TIMEOUT
    while time.time() < deadline:
        s = page.evaluate(RUN_STATE)
        if s['errors'] and not s['busy'] or not s['unrun'] and not s['busy']: return s
        time.sleep(1)
    pytest.fail(f'Run All did not finish in {RUN_TIMEOUT} s: {page.evaluate(RUN_STATE)}')

def figure_src(page) -> str:
    "The explorer's figure (the image in its output widget), as the src of the <img>."
    return page.locator('.widget-vbox img').first.get_attribute('src')

def redrawn(page, before: str, what: str) -> str:
    "Wait until the explorer's figure differs from `before`; the new one."
    for _ in range(120):
        imgs = page.locator('.widget-vbox img')
        if imgs.count() and (src := imgs.first.get_attribute('src')) != before: return src
        time.sleep(0.5)
    pytest.fail(f'the figure was not redrawn after {what}; status: {page.locator(".widget-vbox .widget-html").first.inner_text()}')

def test_explorer_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright
    base, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1500, 'height': 1000})
        page.route('**/*', lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())  # offline
        page.goto(f'{base}lab/tree/{NOTEBOOK}?token={token}')
        dialogs = wait_for_kernel(page, base, token)
        assert dialogs.count() == 0, f'a dialog asks the user: {dialogs.first.inner_text()}'  # e.g. "Select Kernel"

        state = run_all(page)
        assert not state['errors'], 'Run All raised:\n' + '\n'.join(state['errors'])[-3000:]
        before = figure_src(page)  # the last figure the notebook's own cells drew in the explorer
        assert before and before.startswith('data:image/png'), before

        # The notebook's tests leave the explorer on a file without a face and with auto off: a user turns auto back
        # on, picks the built-in face, then moves a control.
        page.locator('.widget-checkbox', has=page.get_by_text('auto', exact=True)).locator('input').check()
        page.locator('.widget-toggle-button', has_text='built-in').click()
        built_in = redrawn(page, before, 'choosing the built-in face')
        page.locator('.widget-dropdown', has=page.get_by_text('method', exact=True)).locator('select').select_option('nfer-sde')
        redrawn(page, built_in, "choosing the method 'nfer-sde'")
        assert 'error' not in page.locator('.widget-vbox .widget-html').first.inner_text()
        page.locator('.widget-vbox').first.screenshot(path=str(tmp_path/'explorer.png'))  # what the docs show of the explorer
        browser.close()
