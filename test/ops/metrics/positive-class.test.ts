import { test } from 'node:test';
import assert from 'node:assert/strict';
import { positiveClass, readsAsNegative } from '../../../src/ops/metrics/positive-class.ts';

const positiveOf = (classes: string[], task = 'multiclass') => {
  const p = positiveClass(classes, task);
  return p === undefined ? undefined : classes[p.index];
};

test('positiveClass: a 2-way softmax whose one class reads as normal takes the other, whatever the sorted order', () => {
  assert.equal(positiveOf(['abnormal', 'normal']), 'abnormal');
  assert.equal(positiveOf(['No finding', 'Pneumonia']), 'Pneumonia');
  assert.equal(positiveOf(['no', 'yes']), 'yes');
  assert.equal(positiveOf(['NORMAL', 'PNEUMONIA']), 'PNEUMONIA');
  assert.equal(positiveOf(['Healthy', 'Tumor']), 'Tumor');
  assert.equal(positiveOf(['malignant', 'normal, benign']), 'malignant', "MedMNIST's BreastMNIST label 1");
  assert.equal(positiveOf(['lesion', 'No_Finding']), 'lesion');
  assert.equal(positiveOf(['false', 'true']), 'true');
  assert.equal(positiveOf(['0', '1']), '1', "MedMNIST's label names when the archive has none");
  assert.equal(positiveOf(['background', 'polyp']), 'polyp');
  assert.match(positiveClass(['abnormal', 'normal'], 'multiclass')!.why, /other class "normal" reads as the negative/);
});

test('positiveClass: neither or both names read as normal: the second class, and the reason says which', () => {
  assert.equal(positiveOf(['cat', 'dog']), 'dog');
  assert.match(positiveClass(['cat', 'dog'], 'multiclass')!.why, /second class: neither class name reads/);
  assert.equal(positiveOf(['benign', 'normal']), 'normal');
  assert.match(positiveClass(['benign', 'normal'], 'multiclass')!.why, /both class names read/);
  // "normal" inside a longer name is a name of its own, not the negative class
  assert.equal(positiveOf(['abnormal', 'normal colon mucosa']), 'normal colon mucosa');
});

test('positiveClass: one sigmoid output is its only class; multi-class (3+) and multi-label models have none', () => {
  assert.equal(positiveOf(['Nodule'], 'binary'), 'Nodule');
  assert.equal(positiveOf(['normal', 'disease'], 'multilabel'), undefined, 'two independent labels');
  assert.equal(positiveOf(['normal', 'a', 'b']), undefined);
});

test('readsAsNegative: case, separators and lists of negative words; not words that only contain one', () => {
  for (const name of ['Normal', 'no finding', 'No Finding', 'no-finding', 'NEGATIVE', 'benign', 'none', 'normal / benign', 'normal or benign']) assert.ok(readsAsNegative(name), name);
  for (const name of ['abnormal', 'tumor', 'nodule', 'normal tissue', 'yes', '', 'or', 'Pneumonia/No finding']) assert.ok(!readsAsNegative(name), name);
});
