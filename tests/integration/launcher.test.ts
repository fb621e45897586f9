/** The process launcher (src/main.ts) as a real process: configuration errors stop it before anything starts. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

async function runLauncher(settings: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('src/main.ts', () => {
  it('exits with code 2 and lists every configuration problem, before connecting to anything', async () => {
    const result = await runLauncher({
      ROLE: 'scheduler',
      PORT: 'eighty',
      APP_ENV: 'production',
      // Unreachable on purpose: a launcher that tried to connect would hang or fail differently.
      DATABASE_URL: 'postgresql://nobody@192.0.2.1:5432/none',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toMatch(/ROLE must be one of all, api, worker/);
    expect(result.stderr).toMatch(/PORT must be a whole number/);
    expect(result.stderr).toMatch(/SMTP_URL is required when APP_ENV=production/);
    expect(result.stdout).toBe('');
  });
});
