import { describe, expect, it } from 'vitest';
import { ConfigError, configTableMarkdown, loadConfig, SETTINGS } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives a working development configuration with no environment at all', () => {
    const config = loadConfig({});
    expect(config.appEnv).toBe('development');
    expect(config.role).toBe('all');
    expect(config.http.port).toBe(3000);
    expect(config.database.url).toBe('postgresql://postgres@127.0.0.1:5432/meldingskanal');
    expect(config.mail.smtpUrl).toBeUndefined();
    expect(config.unsubscribeSecret).toBeUndefined();
    expect(Object.isFrozen(config.delivery)).toBe(true);
  });

  it('lists every problem in one error', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', ROLE: 'both', REDIS_URL: 'http://x', EMAIL_BATCH_SIZE: '0' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/PORT must be a whole number/);
      expect(problems.join('\n')).toMatch(/ROLE must be one of all, api, worker/);
      expect(problems.join('\n')).toMatch(/REDIS_URL must start with redis:\/\//);
      expect(problems.join('\n')).toMatch(/EMAIL_BATCH_SIZE must be between 1 and 1000/);
      expect((error as Error).message).toMatch(/^Invalid configuration \(4 problems\)/);
    }
  });

  it('requires MAIL_FROM once SMTP_URL is set', () => {
    expect(() => loadConfig({ SMTP_URL: 'smtp://mail.uio.no:587' })).toThrow(
      /MAIL_FROM is required when SMTP_URL is set/,
    );
    const config = loadConfig({ SMTP_URL: 'smtp://mail.uio.no:587', MAIL_FROM: 'BOTT <noreply@uio.no>' });
    expect(config.mail.from).toBe('BOTT <noreply@uio.no>');
  });

  it('refuses development conveniences in production and never echoes a password', () => {
    try {
      loadConfig({ APP_ENV: 'production', DATABASE_URL: 'mysql://u:hunter2@db/x' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/SMTP_URL is required when APP_ENV=production/);
      expect(message).toMatch(/UNSUBSCRIBE_SECRET is required/);
      expect(message).toMatch(/PUBLIC_URL must be https/);
      expect(message).not.toMatch(/hunter2/);
    }
  });

  it('rejects short secrets and header injection in MAIL_FROM', () => {
    expect(() => loadConfig({ UNSUBSCRIBE_SECRET: 'short' })).toThrow(/UNSUBSCRIBE_SECRET must be at least 32/);
    expect(() => loadConfig({ MAIL_FROM: 'a@b.no\r\nBcc: x@y.no' })).toThrow(/MAIL_FROM/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ SMTP_URL: '', PORT: '' }).http.port).toBe(3000);
  });

  it('documents every setting in the README table', () => {
    const table = configTableMarkdown();
    for (const name of Object.keys(SETTINGS)) expect(table).toContain(`\`${name}\``);
    expect(table).toMatch(/UNSUBSCRIBE_SECRET` \| _\(secret, no default\)_/);
  });
});

describe('identity and access settings', () => {
  it('derives the redirect URL and the allowed origins from PUBLIC_URL', () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://meldinger.bott.no/',
      WIDGET_ORIGINS: 'https://intranett.uio.no, https://i.ntnu.no',
    });
    expect(config.oidc.redirectUrl).toBe('https://meldinger.bott.no/auth/callback');
    expect(config.allowedOrigins).toEqual([
      'https://meldinger.bott.no',
      'https://intranett.uio.no',
      'https://i.ntnu.no',
    ]);
    expect(config.oidc.issuer).toBeUndefined();
    expect(config.oidc.scopes).toBe('openid profile email userid-feide');
  });

  it('requires a client id with an issuer, an issuer in production, and sane session limits', () => {
    expect(() => loadConfig({ OIDC_ISSUER: 'https://auth.dataporten.no' })).toThrow(/OIDC_CLIENT_ID is required/);
    expect(() => loadConfig({ APP_ENV: 'production' })).toThrow(/OIDC_ISSUER is required when APP_ENV=production/);
    expect(() => loadConfig({ SESSION_IDLE_TIMEOUT_MS: '7200000', SESSION_ABSOLUTE_TIMEOUT_MS: '3600000' })).toThrow(
      /SESSION_IDLE_TIMEOUT_MS must not be longer/,
    );
    expect(() => loadConfig({ OIDC_SCOPES: 'profile email' })).toThrow(/OIDC_SCOPES must include "openid"/);
  });

  it('rejects widget origins with paths or without a scheme', () => {
    expect(() => loadConfig({ WIDGET_ORIGINS: 'https://intranett.uio.no/side' })).toThrow(/WIDGET_ORIGINS/);
    expect(() => loadConfig({ WIDGET_ORIGINS: 'intranett.uio.no' })).toThrow(/WIDGET_ORIGINS/);
  });
});

describe('attachment settings', () => {
  it('keeps bytes in PostgreSQL up to 20 MB by default', () => {
    expect(loadConfig({}).attachments).toEqual({ maxBytes: 20 * 1024 * 1024, dir: undefined });
  });

  it('takes an absolute directory (normalised) and a limit up to 100 MB', () => {
    const config = loadConfig({ ATTACHMENT_DIR: '/srv/meldingskanal//vedlegg/', ATTACHMENT_MAX_BYTES: '1048576' });
    expect(config.attachments).toEqual({ maxBytes: 1048576, dir: '/srv/meldingskanal/vedlegg/' });
    expect(() => loadConfig({ ATTACHMENT_DIR: 'vedlegg' })).toThrow(/ATTACHMENT_DIR must be an absolute path/);
    expect(() => loadConfig({ ATTACHMENT_MAX_BYTES: '0' })).toThrow(/ATTACHMENT_MAX_BYTES/);
    expect(() => loadConfig({ ATTACHMENT_MAX_BYTES: String(100 * 1024 * 1024 + 1) })).toThrow(/ATTACHMENT_MAX_BYTES/);
  });
});

describe('metrics settings', () => {
  /** The problems about metrics only, whatever else a bare production environment lacks. */
  function metricsProblems(env: Record<string, string>): string[] {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.filter((problem) => problem.startsWith('METRICS'));
    }
  }
  const TOKEN = 'a-metrics-token-of-32-characters-or-more';

  it('serves no metrics by default; loopback once METRICS_PORT is set, with the token when there is one', () => {
    expect(loadConfig({}).metrics).toEqual({ port: undefined, host: '127.0.0.1', token: undefined });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: TOKEN }).metrics).toEqual({
      port: 9464,
      host: '127.0.0.1',
      token: TOKEN,
    });
    expect(SETTINGS.METRICS_TOKEN.secret).toBe(true);
  });

  it('refuses a host or a token without a port, the API port itself, and a short token', () => {
    expect(metricsProblems({ METRICS_HOST: '0.0.0.0', METRICS_TOKEN: TOKEN })).toEqual([
      'METRICS_HOST and METRICS_TOKEN are set, but METRICS_PORT is not: set it to serve metrics',
    ]);
    expect(metricsProblems({ PORT: '3000', METRICS_PORT: '3000' })).toEqual([
      'METRICS_PORT must differ from PORT: metrics are never served on the public API port',
    ]);
    // A worker serves no API, so it may use the number PORT has (and 0 always picks a free port).
    expect(metricsProblems({ ROLE: 'worker', PORT: '3000', METRICS_PORT: '3000' })).toEqual([]);
    expect(metricsProblems({ PORT: '0', METRICS_PORT: '0' })).toEqual([]);
    expect(metricsProblems({ METRICS_PORT: '9464', METRICS_TOKEN: 'short' })).toEqual([
      'METRICS_TOKEN must be at least 32 characters long',
    ]);
  });

  it('in production, needs METRICS_TOKEN for a listener reachable from other hosts', () => {
    const production = { APP_ENV: 'production', METRICS_PORT: '9464' };
    expect(metricsProblems({ ...production, METRICS_HOST: '0.0.0.0' })).toEqual([
      'METRICS_TOKEN is required when APP_ENV=production and METRICS_HOST (0.0.0.0) is not a loopback address (generate one: openssl rand -base64 48)',
    ]);
    expect(metricsProblems({ ...production, METRICS_HOST: '0.0.0.0', METRICS_TOKEN: TOKEN })).toEqual([]);
    for (const host of ['127.0.0.1', '127.0.0.53', '::1', '[::1]', 'localhost']) {
      expect(metricsProblems({ ...production, METRICS_HOST: host }), host).toEqual([]);
    }
  });
});
