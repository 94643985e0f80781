/**
 * Business-day maths in IANA time zones: Friday evening escalates on Monday morning (not Saturday), holidays and
 * custom weeks are skipped, DST changes keep the local opening time, and the end-of-day variant works.
 * Expected instants are written out by hand (UTC), not computed by the code under test.
 */
import { BusinessCalendarSchema } from '../../src/config/incident.js';
import { nextBusinessDay, zoneOffsetMs, zonedDateTime, zonedTimeToInstant } from '../../src/incident/business-calendar.js';

const berlin = BusinessCalendarSchema.parse({ timeZone: 'Europe/Berlin' });
const at = (iso: string) => Date.parse(iso);
const next = (from: string, cal = berlin) => new Date(nextBusinessDay(at(from), cal).at).toISOString();

describe('business calendar', () => {
  it('defaults: Mon–Fri, 09:00–17:00, UTC, no holidays, escalate at the start of the day', () => {
    expect(BusinessCalendarSchema.parse({})).toEqual({
      timeZone: 'UTC',
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
      opensAt: '09:00',
      closesAt: '17:00',
      holidays: [],
      escalateAt: 'start',
    });
  });

  it('Friday evening in Berlin (CET) → Monday 09:00 Berlin = 08:00 UTC', () => {
    // Fri 2026-11-27 19:00 CET = 18:00 UTC
    expect(next('2026-11-27T18:00:00Z')).toBe('2026-11-30T08:00:00.000Z');
    expect(nextBusinessDay(at('2026-11-27T18:00:00Z'), berlin)).toMatchObject({
      localDate: '2026-11-30',
      weekday: 'Mon',
      localTime: '09:00',
    });
  });

  it('uses the local date, not the UTC date: Friday 23:30 UTC is already Saturday in Berlin', () => {
    // Fri 23:30 UTC = Sat 00:30 CET → next business day after Saturday is Monday
    expect(next('2026-11-27T23:30:00Z')).toBe('2026-11-30T08:00:00.000Z');
    // Thu 23:30 UTC = Fri 00:30 CET → Monday, not Friday
    expect(next('2026-11-26T23:30:00Z')).toBe('2026-11-30T08:00:00.000Z');
  });

  it('a weekday → the next day, even before opening time', () => {
    expect(next('2026-11-25T06:00:00Z')).toBe('2026-11-26T08:00:00.000Z'); // Wed 07:00 → Thu 09:00
    expect(next('2026-11-25T20:00:00Z')).toBe('2026-11-26T08:00:00.000Z');
  });

  it('skips holidays (local dates) and follows a custom week', () => {
    const cal = BusinessCalendarSchema.parse({ timeZone: 'Europe/Berlin', holidays: ['2026-12-24', '2026-12-25'] });
    // Wed 2026-12-23 evening → Thu 24 and Fri 25 are holidays → Mon 28
    expect(next('2026-12-23T18:00:00Z', cal)).toBe('2026-12-28T08:00:00.000Z');
    const sunThu = BusinessCalendarSchema.parse({ timeZone: 'Asia/Dubai', days: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu'], opensAt: '08:30' });
    // Thu 2026-11-26 18:00 Dubai (+04) → Sun 2026-11-29 08:30 Dubai = 04:30 UTC
    expect(next('2026-11-26T14:00:00Z', sunThu)).toBe('2026-11-29T04:30:00.000Z');
  });

  it('keeps the local opening time across DST changes', () => {
    // Fri 2026-03-27 (CET) → Mon 2026-03-30 09:00 CEST = 07:00 UTC (clocks went forward on Sunday 29)
    expect(next('2026-03-27T18:00:00Z')).toBe('2026-03-30T07:00:00.000Z');
    // Fri 2026-10-23 (CEST) → Mon 2026-10-26 09:00 CET = 08:00 UTC
    expect(next('2026-10-23T17:00:00Z')).toBe('2026-10-26T08:00:00.000Z');
    // New York: Fri 2026-10-30 18:00 EDT → Mon 2026-11-02 09:00 EST = 14:00 UTC (clocks went back on Sunday 1)
    expect(next('2026-10-30T22:00:00Z', BusinessCalendarSchema.parse({ timeZone: 'America/New_York' }))).toBe('2026-11-02T14:00:00.000Z');
  });

  it('escalateAt end: the closing time of the next business day', () => {
    const cal = BusinessCalendarSchema.parse({ timeZone: 'Europe/Berlin', escalateAt: 'end', closesAt: '18:00' });
    expect(next('2026-11-27T18:00:00Z', cal)).toBe('2026-11-30T17:00:00.000Z');
  });

  it('converts wall times and offsets both ways, including a time skipped by DST', () => {
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
    expect(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'Asia/Kolkata')).toBe(19_800_000);
    expect(zonedDateTime(at('2026-11-27T18:00:00Z'), 'Europe/Berlin')).toEqual({
      year: 2026,
      month: 11,
      day: 27,
      hour: 19,
      minute: 0,
      second: 0,
      weekday: 'Fri',
    });
    expect(new Date(zonedTimeToInstant({ year: 2026, month: 7, day: 1 }, '09:00', 'America/Los_Angeles')).toISOString()).toBe(
      '2026-07-01T16:00:00.000Z',
    );
    // 02:30 does not exist in Berlin on 2026-03-29: it maps to 03:30 CEST = 01:30 UTC
    expect(new Date(zonedTimeToInstant({ year: 2026, month: 3, day: 29 }, '02:30', 'Europe/Berlin')).toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('refuses a bad calendar, naming the field', () => {
    const bad = BusinessCalendarSchema.safeParse({
      timeZone: 'Mars/Olympus',
      days: ['Mon', 'Funday'],
      opensAt: '9am',
      holidays: ['2026-13-01'],
    });
    expect(bad.success).toBe(false);
    const byPath = Object.fromEntries(bad.error!.issues.map((i) => [i.path.join('.'), i.message]));
    expect(byPath.timeZone).toMatch(/IANA time zone/);
    expect(byPath['days.1']).toMatch(/Mon, Tue/);
    expect(byPath.opensAt).toMatch(/HH:MM/);
    expect(byPath['holidays.0']).toMatch(/YYYY-MM-DD/);
    const inverted = BusinessCalendarSchema.safeParse({ opensAt: '18:00', closesAt: '09:00' });
    expect(inverted.error!.issues[0]).toMatchObject({ path: ['closesAt'], message: 'opensAt must be earlier than closesAt' });
  });

  it('a calendar with no business day in reach says so', () => {
    const cal = BusinessCalendarSchema.parse({
      days: ['Mon'],
      holidays: Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2027, 0, 4 + 7 * i)).toISOString().slice(0, 10)),
    });
    expect(() => nextBusinessDay(at('2027-01-01T12:00:00Z'), cal)).toThrow(/no business day in the year after 2027-01-01/);
  });
});
