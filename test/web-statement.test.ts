// The attack panel's sentences (src/web/statement.ts) against the probabilities they describe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeAttack, percent } from '../src/web/statement.js';

const C = ['angry', 'happy', 'neutral', 'sad'];

test('a flip: names both classes and the attacked probability', () => {
  const s = describeAttack({ method: 'pgd', attacked: 0, targeted: false, before: [0.6, 0.2, 0.1, 0.1], after: [0.2, 0.1, 0.1, 0.6] }, C);
  assert.ok(s.changed);
  assert.not.ok(s.overshoot);
  assert.is(s.lines[0], 'The prediction changed from angry to sad.');
  assert.is(s.lines[1], 'P(angry), the attacked class, went from 60.0% to 20.0%.');
  assert.is(s.lines.length, 2);
});

test('FGSM overshoot: the attacked class rose, the page says so and why', () => {
  const s = describeAttack({ method: 'fgsm', attacked: 1, targeted: false, before: [0.3, 0.347, 0.2, 0.153], after: [0.1, 0.651, 0.1, 0.149] }, C);
  assert.not.ok(s.changed);
  assert.ok(s.overshoot);
  assert.is(s.lines[0], 'The prediction did not change: it is still happy.');
  assert.is(s.lines[1], 'P(happy), the attacked class, went from 34.7% to 65.1%.');
  assert.match(s.lines[2], /^FGSM overshot/);
  assert.match(s.lines[2], 'raised P(happy)');
});

test('targeted: the target class is the one reported; reaching it is said; falling is an overshoot', () => {
  const hit = describeAttack({ method: 'fgsm', attacked: 2, targeted: true, before: [0.7, 0.1, 0.1, 0.1], after: [0.2, 0.1, 0.6, 0.1] }, C);
  assert.is(hit.lines[1], 'P(neutral), the target class, went from 10.0% to 60.0%.');
  assert.match(hit.lines.join(' '), 'reached its target, neutral');
  const miss = describeAttack({ method: 'pgd', attacked: 2, targeted: true, before: [0.7, 0.1, 0.1, 0.1], after: [0.75, 0.1, 0.05, 0.1] }, C);
  assert.ok(miss.overshoot);
  assert.match(miss.lines[2], 'lowered P(neutral)');
});

test('NaN probabilities read as words, never as NaN% or Infinity%', () => {
  assert.is(percent(NaN), 'not a number');
  assert.is(percent(Infinity), 'not a number');
  const s = describeAttack({ method: 'fgsm', attacked: 0, targeted: false, before: [NaN, NaN, NaN, NaN], after: [NaN, NaN, NaN, NaN] }, C);
  assert.not.match(s.lines.join(' '), /NaN|Infinity/);
});

test.run();
