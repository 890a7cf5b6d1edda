// CSV corpora through csv-parse: RFC 4180's quoting cases, the deviations real files have (read
// as Python's csv module reads them, so `he said "wait` does not swallow the next row), line
// numbers that survive multi-line cells, and an unparseable record named by its line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, parseCsvRows, loadCsv } from '../src/data/csv.js';
import { writeWav16 } from '../src/data/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-csv-'));

test('RFC 4180: quoted commas, doubled quotes, line breaks inside quotes, CRLF, a last line without a break', () => {
  assert.equal(parseCsv('a,b\r\n"x,1","say ""hi"""\r\n"two\r\nlines",3'), [['a', 'b'], ['x,1', 'say "hi"'], ['two\r\nlines', '3']]);
  assert.equal(parseCsv('a,b\n"",""\n'), [['a', 'b'], ['', '']], 'empty quoted cells');
});

test('common deviations: LF, CR and mixed line ends, BOM, blank lines, ragged rows, quotes inside unquoted cells', () => {
  assert.equal(parseCsv('\uFEFFa,b\n1,2\r\n3,4\r5,6\n\n\n7,8\n'), [['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6'], ['7', '8']]);
  assert.equal(parseCsv('a,b,c\n1\n1,2,3,4\n'), [['a', 'b', 'c'], ['1'], ['1', '2', '3', '4']]);
  // The issue's case: Python's csv module reads 3 rows here (the quote is a literal character).
  const text = 'path,label,speaker\na.wav,he said "wait,s1\nb.wav,sad,s2\n';
  assert.equal(parseCsv(text), [['path', 'label', 'speaker'], ['a.wav', 'he said "wait', 's1'], ['b.wav', 'sad', 's2']]);
  // 20 data rows with one such cell: 21 records, as Python's csv.reader gives.
  const many = ['path,label,speaker', ...Array.from({ length: 20 }, (_, i) => `u${i}.wav,${i === 7 ? 'she said "no' : 'sad'},s${i}`)].join('\n');
  assert.is(parseCsv(many).length, 21);
});

test('line numbers: a record starts where it starts, after multi-line cells and blank lines', () => {
  const rows = parseCsvRows('h1,h2\n"a\nb\nc",1\n\nx,2\n"p\r\nq",3\ny,4');
  assert.equal(
    rows.map((r) => r.line),
    [1, 2, 6, 7, 9],
  );
});

test('an unclosed quote is an error naming the file and the line', () => {
  assert.throws(() => parseCsv('a,b\n1,2\n"3,4\n5,6\n', 'c.csv'), (e: Error) => /^c\.csv line \d+: cannot parse: a quoted cell is never closed$/.test(e.message));
});

test('loadCsv: a row error names its real line (after a multi-line cell); the deviating row does not hide the next', async () => {
  const wav = (n: string) => {
    writeWav16(join(dir, n), new Float32Array(1600).fill(0.1), 16000);
    return n;
  };
  const lines = ['path,label,speaker,fold'];
  for (const [i, label] of ['angry', 'happy', 'neutral', 'sad', 'angry', 'happy', 'neutral', 'sad'].entries()) lines.push(`${wav(`u${i}.wav`)},${label},s${i % 4},${i % 2}`);
  lines.push(`${wav('q.wav')},he said "wait,s9,0`); // dropped (not a class), must not eat the next row
  lines.push(`${wav('n.wav')},sad,s1,1`);
  writeFileSync(join(dir, 'c.csv'), lines.join('\n'));
  const c = await loadCsv(join(dir, 'c.csv'));
  assert.is(c.utterances.length, 9, 'the row after the quote is read');
  assert.equal(c.dropped, { 'he said "wait': 1 });
  writeFileSync(join(dir, 'bad.csv'), 'path,label,speaker,fold\n"multi\nline.wav",sad,s1,0\nx.wav,sad,s1,zero\n');
  try {
    await loadCsv(join(dir, 'bad.csv'));
    assert.unreachable('bad fold accepted');
  } catch (e) {
    assert.match((e as Error).message, `${join(dir, 'bad.csv')} line 4: fold 'zero'`);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
