/**
 * The digest calendar (src/digest/period.ts): period ends truncated to the local cut, local days of 23 and 25 hours
 * across Europe/Oslo's daylight-saving changes, weekly cuts on the configured weekday, the cron pattern, and the
 * parsing of DIGEST_TIME / DIGEST_TIME_ZONE / DIGEST_WEEKDAY.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  cronPattern,
  cutsBefore,
  type DigestSchedule,
  defaultPeriodStart,
  parseLocalTime,
  parseTimeZone,
  parseWeekday,
  periodEndFor,
  zonedTimeToInstant,
} from '../../src/digest/period.js';
import { scheduledTimeOf } from '../../workers/processors/digest.js';

const OSLO: DigestSchedule = { hour: 7, minute: 0, timeZone: 'Europe/Oslo', weekday: 'monday' };
const HOUR = 3600_000;
const at = (iso: string) => new Date(iso);

describe('periodEndFor (daily)', () => {
  it('is the scheduled time itself when the scheduler fires on the cut (07:00 Oslo = 06:00Z in winter)', () => {
    expect(periodEndFor('daily', at('2026-12-02T06:00:00Z'), OSLO).toISOString()).toBe('2026-12-02T06:00:00.000Z');
  });

  it('truncates a late run to the same cut, and a time just before the cut to the day before', () => {
    expect(periodEndFor('daily', at('2026-12-02T09:17:42Z'), OSLO).toISOString()).toBe('2026-12-02T06:00:00.000Z');
    expect(periodEndFor('daily', at('2026-12-02T05:59:59Z'), OSLO).toISOString()).toBe('2026-12-01T06:00:00.000Z');
  });

  it('cuts at 07:00 local in summer too (05:00Z)', () => {
    expect(periodEndFor('daily', at('2026-07-01T05:00:00Z'), OSLO).toISOString()).toBe('2026-07-01T05:00:00.000Z');
  });
});

describe('periods across daylight-saving changes in Europe/Oslo', () => {
  it('the day that ends on the morning after the spring change (29 March 2026) is 23 hours', () => {
    const end = periodEndFor('daily', at('2026-03-29T05:00:00Z'), OSLO);
    expect(end.toISOString()).toBe('2026-03-29T05:00:00.000Z');
    const start = defaultPeriodStart('daily', end, OSLO);
    expect(start.toISOString()).toBe('2026-03-28T06:00:00.000Z');
    expect(end.getTime() - start.getTime()).toBe(23 * HOUR);
  });

  it('the day that ends on the morning after the autumn change (25 October 2026) is 25 hours', () => {
    const end = periodEndFor('daily', at('2026-10-25T06:00:00Z'), OSLO);
    expect(end.toISOString()).toBe('2026-10-25T06:00:00.000Z');
    const start = defaultPeriodStart('daily', end, OSLO);
    expect(start.toISOString()).toBe('2026-10-24T05:00:00.000Z');
    expect(end.getTime() - start.getTime()).toBe(25 * HOUR);
  });

  it('a week that spans the spring change is 167 hours, one that spans the autumn change 169', () => {
    const spring = periodEndFor('weekly', at('2026-03-30T05:00:00Z'), OSLO);
    expect(spring.toISOString()).toBe('2026-03-30T05:00:00.000Z');
    expect(spring.getTime() - defaultPeriodStart('weekly', spring, OSLO).getTime()).toBe(167 * HOUR);
    const autumn = periodEndFor('weekly', at('2026-10-26T06:00:00Z'), OSLO);
    expect(autumn.toISOString()).toBe('2026-10-26T06:00:00.000Z');
    expect(autumn.getTime() - defaultPeriodStart('weekly', autumn, OSLO).getTime()).toBe(169 * HOUR);
  });

  it('a cut at a time the spring change skips (02:30) is moved forward; one it repeats (autumn) is the first', () => {
    expect(zonedTimeToInstant({ year: 2026, month: 3, day: 29 }, 2, 30, 'Europe/Oslo').toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    expect(zonedTimeToInstant({ year: 2026, month: 10, day: 25 }, 2, 30, 'Europe/Oslo').toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    const night = { ...OSLO, hour: 2, minute: 30 };
    const end = periodEndFor('daily', at('2026-03-29T02:00:00Z'), night);
    expect(end.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(defaultPeriodStart('daily', end, night).toISOString()).toBe('2026-03-28T01:30:00.000Z');
  });
});

describe('weekly periods', () => {
  it('end on the latest Monday 07:00 at or before the scheduled time', () => {
    // Monday 30 November 2026.
    expect(periodEndFor('weekly', at('2026-11-30T06:00:00Z'), OSLO).toISOString()).toBe('2026-11-30T06:00:00.000Z');
    // Wednesday 2 December: still the Monday's cut.
    expect(periodEndFor('weekly', at('2026-12-02T10:00:00Z'), OSLO).toISOString()).toBe('2026-11-30T06:00:00.000Z');
    // Monday before 07:00: the previous Monday.
    expect(periodEndFor('weekly', at('2026-11-30T05:00:00Z'), OSLO).toISOString()).toBe('2026-11-23T06:00:00.000Z');
    expect(defaultPeriodStart('weekly', at('2026-11-30T06:00:00Z'), OSLO).toISOString()).toBe(
      '2026-11-23T06:00:00.000Z',
    );
  });

  it('follow DIGEST_WEEKDAY', () => {
    const friday = { ...OSLO, weekday: 'friday' as const };
    // Friday 4 December 2026.
    expect(periodEndFor('weekly', at('2026-12-06T12:00:00Z'), friday).toISOString()).toBe('2026-12-04T06:00:00.000Z');
  });

  it('cutsBefore counts local periods back', () => {
    expect(cutsBefore('daily', at('2026-12-08T06:00:00Z'), 7, OSLO).toISOString()).toBe('2026-12-01T06:00:00.000Z');
    expect(cutsBefore('weekly', at('2026-11-30T06:00:00Z'), 4, OSLO).toISOString()).toBe('2026-11-02T06:00:00.000Z');
  });
});

describe('cron pattern and settings', () => {
  it('makes second-minute-hour patterns 30 s after the cut, weekly with the day of the week', () => {
    // 30 s after the cut, so a publication whose transaction began just before it has committed.
    expect(cronPattern('daily', OSLO)).toBe('30 0 7 * * *');
    expect(cronPattern('weekly', OSLO)).toBe('30 0 7 * * 1');
    expect(cronPattern('weekly', { hour: 18, minute: 30, weekday: 'sunday' })).toBe('30 30 18 * * 0');
  });

  it('parses and refuses times, zones and weekdays', () => {
    expect(parseLocalTime('07:00')).toEqual({ hour: 7, minute: 0 });
    expect(parseLocalTime('23:59')).toEqual({ hour: 23, minute: 59 });
    for (const bad of ['7:00', '24:00', '07:60', '0700', 'seven']) expect(() => parseLocalTime(bad)).toThrow(/HH:MM/);
    expect(parseTimeZone('Europe/Oslo')).toBe('Europe/Oslo');
    expect(parseTimeZone('UTC')).toBe('UTC');
    expect(() => parseTimeZone('Europe/Bergen')).toThrow(/IANA/);
    expect(parseWeekday('Monday')).toBe('monday');
    expect(() => parseWeekday('mandag')).toThrow(/weekday/);
  });

  it('defaults to 07:00 Europe/Oslo on Mondays and names a bad setting', () => {
    const env = { DATABASE_URL: 'postgresql://x@localhost/x', REDIS_URL: 'redis://localhost' };
    expect(loadConfig(env).digest).toEqual(OSLO);
    expect(loadConfig({ ...env, DIGEST_TIME: '06:30', DIGEST_WEEKDAY: 'friday' }).digest).toMatchObject({
      hour: 6,
      minute: 30,
      weekday: 'friday',
    });
    expect(() => loadConfig({ ...env, DIGEST_TIME_ZONE: 'Mars/Olympus' })).toThrow(/DIGEST_TIME_ZONE/);
    expect(() => loadConfig({ ...env, DIGEST_TIME: '7am' })).toThrow(/DIGEST_TIME/);
  });
});

describe('the scheduled time of a run job', () => {
  const job = (opts: Record<string, unknown>, id: string, timestamp = Date.parse('2026-12-02T09:00:00Z')) =>
    ({ opts, id, timestamp }) as Parameters<typeof scheduledTimeOf>[0];

  it("is scheduledAt of a run added by hand, else the scheduler's prevMillis, else the time in its id, else its creation", () => {
    const firing = Date.parse('2026-12-02T06:00:30Z');
    expect(scheduledTimeOf(job({ prevMillis: firing }, `repeat:digest-daily:${firing}`)).getTime()).toBe(firing);
    expect(scheduledTimeOf(job({}, `repeat:digest-daily:${firing}`)).getTime()).toBe(firing);
    expect(scheduledTimeOf(job({}, 'run-by-hand'), { scheduledAt: firing }).getTime()).toBe(firing);
    expect(scheduledTimeOf(job({}, 'run-by-hand')).toISOString()).toBe('2026-12-02T09:00:00.000Z');
    // A late job (processed hours after it fired) still names its own firing.
    expect(periodEndFor('daily', scheduledTimeOf(job({ prevMillis: firing }, 'x')), OSLO).toISOString()).toBe(
      '2026-12-02T06:00:00.000Z',
    );
  });
});
