import { describe, expect, it } from 'vitest';
import { foldName, normalizeIdentifierValue } from './identifiers.js';

describe('identifiers and names', () => {
  it('normalizes identifier values', () => {
    expect(normalizeIdentifierValue(' a-123 456 ')).toBe('A123456');
    expect(normalizeIdentifierValue('ab--c')).toBe('ABC');
  });

  it('folds case and accents', () => {
    expect(foldName('  José  María ')).toBe('jose maria');
    expect(foldName('MÜLLER')).toBe('muller');
    expect(foldName('Nuñez')).toBe(foldName('NUNEZ'));
  });
});
