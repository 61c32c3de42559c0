import { describe, expect, it } from 'vitest';
import { HELP_TEXT, keywordOf } from './opt-out.service.js';

describe('SMS keywords', () => {
  it.each([
    ['STOP', 'stop'],
    [' stop please', 'stop'],
    ['StopAll', 'stop'],
    ['UNSUBSCRIBE', 'stop'],
    ['cancel', 'stop'],
    ['END', 'stop'],
    ['quit', 'stop'],
    ['START', 'start'],
    ['unstop', 'start'],
    ['Yes', 'start'],
    ['HELP', 'help'],
    ['ayuda', 'help'],
    ['where is he?', 'other'],
    ['', 'other'],
  ])('%s → %s', (body, keyword) => {
    expect(keywordOf(body)).toBe(keyword);
  });

  it('the help text carries the safety line in both languages and fits two SMS segments', () => {
    expect(HELP_TEXT).toContain('911');
    expect(HELP_TEXT.length).toBeLessThanOrEqual(2 * 153);
  });
});
