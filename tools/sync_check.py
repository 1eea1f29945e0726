"""Fail when the notebooks and the package disagree: `nbdev_export` must not change `nfer_sde/`,
and `nbdev_clean` must not change `nbs/`. Compares file contents before and after each command,
so it works the same on a clean clone (CI) and in a working tree with uncommitted edits."""
import hashlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def snapshot(folder, pattern):
    "Map every file matching `pattern` under `folder` to the hash of its bytes."
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ROOT/folder).rglob(pattern)) if '.ipynb_checkpoints' not in p.parts}

def changed(before, after): return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))

def check(command, folder, pattern, fix):
    before = snapshot(folder, pattern)
    subprocess.run([str(BIN/command)], cwd=ROOT, check=True)
    diff = changed(before, snapshot(folder, pattern))
    if diff:
        print(f"`{command}` changed {len(diff)} file(s) under {folder}/:", *diff, sep='\n  ')
        print(f"The notebooks are the source: {fix}")
    return not diff

def main():
    ok = check('nbdev_export', 'nfer_sde', '*.py',
               'edit the notebook, run `nbdev_export`, and commit the re-exported package (never edit nfer_sde/ by hand).')
    ok &= check('nbdev_clean', 'nbs', '*.ipynb',
                'run `nbdev_clean` (keeps the `tags` cell metadata papermill needs) and commit the cleaned notebooks.')
    print('notebooks and package in sync' if ok else 'sync check FAILED')
    sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
