import { describe, expect, it } from 'vitest';
import { inputProblems, nestingDepth } from './input-rules.js';

describe('#11.4 input rules', () => {
  it('#11.4 NUL: reports control characters in values and keys with their paths; tab, LF and CR pass', () => {
    const errors = inputProblems({ events: [{ person: { lastName: 'Do\u0000e' } }, { details: { 'k\u001f': 1, note: 'a\tb\r\n' } }] });
    expect(errors).toEqual([
      { path: 'events[0].person.lastName', message: 'must not contain control characters' },
      { path: 'events[1].details', message: 'has a field name with control characters or lone surrogates' },
    ]);
    expect(inputProblems({ a: '\ud800', b: 'x\udfff', ok: '💥' })).toEqual([
      { path: 'a', message: 'must be valid Unicode text (no lone surrogates)' },
      { path: 'b', message: 'must be valid Unicode text (no lone surrogates)' },
    ]);
    expect(inputProblems('x\u0000', 'lastName')).toEqual([{ path: 'lastName', message: 'must not contain control characters' }]);
  });

  it('#11.4 deep details: 200,000 levels are reported at the cut, without recursion', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    const errors = inputProblems({ a: deep }, '', 3);
    expect(errors).toEqual([{ path: 'a[0][0]', message: 'is nested more than 3 levels deep' }]);
    expect(nestingDepth({ a: { b: [1] } })).toBe(3);
    expect(nestingDepth('x')).toBe(0);
  });
});
