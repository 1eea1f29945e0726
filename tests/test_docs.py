"""The documentation site, checked offline: every notebook renders, the key pages load in headless Chromium
without JavaScript errors (tools/docs_check.py)."""
import shutil, subprocess, sys
import pytest

@pytest.mark.slow
@pytest.mark.skipif(shutil.which('chromium') is None, reason='Chromium not installed (make docs-deps installs it as root)')
def test_docs_render_and_load(root, tmp_path):
    r = subprocess.run([sys.executable, 'tools/docs_check.py', '--out', str(tmp_path)], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path/'index.html').exists() and (tmp_path/'screenshots'/'index.png').stat().st_size > 10_000
