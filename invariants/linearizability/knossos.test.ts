// Every Knossos test history gets Knossos's verdict (its folder name) under Jepsen semantics,
// with the initial states Knossos's own tests use. Source and licence: knossos-data/README.md.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { checkOperations } from './checker.ts';
import { readHistory } from './parse.ts';
import { type ModelName, type ModelOptions, modelFor } from './registry.ts';

const DATA = new URL('./knossos-data/', import.meta.url);

function files(folder: string): string[] {
  return readdirSync(new URL(folder, DATA))
    .filter((name) => name.endsWith('.edn'))
    .sort();
}

function verdictOf(
  folder: string,
  file: string,
  name: ModelName,
  options: Partial<ModelOptions> = {},
): string {
  const parsed = readHistory(readFileSync(new URL(`${folder}/${file}`, DATA), 'utf8'), {
    ...(options.semantics === undefined ? {} : { semantics: options.semantics }),
  });
  const model = modelFor(name, { ...options, semantics: parsed.semantics });
  return checkOperations(model, parsed.operations).verdict;
}

describe('the Knossos test histories', () => {
  it('are all here: 113 good and 7 bad cas-register files, read as Jepsen EDN', () => {
    expect(files('cas-register/good')).toHaveLength(113);
    expect(files('cas-register/bad')).toHaveLength(7);
    const { semantics } = readHistory(
      readFileSync(new URL('cas-register/bad/cas-failure.edn', DATA), 'utf8'),
    );
    expect(semantics).toBe('jepsen');
  });

  for (const [folder, expected] of [
    ['cas-register/good', 'linearizable'],
    ['cas-register/bad', 'not-linearizable'],
  ] as const) {
    it(`${folder}: every file is ${expected} under (cas-register 0) and (cas-register nil)`, () => {
      const wrong: string[] = [];
      for (const file of files(folder)) {
        for (const initial of [0, null]) {
          const verdict = verdictOf(folder, file, 'register', { initial });
          if (verdict !== expected) {
            wrong.push(`${file} (initial ${initial}): ${verdict}`);
          }
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it('multi-register/good is linearizable under (multi-register {:x 0 :y 0})', () => {
    const initial = new Map([
      [':x', 0],
      [':y', 0],
    ]);
    expect(
      verdictOf('multi-register/good', 'multi-register.edn', 'multi-register', { initial }),
    ).toBe('linearizable');
  });

  it('mutex/bad/etcd.edn is not linearizable as a mutex', () => {
    expect(verdictOf('mutex/bad', 'etcd.edn', 'mutex')).toBe('not-linearizable');
  });

  it('read with Porcupine semantics instead, valid files are rejected (the semantics matter)', () => {
    const rejected = files('cas-register/good').filter(
      (file) =>
        verdictOf('cas-register/good', file, 'register', { semantics: 'porcupine' }) !==
        'linearizable',
    );
    // The nine files issue 19 reported: a nil read taken as "absent", a failed CAS as a result.
    expect(rejected).toHaveLength(9);
  });
});
