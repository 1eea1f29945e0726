"""`fer.paired_gains` and `fer.format_gain` on planted runs' tables with known answers: the interval, the pairing by
(fold, seed), and the refusal of unpaired runs."""
import math
import numpy as np
import pandas as pd
import pytest
from nfer_sde.fer_protocol import format_gain, paired_gains

T_975_2 = 4.302652729911275  # Student's t, 97.5 % quantile, 2 degrees of freedom (3 folds)

def runs(gains, folds=3, seeds=3, name='training set', seed=0):
    "A runs' table: 'real' at random accuracies per (fold, seed), 'new' = 'real' + `gains` (folds x seeds, fold-major)."
    f, s = np.repeat(range(folds), seeds), np.tile(range(seeds), folds)
    real = np.random.default_rng(seed).uniform(0.4, 0.8, folds * seeds)
    return pd.concat([pd.DataFrame({name: m, 'fold': f, 'seed': s, 'accuracy': real + g})
                      for m, g in [('real', 0.), ('new', np.asarray(gains, float))]], ignore_index=True)

def test_a_constant_gain_has_a_zero_width_interval_around_it():
    g = paired_gains(runs(np.full(9, 0.07)), 'real').loc['new']
    assert g['mean'] == pytest.approx(0.07) and g['ci_low'] == pytest.approx(0.07) and g['ci_high'] == pytest.approx(0.07)
    assert g['shown'] and (g['better'], g['runs'], g['folds']) == (9, 9, 3)

def test_a_gain_of_mean_zero_is_covered_with_the_t_interval_over_fold_means():
    g = paired_gains(runs([0.05, 0.06, 0.07, -0.03, -0.02, -0.01, -0.05, -0.04, -0.03], name='method'), 'real').loc['new']
    half = T_975_2 * np.std([0.06, -0.02, -0.04], ddof=1) / math.sqrt(3)  # folds are the units: df = 2, not 8
    assert g['mean'] == pytest.approx(0, abs=1e-12) and g['ci_high'] == pytest.approx(half) and g['ci_low'] == pytest.approx(-half)
    assert not g['shown'] and format_gain(g).endswith(' (n.s.)')

def test_pairing_is_by_fold_and_seed():
    seed_effect = np.tile([-0.1, 0., 0.1], 3)  # a training seed moves both training sets alike
    t = runs(np.full(9, 0.02)).assign(accuracy=lambda d: d['accuracy'] + np.tile(seed_effect, 2))
    paired = paired_gains(t, 'real').loc['new']
    is_new = t['training set'] == 'new'
    shuffled = paired_gains(t.assign(seed=np.where(is_new, (t['seed'] + 1) % 3, t['seed'])), 'real').loc['new']
    assert paired['better'] == 9 and shuffled['better'] < 9  # another pairing, another result
    assert shuffled['mean'] == pytest.approx(paired['mean'])  # seeds are averaged within a fold first
    refolded = paired_gains(t.assign(fold=np.where(is_new, (t['fold'] + 1) % 3, t['fold'])), 'real').loc['new']
    assert refolded['ci_high'] - refolded['ci_low'] > paired['ci_high'] - paired['ci_low'] + 0.01

def test_unpaired_runs_and_bad_tables_are_refused():
    t = runs(np.zeros(9))
    with pytest.raises(ValueError, match=r"'new' and 'real' are not paired at \('fold', 'seed'\) = \[\(1, 2\)\]"):
        paired_gains(t.drop(index=t.index[(t['training set'] == 'new') & (t['fold'] == 1) & (t['seed'] == 2)]), 'real')
    with pytest.raises(ValueError, match='not paired'):  # a baseline run missing is as bad
        paired_gains(t.drop(index=0), 'real')
    with pytest.raises(ValueError, match="no runs of the baseline 'gray'"): paired_gains(t, 'gray')
    with pytest.raises(ValueError, match='more than one run'): paired_gains(pd.concat([t, t.iloc[:1]]), 'real')
    with pytest.raises(ValueError, match="lacks the column"): paired_gains(t.drop(columns='seed'), 'real')

def test_format_gain():
    row = dict(mean=0.119, ci_low=0.01, ci_high=0.23, better=8, runs=9, shown=True)
    assert format_gain(row) == '+0.119 [+0.010, +0.230] (8/9)'
    assert format_gain({**row, 'ci_low': -0.01, 'shown': False}) == '+0.119 [-0.010, +0.230] (8/9) (n.s.)'
    assert format_gain({**row, 'ci_low': math.nan, 'ci_high': math.nan, 'shown': False}).endswith('(8/9) (n.s.)')
