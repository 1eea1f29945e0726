"""Move the imports of the notebooks' test and demo cells into an import-only cell just before each, as nbdev's FAQ asks.

`nbdev_docs` (processor `exec_show_docs`) executes, in a fresh kernel, every cell that holds an import statement
anywhere in it, so a test cell that also imports runs without the names earlier (unexecuted) cells define, and the
docs build crashes or trains networks. This script takes, from each non-exported code cell with imports and other
code, its top-level imports and the imports nested in a `def` or `with` (not those in an `if`, nor those a `try`
guards against ImportError: an optional dependency stays where it is, and the script says so, since nbdev will still
run that cell) and puts them, in order, in a new cell just before it with the same display and test-flag
directives. The split cell keeps its id and outputs. Idempotent: a notebook already split is left as it is.

    python tools/split_import_cells.py nbs/01_sde.ipynb [nbs/07_energies.ipynb ...]
"""
import argparse, ast, configparser, re
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = {'export', 'exports', 'exporti', 'exec_doc'}  # nbdev executes these cells anyway
SHARED_DIRECTIVES = {'hide', 'echo', 'include', 'output'}  # how a cell shows: the import cell shows the same way
GUARDS = {'ImportError', 'ModuleNotFoundError', 'Exception', 'BaseException'}
_re_directive = re.compile(r'^\s*#\s*\|\s*([\w-]+)')

def test_flags() -> set[str]:
    "The flags (`tst_flags` in settings.ini) that make `nbdev_test` skip a cell: the import cell skips with it."
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    return set(cfg.get('DEFAULT', 'tst_flags', fallback='').split())

def split_directives(source: str) -> tuple[list[str], list[str]]:
    "The leading `#|` directive lines of a cell, and its code lines (as nbdev's `first_code_ln` splits them)."
    lines = source.splitlines()
    n = next((i for i, l in enumerate(lines) if l.strip() and not _re_directive.match(l)), len(lines))
    return lines[:n], lines[n:]

def directive_names(lines) -> set[str]: return {m[1] for m in map(_re_directive.match, lines) if m}

def is_import(node) -> bool: return isinstance(node, (ast.Import, ast.ImportFrom))

def guards_imports(node) -> bool:
    "Whether `node` is a `try` that catches a failed import (the optional-dependency pattern)."
    if not isinstance(node, ast.Try): return False
    names = {getattr(n, 'id', getattr(n, 'attr', None)) for h in node.handlers
             for n in ([h.type] if not isinstance(h.type, ast.Tuple) else h.type.elts)} if node.handlers else set()
    return any(h.type is None for h in node.handlers) or bool(names & GUARDS)

def hoistable_imports(body) -> tuple[list, list]:
    "The imports to move (top level, or nested in a def or with) and those that stay (in an `if`, or a guarded `try`)."
    move, stay = [], []
    def visit(nodes, nested):
        for n in nodes:
            if is_import(n): (stay if nested == 'stay' else move).append(n); continue
            conditional = isinstance(n, (ast.If, ast.While, ast.For, ast.Match, ast.ClassDef))  # a class binds its imports as attributes
            kind = 'stay' if nested == 'stay' or conditional or guards_imports(n) else 'ok'
            for field in ('body', 'orelse', 'finalbody', 'handlers', 'cases'):
                visit(getattr(n, field, []) or [], kind)
    visit(body, None)
    return move, stay

def bound_names(node) -> set[str]: return {(a.asname or a.name).split('.')[0] for a in node.names}

def clashes(node, body) -> set[str]:
    "Names the import binds that the cell uses before it, or assigns: moving the import would change what they mean."
    names, at = bound_names(node), (node.lineno, node.col_offset)
    return {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id in names
            and ((n.lineno, n.col_offset) < at or isinstance(n.ctx, ast.Store))}

def cut(lines: list[str], node) -> str:
    "Remove `node`'s text from `lines` (its whole lines, with their comment, when it has them alone); return the text."
    first, last = node.lineno - 1, node.end_lineno - 1
    before, after = lines[first][:node.col_offset], lines[last][node.end_col_offset:]
    if not before.strip() and (not after.strip() or after.strip().startswith('#')):
        text = '\n'.join(l[node.col_offset:] for l in lines[first:last + 1])
        for i in range(first, last + 1): lines[i] = None
        return text
    if last > first: raise ValueError(f"line {node.lineno}: a multi-line import that shares its line with other code")
    # shares its line with other statements (`import pickle; test_eq(...)`): take the statement and its `;`
    text, rest = lines[first][node.col_offset:node.end_col_offset], re.sub(r'^\s*;\s*', '', after)
    lines[first] = (before.rstrip().rstrip(';').rstrip() + ('; ' + rest if rest.strip() else '')) if before.strip() else before + rest
    return text

def tidy(lines: list) -> list[str]:
    "The code lines left after the cuts: no blank lines at the ends, no blank runs the cuts made longer."
    out, prev_blank = [], True
    for l in lines:
        if l is None: continue
        blank = not l.strip()
        if blank and prev_blank: continue
        out.append(l); prev_blank = blank
    while out and not out[-1].strip(): out.pop()
    return out

def split_cell(cell, flags: set[str]):
    "The import cell to put before `cell` (whose source it edits), or None; and the notes on what stays."
    dirs, code = split_directives(cell.source)
    names = directive_names(dirs)
    if names & EXPORTED or any(re.match(r'^\s*#\s*\|\s*eval\s*:\s*false', l, re.I) for l in dirs): return None, []
    if not code or code[0].lstrip()[:1] in ('%', '!'): return None, []
    try: body = ast.parse('\n'.join(code)).body
    except SyntaxError: return None, []  # line magics: nbdev cannot parse the cell, so never executes it
    move, stay = hoistable_imports(body)
    notes = [f"line {n.lineno}: `{ast.unparse(n)}` stays (guarded or conditional): nbdev still runs this cell" for n in stay]
    if not move or all(map(is_import, body)): return None, notes
    clash = {n for node in move for n in clashes(node, body)}
    if clash: return None, notes + [f"not split: {sorted(clash)} used before their import, or assigned"]
    try: texts = [cut(code, n) for n in sorted(move, key=lambda n: (n.lineno, n.col_offset))]
    except ValueError as e: return None, notes + [f"not split: {e}"]
    rest = tidy(code)
    try:
        if not ast.parse('\n'.join(rest)).body: raise SyntaxError('nothing left')
    except SyntaxError as e: return None, notes + [f"not split: the cell would not parse without its imports ({e})"]
    cell.source = '\n'.join(dirs + rest)
    shared = [l for l in dirs if (m := _re_directive.match(l)) and m[1] in SHARED_DIRECTIVES | flags]
    return nbformat.v4.new_code_cell('\n'.join(shared + list(dict.fromkeys(texts)))), notes

def split_notebook(path: Path, flags: set[str]) -> list[str]:
    "Split the cells of the notebook at `path` in place; return what was done."
    nb = nbformat.read(path, as_version=4)
    cells, report = [], []
    for i, cell in enumerate(nb.cells):
        imports, notes = split_cell(cell, flags) if cell.cell_type == 'code' else (None, [])
        if imports is not None:
            cells.append(imports)
            report.append(f"cell {i} (id {cell.get('id')}): {len(imports.source.splitlines())} import line(s) moved to new cell {imports.id}")
        report += [f"cell {i} (id {cell.get('id')}): {n}" for n in notes]
        cells.append(cell)
    if len(cells) != len(nb.cells):
        nb.cells = cells
        nb.nbformat, nb.nbformat_minor = 4, max(nb.nbformat_minor, 5)  # cell ids
        nbformat.validate(nb)
        nbformat.write(nb, path)
    return report

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('notebooks', nargs='+', type=Path)
    flags = test_flags()
    for path in ap.parse_args().notebooks:
        report = split_notebook(path, flags)
        print(f"{path}: {'unchanged' if not any('moved' in r for r in report) else 'split'}", *report, sep='\n  ')

if __name__ == '__main__': main()
