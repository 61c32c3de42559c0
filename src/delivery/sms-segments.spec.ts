import { describe, expect, it } from 'vitest';
import { countSegments } from './sms-segments.js';

describe('countSegments', () => {
  it('counts GSM-7, with extension characters as two', () => {
    expect(countSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(countSegments('€'.repeat(80)).units).toBe(160);
    expect(countSegments('¿Qué pasó? ñ').encoding).toBe('UCS-2'); // ó is not in GSM-7
    expect(countSegments('¿Dónde?').encoding).toBe('UCS-2');
    expect(countSegments('¿Donde? ñ é').encoding).toBe('GSM-7');
  });

  it('counts UCS-2 at 70 / 67', () => {
    expect(countSegments('ó'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(countSegments('ó'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(countSegments('ó'.repeat(134)).segments).toBe(2);
    expect(countSegments('ó'.repeat(135)).segments).toBe(3);
  });
});
