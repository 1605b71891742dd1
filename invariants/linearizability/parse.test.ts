import { describe, expect, it } from 'vitest';

import { readEdn } from './edn.ts';
import { HistoryFormatError } from './history.ts';
import { detectFormat, parseHistory } from './parse.ts';
import { UNKNOWN } from './types.ts';

function lineOf(thunk: () => unknown): number {
  try {
    thunk();
  } catch (error) {
    expect(error).toBeInstanceOf(HistoryFormatError);
    return (error as HistoryFormatError).line;
  }
  throw new Error('expected a HistoryFormatError');
}

const JEPSEN_LOG = [
  'INFO  jepsen.util - 0\t:invoke\t:read\tnil',
  'INFO  jepsen.util - 1\t:invoke\t:write\t4',
  'INFO  jepsen.util - 0\t:ok\t:read\tnil',
  'INFO  jepsen.util - 2   :invoke :cas    [4 1]',
  'INFO  jepsen.util - 1\t:info\t:write\t:timed-out',
  'INFO  jepsen.util - 2   :fail   :cas    [4 1]',
  'INFO  jepsen.util - 3\t:invoke\t:read\tnil',
  'INFO  jepsen.util - 3\t:fail\t:read\t:timed-out',
  'INFO  jepsen.util - :nemesis\t:info\t:start\tnil',
  'INFO  jepsen.util - 4\t:invoke\t:write\t7',
  '',
].join('\n');

describe('the Jepsen text log parser', () => {
  it('pairs calls and returns, keeps timeouts open, reads a failed CAS as false, drops a failed read', () => {
    const ops = parseHistory(JEPSEN_LOG, 'jepsen-log');
    expect(ops.map((o) => o.input)).toEqual([
      { f: 'read', value: null },
      { f: 'write', value: 4 },
      { f: 'cas', value: [4, 1] },
      { f: 'write', value: 7 },
    ]);
    expect(ops[0]).toMatchObject({ clientId: 0, output: { type: 'ok', value: null } });
    expect(ops[0]!.lines).toEqual({ call: 1, return: 3 });
    expect(ops[1]!.output).toBe(UNKNOWN);
    expect(ops[1]!.returnTime).toBe(Number.POSITIVE_INFINITY);
    expect(ops[2]!.output).toEqual({ type: 'fail', value: [4, 1] });
    expect(ops[3]).toMatchObject({ clientId: 4, output: UNKNOWN, lines: { call: 10 } });
    expect(ops[0]!.callTime).toBeLessThan(ops[1]!.callTime);
    expect(ops[0]!.returnTime).toBeLessThan(ops[2]!.callTime);
  });

  it('reports the line of a malformed entry', () => {
    expect(
      lineOf(() => parseHistory('INFO  jepsen.util - 0 :invoke :read nil\nhello\n', 'jepsen-log')),
    ).toBe(2);
    expect(
      lineOf(() => parseHistory('\nINFO  jepsen.util - x :invoke :read nil', 'jepsen-log')),
    ).toBe(2);
    expect(lineOf(() => parseHistory('INFO  jepsen.util - 0 :invoke :read [1', 'jepsen-log'))).toBe(
      1,
    );
    expect(lineOf(() => parseHistory('INFO  jepsen.util - 0 :begin :read nil', 'jepsen-log'))).toBe(
      1,
    );
  });

  it('reports a completion without an invoke, and a second invoke while one is outstanding', () => {
    const orphan = 'INFO  jepsen.util - 0 :invoke :read nil\nINFO  jepsen.util - 5 :ok :read 3';
    expect(lineOf(() => parseHistory(orphan))).toBe(2);
    const twice =
      'INFO  jepsen.util - 0 :invoke :read nil\n\nINFO  jepsen.util - 0 :invoke :read nil';
    expect(lineOf(() => parseHistory(twice))).toBe(3);
    const mismatch = 'INFO  jepsen.util - 0 :invoke :read nil\nINFO  jepsen.util - 0 :ok :write 3';
    expect(lineOf(() => parseHistory(mismatch))).toBe(2);
  });
});

describe('the EDN parser', () => {
  const lines = [
    '{:process 0, :type :invoke, :f :put, :key "k", :value "x 0 0 y"}',
    '{:process 0, :type :ok, :f :put, :key "k", :value "x 0 0 y"}',
    '{:process 1 :type :invoke :f :get :key "k" :value nil} ; a comment',
    '{:process :nemesis, :type :info, :f :start, :value nil}',
    '{:process 1, :type :ok, :f :get, :key "k", :value "x 0 0 y"}',
  ];

  it('reads one map per line, with the completed value as the operation value (Jepsen)', () => {
    const ops = parseHistory(lines.join('\n'));
    expect(ops).toHaveLength(2);
    expect(ops[1]).toMatchObject({
      clientId: 1,
      input: { f: 'get', key: 'k', value: 'x 0 0 y' },
      output: { type: 'ok', value: 'x 0 0 y' },
      lines: { call: 3, return: 5 },
    });
    expect(parseHistory(lines.join('\n'), 'edn', 'porcupine')[1]).toMatchObject({
      input: { f: 'get', key: 'k', value: null },
      output: { type: 'ok', value: 'x 0 0 y' },
      lines: { call: 3, return: 5 },
    });
  });

  it('reads maps inside one vector, and tagged records', () => {
    const vector = `[\n${lines.join('\n').replace('{:process 1 :type :invoke', '#jepsen.history.Op{:process 1 :type :invoke')}\n]`;
    const ops = parseHistory(vector);
    expect(ops).toHaveLength(2);
    expect(ops[1]!.lines).toEqual({ call: 4, return: 6 });
  });

  it('reads values: vectors, negative and decimal numbers, strings with escapes, keywords', () => {
    const [form] = readEdn('[1 -2 3.5 "a\\"b\\n" :k nil true #{1}]');
    expect(form!.value).toEqual([1, -2, 3.5, 'a"b\n', expect.anything(), null, true, [1]]);
  });

  it('reports the line of malformed input', () => {
    expect(
      lineOf(() =>
        parseHistory(
          '{:process 0, :type :invoke, :f :read}\n{:process 0 :type :ok :f :read :value [1 2}',
        ),
      ),
    ).toBe(2);
    expect(
      lineOf(() => parseHistory('{:process 0, :type :invoke, :f :read}\n\n{:process 0 :type}')),
    ).toBe(3);
    expect(
      lineOf(() =>
        parseHistory(
          '{:process 0, :type :invoke, :f :read}\n{:process "zero", :type :ok, :f :read}',
        ),
      ),
    ).toBe(2);
    expect(
      lineOf(() =>
        parseHistory('{:process 0, :type :invoke, :f :read}\n{:process 0, :type :done, :f :read}'),
      ),
    ).toBe(2);
    expect(lineOf(() => parseHistory('{:process 0, :type :invoke, :f :read, :value "abc}\n'))).toBe(
      1,
    );
    expect(lineOf(() => parseHistory('{:process 0, :type :invoke}\n', 'edn'))).toBe(1);
    expect(
      lineOf(() => parseHistory('[{:process 0, :type :invoke, :f :read}\n 12abc]', 'edn')),
    ).toBe(2);
  });
});

describe('the JSON lines parser', () => {
  it('reads the documented schema', () => {
    const text = [
      '{"process":0,"type":"invoke","f":"cas","value":[1,2]}',
      '{"process":1,"type":"invoke","f":"append","key":"k","value":"x"}',
      '{"process":0,"type":"fail","f":"cas","value":[1,2]}',
      '{"process":1,"type":"info","f":"append","key":"k","value":"x"}',
    ].join('\n');
    const ops = parseHistory(text, 'auto', 'porcupine');
    expect(ops[0]).toMatchObject({ input: { f: 'cas', value: [1, 2] }, output: { type: 'fail' } });
    expect(ops[1]).toMatchObject({ input: { f: 'append', key: 'k', value: 'x' }, output: UNKNOWN });
    // Jepsen semantics (the default for JSON lines): a failed CAS did not happen.
    const jepsen = parseHistory(text);
    expect(jepsen).toHaveLength(1);
    expect(jepsen[0]).toMatchObject({ input: { f: 'append' }, output: UNKNOWN });
  });

  it('drops an operation that definitely failed unless it is a CAS under Porcupine semantics', () => {
    const text =
      '{"process":0,"type":"invoke","f":"write","value":1}\n{"process":0,"type":"fail","f":"write","value":1}';
    expect(parseHistory(text)).toEqual([]);
    expect(parseHistory(text, 'jsonl', 'porcupine')).toEqual([]);
  });

  it('ignores an :info with nothing outstanding under Jepsen semantics, rejects it under Porcupine', () => {
    const text = '{"process":0,"type":"info","f":"write","value":1}';
    expect(parseHistory(text)).toEqual([]);
    expect(lineOf(() => parseHistory(text, 'jsonl', 'porcupine'))).toBe(1);
  });

  it('reports the line of malformed input', () => {
    const good = '{"process":0,"type":"invoke","f":"read"}';
    expect(lineOf(() => parseHistory(`${good}\n{"process":0,"type":"ok"`, 'jsonl'))).toBe(2);
    expect(lineOf(() => parseHistory(`${good}\n\n{"process":0,"type":"ok"}`))).toBe(3);
    expect(lineOf(() => parseHistory(`${good}\n{"process":1.5,"type":"ok","f":"read"}`))).toBe(2);
    expect(
      lineOf(() => parseHistory(`${good}\n{"process":0,"type":"ok","f":"read","value":{"a":1}}`)),
    ).toBe(2);
    expect(lineOf(() => parseHistory(`${good}\n[1]`, 'jsonl'))).toBe(2);
  });
});

describe('format detection', () => {
  it('looks at the first line that is not blank', () => {
    expect(detectFormat('\n\nINFO  jepsen.util - 0 :invoke :read nil')).toBe('jepsen-log');
    expect(detectFormat('{:process 0}')).toBe('edn');
    expect(detectFormat('[{:process 0}]')).toBe('edn');
    expect(detectFormat('{"process": 0}')).toBe('jsonl');
    expect(lineOf(() => detectFormat('\n\nprocess 0 invoke read'))).toBe(3);
  });
});
