// Every Porcupine test history gets Porcupine's verdict. The expected verdicts are read from
// the table in the README beside the data, which was taken from upstream porcupine_test.go.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { checkOperations } from './checker.ts';
import { type HistoryModel, kvModel, registerModel } from './models.ts';
import { parseHistory } from './parse.ts';

const DATA = new URL('../../../shared/histories/porcupine/', import.meta.url);
const README = readFileSync(new URL('README.md', DATA), 'utf8');
const ROWS = [...README.matchAll(/^\| ((?:jepsen|kv)\/\S+) \| (true|false) \|/gm)].map((m) => ({
  file: m[1]!,
  linearizable: m[2] === 'true',
}));

describe('the Porcupine histories', () => {
  it('are all listed: 102 etcd (23 linearizable) and 6 kv (3 linearizable)', () => {
    expect(ROWS).toHaveLength(108);
    const etcd = ROWS.filter((row) => row.file.startsWith('jepsen/'));
    expect(etcd).toHaveLength(102);
    expect(etcd.filter((row) => row.linearizable)).toHaveLength(23);
    expect(ROWS.filter((row) => row.file.startsWith('kv/') && row.linearizable)).toHaveLength(3);
  });

  for (const { file, linearizable } of ROWS) {
    it(`${file} is ${linearizable ? '' : 'not '}linearizable`, () => {
      const operations = parseHistory(readFileSync(new URL(file, DATA), 'utf8'));
      expect(operations.length).toBeGreaterThan(0);
      const model: HistoryModel = file.startsWith('kv/') ? kvModel : registerModel;
      const result = checkOperations(model, operations);
      expect(result.verdict).toBe(linearizable ? 'linearizable' : 'not-linearizable');
    });
  }
});
