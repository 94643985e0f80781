/**
 * Business-day maths in an IANA time zone, with Intl only (no tz library). Pure and deterministic: the same
 * instant and calendar always give the same answer for a given Node (ICU) build, so it runs inside workflow
 * code (Intl.DateTimeFormat with an explicit timeZone works in the workflow sandbox; a test proves it).
 *
 * "Next business day" of an instant: take the local date of the instant in the calendar's time zone, then the
 * first later date whose weekday is a business day and which is not a holiday; the answer is that date's opening
 * time (escalateAt 'start', the default) or closing time ('end'), converted back to an instant.
 */
import type { BusinessCalendar, Weekday } from '../config/incident.js';
import { WEEKDAYS } from '../config/incident.js';

export interface LocalDateTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock date and time of an instant in a time zone. */
export function zonedDateTime(instantMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: parts.weekday as Weekday,
  };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms (e.g. +3 600 000 for CET). */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const l = zonedDateTime(instantMs, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant at which the zone's wall clock shows the given local date and time. Two passes settle the
 * offset across a DST change; a wall time that does not exist (skipped by a spring-forward) maps to the
 * instant one offset later, which is the same moment clocks show after the jump.
 */
export function zonedTimeToInstant(date: { year: number; month: number; day: number }, hhmm: string, timeZone: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  const wall = Date.UTC(date.year, date.month - 1, date.day, h, m);
  let instant = wall - zoneOffsetMs(wall, timeZone);
  const corrected = wall - zoneOffsetMs(instant, timeZone);
  if (corrected !== instant) instant = corrected;
  return instant;
}

export function formatLocalDate(d: { year: number; month: number; day: number }): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

function addDays(
  d: { year: number; month: number; day: number },
  days: number,
): { year: number; month: number; day: number; weekday: Weekday } {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  // getUTCDay: 0 = Sunday; WEEKDAYS starts on Monday.
  const weekday = WEEKDAYS[(t.getUTCDay() + 6) % 7];
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate(), weekday };
}

export function isBusinessDay(d: { year: number; month: number; day: number; weekday: Weekday }, calendar: BusinessCalendar): boolean {
  return calendar.days.includes(d.weekday) && !calendar.holidays.includes(formatLocalDate(d));
}

export interface NextBusinessDay {
  /** The escalation instant (ms since the epoch). */
  at: number;
  /** The business day, local date YYYY-MM-DD. */
  localDate: string;
  weekday: Weekday;
  /** The local time of day used (opensAt or closesAt). */
  localTime: string;
}

/** The start (or end) of the next business day after the local date of `fromMs`. */
export function nextBusinessDay(fromMs: number, calendar: BusinessCalendar): NextBusinessDay {
  const local = zonedDateTime(fromMs, calendar.timeZone);
  const time = calendar.escalateAt === 'end' ? calendar.closesAt : calendar.opensAt;
  // A year and a week covers any calendar with at least one business day and a year of holidays.
  for (let i = 1; i <= 372; i++) {
    const day = addDays(local, i);
    if (isBusinessDay(day, calendar)) {
      return {
        at: zonedTimeToInstant(day, time, calendar.timeZone),
        localDate: formatLocalDate(day),
        weekday: day.weekday,
        localTime: time,
      };
    }
  }
  throw new Error(`the business calendar has no business day in the year after ${formatLocalDate(local)}: check days and holidays`);
}
