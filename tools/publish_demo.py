"""Put what `make demo` measured into the documentation: the main table (with its command, time and machine) and
the figure of translations go into the "Results on the built-in data" section of `nbs/index.ipynb`, then the
README is re-rendered. The numbers are copied from the run's own files, never typed.

    python tools/publish_demo.py [runs/demo]     # what `make publish-demo` runs after `make demo`
"""
import json, sys
from pathlib import Path
import nbformat
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FIGURE = Path('images') / 'demo_translations.png'  # relative to nbs/, where the docs and the README find it
FER_FIGURE = Path('images') / 'demo_fer_curve.png'
HEADING = '## Results on the built-in data'
MAX_WIDTH = 1000  # px: enough to read the faces, small enough for the repository

def paired_table(csv: Path) -> str:
    "The translation_quality notebook's NFER-SDE against the paired translators (paired_vs_nfer_sde.csv) as Markdown, rounded."
    import pandas as pd
    if not csv.exists(): return '(the run has no paired translators)'
    t = pd.read_csv(csv)
    num = lambda v: '' if pd.isna(v) else f'{v:.3f}'
    rows = ["| metric | peer | peer's value | nfer-sde | NFER-SDE advantage [95 % CI over folds] | verdict |", '|---|---|---|---|---|---|']
    for _, r in t.iterrows():
        ci = '' if pd.isna(r['ci_low']) else f"{r['nfer-sde advantage']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
        rows.append(f"| {r['metric']} ({r['better']} is better) | {r['peer']} | {num(r['peer value'])} | {num(r['nfer-sde'])} | {ci} | {r['verdict']} |")
    return '\n'.join(rows)

def results_cell(summary_md: str, paired_md: str = '') -> str:
    "The index's results section: what the demo is, the figure, the measured table and its provenance."
    return f"""{HEADING}

These come from the project's **built-in synthetic data** (rendered faces, see `02_synthetic`): they show that
the pipeline works end to end and how the methods compare on that data. They are **not results on Oulu-CASIA**.
Rerun them with `make demo` (seeded: the same machine gives the same numbers); the table is
`runs/demo/main_table.md`, the per-fold tables, confusion matrices and ablations are beside it.

![VIS source, its gray version, each method's translation and the true NIR image of the same face (built-in data)]({FIGURE.as_posix()})

{summary_md.strip()}

FER accuracy: a NIR classifier trained on the fold's real NIR training images plus each method's translations
of the same subjects' VIS images, tested on held-out subjects' real NIR, trained 3 times per fold (seeds): mean ±
std over the 9 runs. FER gain: the paired gain over real NIR only (same fold, same seed), its 95 % t interval
over the folds' mean gains, and in how many runs the method was better; `(n.s.)` marks an interval that holds 0,
a gain these runs do not show. `N% NIR`: the regime with the real NIR of only N % of the training subjects,
where **every translation network is trained on those subjects' NIR alone** (no leak of the withheld NIR) while
the VIS images of all of them are translated: the setting that translation is meant for. On paired data like
this, the all-NIR columns can gain little, since every translated face already has its real NIR image in the
training set.

![NIR FER accuracy against the share of training subjects whose real NIR is kept, mean and 95 % interval over folds (built-in data)]({FER_FIGURE.as_posix()})

The curve: accuracy as the kept share of real NIR shrinks. `make demo` runs the main table's two shares, 33 % and
100 %, for real NIR only, gray and NFER-SDE (the shares 1/6 and 2/3 would add 1.3 min to its half hour); the
`fer_accuracy` notebook's defaults add them and run gray, the best SDE baseline, the best paired translator and
NFER-SDE at every share.

**The paired translators.** `regression` (the same U-Net trained by L1 to map VIS to NIR) and `pix2pix` (L1 and a
PatchGAN, Isola et al. 2017) learn exactly the pairs NFER-SDE's conditional network learns, with the same U-Net and
training steps (`09_train`). They are what a reader of this field tries first. The `translation_quality`
notebook compares them with NFER-SDE metric by metric, paired by fold (and a diversity figure: the per-pixel std
over 3 seeds of one source's translations, 0 for a paired translator):

{paired_md}

A regressor predicts the conditional median, which SSIM and PSNR to the single true image favour; a sampler
draws one plausible NIR image per seed. Which of the two makes the better NIR FER training set is the FER columns'
question above.

SSIM and PSNR compare each translation of a **held-out** (test) subject's VIS image with the true NIR image of the
same face, translated by networks that never saw that subject; `landmark NME (dlib)` is the normalised distance
between the source's landmarks and those that dlib's 68-point model (an observer the guidance never uses) finds on
the translation, and `face found (dlib)` the share where dlib's detector still finds a face; expression consistency
is the accuracy of a classifier trained on real NIR only on the translations; `t0 / T` is each method's start,
chosen per fold on validation subjects of the training subjects. Each ± is the spread over the folds (sample
standard deviation): with the `quick` profile's 3 folds of 6 held-out subjects, a difference smaller than it is not
evidence either way. The ablations
(`runs/demo/ablation/`: each energy and the conditioning removed, no energy at all, the landmark energy on the noisy
pair, on the Tweedie estimate and with a time-conditioned heatmap network, sweeps of t0, steps and weights) are
measured on fold 0's held-out subjects. `make demo` runs the `quick` profile (32 px, 3 folds, small networks trained for one to two
minutes each on two cores); the time above says how long it took on which machine. The paper's protocol is the
`paper` profile (128 px, a GPU; `paper256` at 256 px); `cpu` runs the 10-fold study at 64 px on a CPU. `nfer-sde plan --profile NAME`
(`15_plan`) prints what a profile's study trains and translates and its estimated time on the machine at hand,
from rates it measures there before anything starts."""

def copy_figure(src: Path, dest: Path):
    "Copy a PNG of the run, no wider than `MAX_WIDTH`."
    figure = Image.open(src).convert('RGB')
    if figure.width > MAX_WIDTH: figure = figure.resize((MAX_WIDTH, round(figure.height * MAX_WIDTH / figure.width)), Image.LANCZOS)
    dest.parent.mkdir(exist_ok=True)
    figure.save(dest, optimize=True)

def publish(run_dir: Path, nbs: Path = ROOT / 'nbs'):
    "Copy the figure and the table of the demo run in `run_dir` into `nbs`/index.ipynb's results section."
    record = json.loads((run_dir / 'demo.json').read_text())['run']
    if not record['from_scratch']:
        sys.exit(f"{run_dir}: this demo run was resumed, so its time covers only the last invocation. "
                 f"Delete {run_dir} and run `make demo` again before publishing its time.")
    copy_figure(run_dir / 'translation_quality' / 'translations.png', nbs / FIGURE)
    copy_figure(run_dir / 'fer_accuracy' / 'fer_curve.png', nbs / FER_FIGURE)
    index = nbs / 'index.ipynb'
    nb = nbformat.read(index, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == 'markdown' and c.source.startswith(HEADING)]
    if len(cells) != 1: sys.exit(f"{index}: expected one markdown cell starting with {HEADING!r}, found {len(cells)}.")
    cells[0].source = results_cell((run_dir / 'main_table.md').read_text(),
                                   paired_table(run_dir / 'translation_quality' / 'paired_vs_nfer_sde.csv'))
    nbformat.write(nb, index)
    print(f"updated {index}, {nbs / FIGURE} and {nbs / FER_FIGURE} from {run_dir}")

if __name__ == '__main__':
    publish(Path(sys.argv[1] if len(sys.argv) > 1 else 'runs/demo').resolve())
