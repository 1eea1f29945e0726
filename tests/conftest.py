import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a check that takes more than a few seconds (make test runs it; make test-fast skips it)')

@pytest.fixture
def root(): return ROOT

@pytest.fixture
def bin_dir(): return BIN
