"""`tools/compare_runs.py`: two runs that differ only in timings and their own folders compare equal; a real difference is found."""
import json, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
from compare_runs import compare

def _run(folder: Path, accuracy: float, seconds: float):
    "A small fake run folder: a table with a timing column, a record with the folder's path and a fingerprint."
    (folder / 'fer').mkdir(parents=True)
    (folder / 'fer' / 'fer_real.csv').write_text(f"fold,accuracy,seconds\n0,{accuracy},{seconds}\n")
    (folder / 'run.json').write_text(json.dumps({'source': str(folder / 'data'), 'time': str(seconds), 'fingerprint': str(folder), 'k': 3}))

def test_timings_and_paths_are_set_aside_and_a_result_is_not(tmp_path):
    _run(tmp_path / 'a', 0.5, 1.0); _run(tmp_path / 'b', 0.5, 2.5); _run(tmp_path / 'c', 0.6, 1.0)
    assert compare(tmp_path / 'a', tmp_path / 'b') == []
    assert compare(tmp_path / 'a', tmp_path / 'c') == ['differs: fer/fer_real.csv']
    (tmp_path / 'b' / 'run.json').unlink()
    assert compare(tmp_path / 'a', tmp_path / 'b') == [f"missing in {tmp_path / 'b'}: run.json"]
