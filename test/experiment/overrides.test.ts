import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, inlineValue, overrideText, parseSetFlag } from '../../src/experiment/overrides.ts';
import { gridVariants, parseSweepFlag, randomVariants, splitTopLevel } from '../../src/experiment/sweep-spec.ts';
import { DiagnosticError, formatDiagnostic } from '../../src/engine/diagnostics.ts';

const messages = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DiagnosticError, String(err));
    return err.diagnostics.map(formatDiagnostic);
  }
  assert.fail('expected a DiagnosticError');
};

test('--set values are read as YAML, as the experiment file would read them', () => {
  assert.equal(parseSetFlag('params.lr=3e-4').value, 0.0003);
  assert.equal(parseSetFlag('params.epochs=2').value, 2);
  assert.equal(parseSetFlag('params.flip=true').value, true);
  assert.deepEqual(parseSetFlag('stages.tta.with.transforms=[identity, hflip]').value, ['identity', 'hflip']);
  assert.deepEqual(parseSetFlag('stages.p.with.clahe={clip: 2, tiles: 8}').value, { clip: 2, tiles: 8 });
  assert.equal(parseSetFlag('params.name="3"').value, '3');
  assert.equal(parseSetFlag('params.note=a=b').value, 'a=b', 'only the first = separates path and value');
  assert.deepEqual(parseSetFlag('stages.train.with.lr=1e-3').path, ['stages', 'train', 'with', 'lr']);
  assert.deepEqual(parseSetFlag('stages.p.with.ops.1.clip=3').path, ['stages', 'p', 'with', 'ops', 1, 'clip']);
});

test('a bad --set says it came from the command line, which flag, and what is wrong', () => {
  assert.deepEqual(messages(() => parseSetFlag('params.lr')), ['command line, --set params.lr: error: expected PATH=VALUE, got "params.lr"\n  hint: e.g. --set params.epochs=2 or --set stages.train.with.lr=3e-4']);
  assert.match(messages(() => parseSetFlag('parms.lr=1'))[0], /^command line, --set parms\.lr=1: error: cannot set parms\.lr: the path must start with params, stages, tracking, name, description\n  hint: did you mean "params\.lr"\?/);
  assert.match(messages(() => parseSetFlag('params.x=[1'))[0], /^command line, --set params\.x=\[1: error: the value is not valid YAML/);
  const doc = { params: { lr: 0.001, nested: { a: 1 } }, stages: { train: { uses: 'x', with: { n: '${params.folds}' } } } };
  const problems = messages(() => applyOverrides(doc, ['params.lrr=1', 'stages.trian.with.lr=1', 'params.lr.x=1', 'params.folds=3'].map((t) => parseSetFlag(t))));
  assert.deepEqual(problems, [
    'command line, --set params.lrr=1: error: cannot set params.lrr: the experiment has no param lrr and nothing uses ${params.lrr}\n  hint: did you mean "params.lr"?',
    'command line, --set stages.trian.with.lr=1: error: cannot set stages.trian.with.lr: the experiment has no stage trian\n  hint: did you mean "train"?',
    'command line, --set params.lr.x=1: error: cannot set params.lr.x: params.lr is 0.001, not a mapping',
  ], 'params.folds is used (${params.folds}) though not defined: allowed');
});

test('overrides set values deeply and leave the original document alone', () => {
  const doc = { params: { lr: 0.001 }, stages: { train: { uses: 'x', with: { opt: { lr: 1 } } } } };
  const out = applyOverrides(doc, [parseSetFlag('params.lr=3e-4'), parseSetFlag('stages.train.with.opt.beta=0.9'), parseSetFlag('stages.train.with.new.deep=1')]);
  assert.deepEqual(out, { params: { lr: 0.0003 }, stages: { train: { uses: 'x', with: { opt: { lr: 1, beta: 0.9 }, new: { deep: 1 } } } } });
  assert.equal(doc.params.lr, 0.001);
  assert.equal(overrideText(parseSetFlag('stages.tta.with.transforms=[identity, hflip]')), 'stages.tta.with.transforms=["identity","hflip"]');
  assert.equal(inlineValue('resnet18'), 'resnet18');
  assert.equal(inlineValue('3'), '"3"', 'a string that YAML would read as a number is quoted');
  assert.equal(inlineValue('a, b'), '"a, b"');
});

test('--sweep values: split at top-level commas, each YAML-typed; grid in flag order', () => {
  assert.deepEqual(splitTopLevel('1e-3,3e-4'), ['1e-3', '3e-4']);
  assert.deepEqual(splitTopLevel('[a,b],[c],"x,y",{k: 1, j: 2}'), ['[a,b]', '[c]', '"x,y"', '{k: 1, j: 2}']);
  const lr = parseSweepFlag('params.lr=1e-3,3e-4');
  assert.deepEqual(lr.values, [0.001, 0.0003]);
  const model = parseSweepFlag('params.model=resnet18,resnet34');
  const grid = gridVariants([lr, model]);
  assert.deepEqual(grid.map((v) => [v.name, v.values]), [
    ['v1', { 'params.lr': 0.001, 'params.model': 'resnet18' }],
    ['v2', { 'params.lr': 0.001, 'params.model': 'resnet34' }],
    ['v3', { 'params.lr': 0.0003, 'params.model': 'resnet18' }],
    ['v4', { 'params.lr': 0.0003, 'params.model': 'resnet34' }],
  ]);
  assert.deepEqual(grid[2].overrides.map((o) => o.flag), ['--sweep params.lr=0.0003', '--sweep params.model=resnet18']);
  assert.match(messages(() => gridVariants([parseSweepFlag('params.lr=loguniform(1e-4,1e-2)')]))[0], /a range \(loguniform\) is sampled, not listed\n  hint: add --sweep-random N/);
  assert.match(messages(() => parseSweepFlag('params.lr=uniform(1,1)'))[0], /uniform\(low, high\) needs two numbers with low < high/);
  assert.match(messages(() => parseSweepFlag('params.lr=loguniform(0,1)'))[0], /loguniform needs low > 0/);
  assert.match(messages(() => parseSweepFlag('params.lr=1e-3,,2'))[0], /no empty value/);
});

test('random search: seeded, within the ranges, distinct variants', () => {
  const axes = [parseSweepFlag('params.lr=loguniform(1e-4,1e-2)'), parseSweepFlag('params.batch=int(16,18)'), parseSweepFlag('params.model=choice(a,b)'), parseSweepFlag('params.drop=uniform(0.1,0.5)')];
  const a = randomVariants(axes, 12, 7);
  assert.deepEqual(randomVariants(axes, 12, 7), a, 'same seed, same variants');
  assert.notDeepEqual(randomVariants(axes, 12, 8), a);
  assert.equal(a.length, 12);
  assert.equal(new Set(a.map((v) => JSON.stringify(v.values))).size, 12);
  const batches = new Set<unknown>();
  for (const v of a) {
    const lr = v.values['params.lr'] as number;
    assert.ok(lr >= 1e-4 && lr <= 1e-2, `lr ${lr}`);
    assert.equal(Number(lr.toPrecision(4)), lr, 'rounded to 4 significant digits');
    assert.ok([16, 17, 18].includes(v.values['params.batch'] as number));
    batches.add(v.values['params.batch']);
    assert.ok(['a', 'b'].includes(v.values['params.model'] as string));
    const drop = v.values['params.drop'] as number;
    assert.ok(drop >= 0.1 && drop <= 0.5);
  }
  assert.equal(batches.size, 3, 'int(16,18) includes both ends');
  // log-uniform: about as many draws below 1e-3 (the geometric middle) as above, over many draws.
  const many = randomVariants([parseSweepFlag('params.lr=loguniform(1e-4,1e-2)')], 400, 1);
  const below = many.filter((v) => (v.values['params.lr'] as number) < 1e-3).length;
  assert.ok(below > 150 && below < 250, `${below} of 400 below 1e-3`);
  // Only 2 distinct combinations exist: asking for 5 gives 2.
  assert.equal(randomVariants([parseSweepFlag('params.model=a,b')], 5, 0).length, 2);
});
