import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadExperiment } from '../../src/experiment/load.ts';
import { DiagnosticError, formatDiagnostic } from '../../src/engine/diagnostics.ts';
import { workspace } from '../support/workspace.ts';

async function diagnose(yaml: string, files: Record<string, string> = {}) {
  const ws = await workspace(yaml, files);
  try {
    await loadExperiment(ws.file);
  } catch (err) {
    assert.ok(err instanceof DiagnosticError, `expected a DiagnosticError, got ${err}`);
    return err.diagnostics.map((d) => ({ ...d, location: d.location && { ...d.location, file: d.location.file.replace(ws.dir + '/', '') } }));
  }
  assert.fail('expected the experiment to be rejected');
}

test('YAML syntax error: an unclosed bracket or quote is located where it opens, not where the parser gave up', async () => {
  const [d] = await diagnose('stages:\n  a: { uses: x\n  b: { uses: y }\n');
  assert.match(d.message, /^YAML syntax error/);
  assert.deepEqual(d.location, { file: 'exp.yaml', line: 2, col: 6 });
  assert.equal(d.hint, 'this { is never closed');
  const [list] = await diagnose('name: x\nparams: [a\nstages: {}\n');
  assert.deepEqual([list.location?.line, list.location?.col, list.hint], [2, 9, 'this [ is never closed']);
  const [quote] = await diagnose('stages:\n  a:\n    uses: command\n    with:\n      run: "echo\n');
  assert.deepEqual([quote.location?.line, quote.location?.col, quote.hint], [5, 12, 'this " is never closed']);
  const [single] = await diagnose("name: 'x\nstages: {}\n");
  assert.deepEqual([single.location?.line, single.location?.col], [1, 7]);
});

test('a key defined twice: located at the second, the hint names the line of the first', async () => {
  const diags = await diagnose('stages:\n  convert: { uses: command, with: { run: "true" } }\n  train: { uses: command, with: { run: "a", env: { A: 1, B: 2, A: 3 } } }\n  convert: { uses: command, with: { run: "false" } }\n');
  assert.deepEqual(diags.map((d) => [d.location?.line, d.location?.col, d.message, d.hint]), [
    [3, 64, 'YAML syntax error: key "A" appears twice in the same mapping', 'first at line 3; YAML does not let the second override the first: rename one or merge them'],
    [4, 3, 'YAML syntax error: key "convert" appears twice in the same mapping', 'first at line 2; YAML does not let the second override the first: rename one or merge them'],
  ]);
});

test('unknown stage type: located at uses, with did-you-mean', async () => {
  const [d] = await diagnose('stages:\n  run_cmd:\n    uses: comand\n    with: { run: "true" }\n');
  assert.equal(d.message, 'unknown stage type "comand" in stage run_cmd');
  assert.deepEqual(d.location, { file: 'exp.yaml', line: 3, col: 11 });
  assert.equal(d.hint, 'did you mean "command"?');
});

test('unknown param: located at the key, with did-you-mean from the stage schema', async () => {
  const [d] = await diagnose('stages:\n  c:\n    uses: command\n    with:\n      run: "true"\n      metrix: m.json\n');
  assert.equal(d.message, 'stage c (command): unknown param with.metrix');
  assert.deepEqual(d.location, { file: 'exp.yaml', line: 6, col: 7 });
  assert.equal(d.hint, 'did you mean "metrics"?');
});

test('invalid param value: zod path mapped to the YAML node', async () => {
  const [d] = await diagnose('stages:\n  c:\n    uses: command\n    with:\n      run: "true"\n      kind: modle\n');
  assert.match(d.message, /^stage c \(command\): with\.kind: /);
  assert.deepEqual(d.location, { file: 'exp.yaml', line: 6, col: 13 });
});

test('missing required param: located at the with: block', async () => {
  const [d] = await diagnose('stages:\n  c:\n    uses: command\n    with:\n      kind: files\n');
  assert.match(d.message, /with\.run/);
  assert.equal(d.location?.line, 5);
});

test('dependency cycle: named, located at a from:', async () => {
  const [d] = await diagnose('stages:\n  a: { uses: command, from: c, with: { run: "true" } }\n  b: { uses: command, from: a, with: { run: "true" } }\n  c: { uses: command, from: b, with: { run: "true" } }\n');
  assert.equal(d.message, 'dependency cycle: a -> b -> c -> a');
  assert.equal(d.location?.line, 2);
});

test('from: naming a missing stage: located, with did-you-mean', async () => {
  const [d] = await diagnose('stages:\n  ingest: { uses: command, with: { run: "true" } }\n  convert: { uses: command, from: ingset, with: { run: "true" } }\n');
  assert.equal(d.message, 'stage convert reads from "ingset", which is not a stage of this experiment');
  assert.deepEqual(d.location, { file: 'exp.yaml', line: 3, col: 35 });
  assert.equal(d.hint, 'did you mean "ingest"?');
});

test('missing input file or folder: located at the param that names it', async () => {
  const [d] = await diagnose('stages:\n  c:\n    uses: command\n    with:\n      run: "true"\n      deps: [script.py, missing.csv]\n', { 'script.py': '' });
  assert.match(d.message, /^stage c: deps\.1 names a file or folder that does not exist: .*missing\.csv$/);
  assert.deepEqual(d.location, { file: 'exp.yaml', line: 6, col: 25 });
});

test('a missing path built from an environment variable (through params) names the variable and its value', async () => {
  const ws = await workspace('params: { data: "${env.MY_DATA_DIR:-data/x}" }\nstages:\n  c: { uses: command, with: { run: "true", deps: ["${params.data}/a.csv", "${env.OTHER_DIR}/b.csv", plain.csv] } }\n');
  const hints = async (env: Record<string, string>) => {
    const err = await loadExperiment(ws.file, { env }).catch((e) => e);
    assert.ok(err instanceof DiagnosticError, String(err));
    return err.diagnostics.map((d) => d.hint);
  };
  assert.deepEqual(await hints({ OTHER_DIR: '/o' }), [
    'paths are relative to the experiment file; this path comes from $MY_DATA_DIR (not set)',
    'paths are relative to the experiment file; this path comes from $OTHER_DIR=/o',
    'paths are relative to the experiment file',
  ]);
  assert.equal((await hints({ MY_DATA_DIR: '/d', OTHER_DIR: '/o' }))[0], 'paths are relative to the experiment file; this path comes from $MY_DATA_DIR=/d');
});

test('unknown ${params.x}: located at the string, with did-you-mean', async () => {
  const [d] = await diagnose('params: { size: 64 }\nstages:\n  c: { uses: command, with: { run: "echo ${params.sise}" } }\n');
  assert.equal(d.message, 'unknown param params.sise in ${params.sise}');
  assert.equal(d.hint, 'did you mean params.size?');
  assert.equal(d.location?.line, 3);
});

test('several problems are reported together, printed compiler-style', async () => {
  const diags = await diagnose('stages:\n  a: { uses: nope }\n  b: { uses: command, from: zzz, with: { run: "true" } }\n');
  assert.equal(diags.length, 2);
  assert.match(formatDiagnostic(diags[0] as any), /^exp\.yaml:2:14: error: unknown stage type "nope" in stage a/);
});

test('extends: template stages and params merged with experiment overrides; errors located in the file that has the node', async () => {
  const ws = await workspace('extends: pipelines/t.yaml\nparams: { n: 7 }\nstages:\n  extra: { uses: command, from: c, with: { run: "echo ${params.greeting}" } }\n  removed: null\n');
  await mkdir(join(ws.dir, 'pipelines'));
  await writeFile(join(ws.dir, 'pipelines/t.yaml'), 'params: { n: 1, greeting: hi }\nstages:\n  c: { uses: command, with: { run: "echo ${params.n}", env: { A: x } } }\n  removed: { uses: command, with: { run: "true" } }\n');
  const exp = await loadExperiment(ws.file);
  assert.equal(exp.name, 'exp');
  assert.deepEqual(exp.stageIds, ['c', 'extra']);
  assert.equal((exp.instances[0].params as any).run, 'echo 7');
  assert.equal((exp.instances[1].params as any).run, 'echo hi');
  await writeFile(join(ws.dir, 'pipelines/t.yaml'), 'stages:\n  c: { uses: command, with: { run: "true", kind: bad } }\n');
  await writeFile(ws.file, 'extends: pipelines/t.yaml\n');
  await assert.rejects(loadExperiment(ws.file), (err: DiagnosticError) => err.diagnostics[0].location!.file.endsWith('pipelines/t.yaml') && err.diagnostics[0].location!.line === 2);
});

test('interpolation keeps types: whole-string params keep theirs, env numbers in params: become numbers, defaults apply', async () => {
  const ws = await workspace('params: { n: "${env.PIPELINE_TEST_NUM:-7}", name: x }\nstages:\n  c: { uses: command, with: { run: "echo ${params.name}-${env.PIPELINE_TEST_UNSET:-d}", env: { A: "${env.PIPELINE_TEST_NUM}" } } }\n  d: { uses: command, foreach: { i: "range(${params.n})" }, with: { run: "true" } }\n');
  const exp = await loadExperiment(ws.file, { env: { PIPELINE_TEST_NUM: '2' } });
  assert.equal(exp.params.n, 2);
  assert.equal((exp.instances[0].params as any).run, 'echo x-d');
  assert.equal((exp.instances[0].params as any).env.A, '2');
  assert.deepEqual(exp.instances.slice(1).map((i) => i.id), ['d[i=0]', 'd[i=1]']);
  const dflt = await loadExperiment(ws.file, { env: {} }).catch((e) => e);
  assert.match(String(dflt.message), /environment variable PIPELINE_TEST_NUM is not set/);
});

test('all problems are listed in file order (line, then column)', async () => {
  const diags = await diagnose('stages:\n  z: { uses: command, from: nowhere, with: { run: "true" } }\n  a: { uses: nope }\n  b: { uses: command, with: { run: "true", kind: bad } }\n');
  assert.ok(diags.length >= 2);
  const order = diags.map((d) => [d.location!.line, d.location!.col]);
  assert.deepEqual(order, [...order].sort((x, y) => x[0] - y[0] || x[1] - y[1]));
  assert.equal(diags[0].location!.line, 2);
});

test('a from: typo or unknown stage type does not hide the other stages\' param errors', async () => {
  const diags = await diagnose('params: { seed: 1 }\nstages:\n  a: { uses: command, with: { run: "true", kind: bad } }\n  b: { uses: command, from: aa, with: { run: "true", knd: files } }\n  c: { uses: nope, with: { x: 1 } }\n  d: { uses: command, from: b, with: { run: "${params.sed}" } }\n');
  assert.deepEqual(diags.map((d) => [d.location!.line, d.message]), [
    [3, 'stage a (command): with.kind: got "bad", expected one of "files", "model", "report", "predictions"'],
    [4, 'stage b reads from "aa", which is not a stage of this experiment'],
    [4, 'stage b (command): unknown param with.knd'],
    [5, 'unknown stage type "nope" in stage c'],
    [6, 'unknown param params.sed in ${params.sed}'],
  ]);
});

test('an unknown ${params.x} is one error, not also a type error on the same node', async () => {
  const diags = await diagnose('params: { bits: 8 }\nstages:\n  v: { uses: convert, with: { bits: "${params.bitz}" } }\n');
  assert.deepEqual(diags.map((d) => d.message), ['unknown param params.bitz in ${params.bitz}']);
  assert.equal(diags[0].hint, 'did you mean params.bits?');
});

test('a value outside an enum or union says what was given and lists what is allowed', async () => {
  const diags = await diagnose('stages:\n  v:\n    uses: convert\n    with: { window: autoo, bits: 12, frames: al }\n');
  const byParam = Object.fromEntries(diags.map((d) => [/with\.(\w+)/.exec(d.message)![1], d]));
  assert.equal(byParam.window.message, 'stage v (convert): with.window: got "autoo", expected one of "auto", "file", "minmax", "percentile", a mapping');
  assert.equal(byParam.window.hint, 'did you mean "auto"?');
  assert.equal(byParam.bits.message, 'stage v (convert): with.bits: got 12, expected one of 8, 16');
  assert.equal(byParam.frames.message, 'stage v (convert): with.frames: got "al", expected one of "first", "all"');
  const [missing] = await diagnose('stages:\n  c: { uses: command, with: { kind: files } }\n');
  assert.equal(missing.message, 'stage c (command): with.run is missing (expected a string)');
});

test('a file that does not exist: the YAML file beside it with the other extension or a close name is suggested', async () => {
  const ws = await workspace('stages: {}\n');
  const rejected = async (name: string) => {
    const err = await loadExperiment(join(ws.dir, name)).catch((e) => e);
    assert.ok(err instanceof DiagnosticError);
    return err.diagnostics[0];
  };
  const yml = await rejected('exp.yml');
  assert.equal(yml.message, `file not found: ${join(ws.dir, 'exp.yml')}`);
  assert.equal(yml.location, undefined, 'no line:col for a file that does not exist');
  assert.match(yml.hint!, /did you mean .*exp\.yaml\?$/);
  assert.match((await rejected('epx.yaml')).hint!, /did you mean .*exp\.yaml\?$/);
  assert.match((await rejected('other.yaml')).hint!, /^YAML files there: exp\.yaml$/);
});

test('a stage module that throws something other than an Error while loading: its text, located at uses', async () => {
  const [object, text] = await Promise.all([
    diagnose('stages:\n  mine:\n    uses: ./mine.mjs\n', { 'mine.mjs': "throw { reason: 'needs MY_TOKEN' };\n" }),
    diagnose('stages:\n  mine:\n    uses: ./mine.mjs\n', { 'mine.mjs': "throw 'plain string';\n" }),
  ]);
  assert.equal(object[0].message, 'needs MY_TOKEN');
  assert.equal(text[0].message, 'plain string');
  assert.deepEqual(object[0].location, { file: 'exp.yaml', line: 3, col: 11 });
});
