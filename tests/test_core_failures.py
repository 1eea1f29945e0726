"""Failure behaviour of the core that needs a second process: a writer killed mid-write."""
import os, signal, subprocess, sys, textwrap

WRITER = textwrap.dedent('''
    import sys, time
    from nfer_sde.core import atomic_write
    with atomic_write(sys.argv[1], 'w') as f:
        f.write('partial ' * 1000); f.flush()
        print('writing', flush=True)
        time.sleep(60)
        f.write('never')
''')

def test_killed_writer_leaves_old_file(tmp_path):
    target = tmp_path / 'results.json'
    target.write_text('old')
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'writing'
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert target.read_text() == 'old'  # never the partial content
    leftovers = [f.name for f in tmp_path.iterdir() if f.name != 'results.json']
    assert all(n.startswith('.results.json.') and n.endswith('.tmp') for n in leftovers)

def test_killed_writer_leaves_no_target(tmp_path):
    target = tmp_path / 'new.pt'
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'writing'
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert not target.exists()
