import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvFile } from './env-file.js';

describe('#15 .env in the working directory', () => {
  const folderWith = (text: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-env-'));
    writeFileSync(path.join(dir, '.env'), text);
    return dir;
  };

  it('fills what the environment leaves unset; a variable already set, even empty, wins', () => {
    const dir = folderWith('PORT=4100\nROLE=worker\nLOG_LEVEL=debug\n# a comment\nEMAIL_FROM="Vigil <a@b.test> # not a comment"\n');
    const env: NodeJS.ProcessEnv = { ROLE: 'api', LOG_LEVEL: '' };
    expect(loadEnvFile(env, dir)).toBe(path.join(dir, '.env'));
    expect(env).toEqual({ ROLE: 'api', LOG_LEVEL: '', PORT: '4100', EMAIL_FROM: 'Vigil <a@b.test> # not a comment' });
  });

  it('without a .env nothing changes', () => {
    const env: NodeJS.ProcessEnv = { ROLE: 'api' };
    expect(loadEnvFile(env, mkdtempSync(path.join(tmpdir(), 'vigil-env-')))).toBeUndefined();
    expect(env).toEqual({ ROLE: 'api' });
  });
});
