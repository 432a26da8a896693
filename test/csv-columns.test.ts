import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readColumns } from '../src/core/csv-columns.js';
import { numberText, parseTypedCsv, type Cell } from '../src/core/csv.js';
import { tempDir } from './helpers.js';

// The chunked typed-column reader against the whole-text one (papaparse) on the same bytes: every
// cell and every row's line equal, with records, quoted fields and CRLF pairs cut by chunk ends.

function cellsOf(path: string): { columns: string[]; cells: Cell[][]; lines: number[] } {
  const table = readColumns(path);
  assert.ok(table.data.every((col) => col.num instanceof Float64Array));
  const cells = table.columns.map((_, c) => Array.from({ length: table.nRows }, (_, r) => table.cell(c, r)));
  return { columns: table.columns, cells, lines: Array.from(table.lines) };
}

function assertSameAsPapaparse(text: string, dir: string): void {
  const path = join(dir, 'in.csv');
  writeFileSync(path, text);
  const expected = parseTypedCsv(text, 'in.csv');
  const got = cellsOf(path);
  assert.deepEqual(got.columns, expected.columns);
  assert.deepEqual(got.lines, expected.lines);
  got.cells.forEach((col, c) => assert.deepEqual(col, expected.values[c], `column ${expected.columns[c]}`));
}

/** Rows of mixed cells (numbers, NA texts, quoted text with separators, quotes and newlines) past several 4 MB chunks. */
function mixedRows(rows: number, newline: string): string {
  const lines = ['id,"na,me",value,note'];
  for (let i = 0; i < rows; i++) {
    const note = i % 7 === 0 ? `"line ${i}${newline}next ""${i}"", end"` : i % 11 === 0 ? 'NA' : ` t${i % 13} `;
    const value = i % 5 === 0 ? '' : i % 3 === 0 ? '1e16' : String((i * 0.37) % 101);
    lines.push([i, i % 2 ? `"q,${i}"` : `n${i % 17}`, value, note].join(','));
  }
  return '\ufeff' + lines.join(newline) + newline;
}

test('a file of several chunks reads as papaparse reads it, CRLF and LF, quoted newlines across chunk ends', (t) => {
  const dir = tempDir(t);
  assertSameAsPapaparse(mixedRows(260_000, '\r\n'), dir);
  assertSameAsPapaparse(mixedRows(260_000, '\n'), dir);
});

test('odd files: ; separated, lone CR line ends, blank lines, a quote inside a field, no final newline', (t) => {
  const dir = tempDir(t);
  assertSameAsPapaparse('a;b\r1;x"y\r\r2;"z"\r3;4', dir);
  assertSameAsPapaparse('a,b\n\n  \n1,"x ""q"" y" \n2,\n', dir);
});

test('a row with another number of fields is a located error, as in the whole-text reader', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'bad.csv');
  writeFileSync(path, 'a,b\n1,2\n"x\ny",3\n4,5,6\n');
  assert.throws(() => readColumns(path), (e: Error) => /:5: expected 2 fields as in the header, found 3/.test(e.message) || (console.log(e.message), false));
});

test('numbers written to CSV read exactly as String() writes them (the fast path and its edges)', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const values = [0, -0, 1e-6, -1e-6, 1e-7, 0.1 + 0.2, 1e15 - 0.5, 999999999999999.9, 5e-324, NaN, Infinity, 2 ** 53, 1e21, -1.5, 100.25];
  for (let i = 0; i < 200_000; i++) {
    values.push(Number((random() * 8 - 4).toPrecision(1 + Math.floor(random() * 17))));
    values.push(Number(`${Math.floor(random() * 10 ** (1 + Math.floor(random() * 15)))}e${Math.floor(random() * 24) - 12}`));
    values.push(random() * 10 ** (Math.floor(random() * 24) - 12));
  }
  const wrong = values.filter((v) => numberText(v) !== String(v));
  assert.deepEqual(wrong.slice(0, 5), []);
});
