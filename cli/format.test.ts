// Goal: numbers in CLI output read right at every magnitude. Method: format edge values.
import { describe, expect, it } from 'vitest';

import { formatRate } from './format.ts';

describe('formatRate', () => {
  it('keeps one decimal below 10, so a slow campaign does not print 0 seeds/s', () => {
    expect(formatRate(0.44)).toBe('0.4');
    expect(formatRate(0.04)).toBe('0.0');
    expect(formatRate(9.94)).toBe('9.9');
  });

  it('rounds to whole numbers with separators from 10 on', () => {
    expect(formatRate(10)).toBe('10');
    expect(formatRate(12.6)).toBe('13');
    expect(formatRate(244_039.4)).toBe('244,039');
  });
});
