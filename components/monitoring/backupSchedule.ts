// How stale the newest backup may become before `Bot3BackupTooOld` fires, derived from the
// backup CronJob's schedule so that a schedule change moves the alert with it.

const fieldRanges: readonly [string, number, number][] = [
  ["minute", 0, 59],
  ["hour", 0, 23],
  ["day of month", 1, 31],
  ["month", 1, 12],
  ["day of week", 0, 7],
];

// A backup takes minutes; two hours cover a slow dump plus a retried Job.
const backupDurationAllowanceSeconds = 2 * 3600;
// Two years hold every pattern a five-field schedule can express, including 29 February.
const simulatedDays = 731;

/**
 * The longest gap, in seconds, between two consecutive runs of a five-field cron schedule.
 * Throws, naming `bot3:backup.schedule`, for a schedule it cannot read (names such as `MON`
 * or `@daily`) or one that never runs.
 */
export function longestBackupIntervalSeconds(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) fail(schedule, "it needs five fields");
  const [minutes, hours, days, months, weekdays] = fields.map((field, i) =>
    expandField(schedule, field, fieldRanges[i]),
  );
  // Sunday is both 0 and 7 in cron.
  if (weekdays.has(7)) weekdays.add(0);
  const dayRestricted = fields[2] !== "*";
  const weekdayRestricted = fields[4] !== "*";

  const runs: number[] = [];
  const start = Date.UTC(2024, 0, 1);
  for (let day = 0; day < simulatedDays; day++) {
    const date = new Date(start + day * 86_400_000);
    if (!months.has(date.getUTCMonth() + 1)) continue;
    const dayMatches = days.has(date.getUTCDate());
    const weekdayMatches = weekdays.has(date.getUTCDay());
    // When both day fields are restricted, cron runs on a day matching either of them.
    const runsToday =
      dayRestricted && weekdayRestricted
        ? dayMatches || weekdayMatches
        : dayMatches && weekdayMatches;
    if (!runsToday) continue;
    for (const hour of [...hours].sort((a, b) => a - b)) {
      for (const minute of [...minutes].sort((a, b) => a - b)) {
        runs.push(date.getTime() / 1000 + hour * 3600 + minute * 60);
      }
    }
  }
  if (runs.length < 2) fail(schedule, "it never runs twice in two years");
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i] - runs[i - 1]);
  return longest;
}

/** The alert threshold: one full gap between runs plus the time a backup may take. */
export function maxBackupAgeSeconds(schedule: string): number {
  return longestBackupIntervalSeconds(schedule) + backupDurationAllowanceSeconds;
}

function expandField(
  schedule: string,
  field: string,
  [name, min, max]: readonly [string, number, number],
): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(",")) {
    const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) fail(schedule, `the ${name} field "${field}" is not numeric cron syntax`);
    const [, range, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    const bounds: number[] = range === "*" ? [min, max] : range.split("-").map(Number);
    const low = bounds[0];
    // A single value with a step (`5/10`) runs from that value to the end of the range.
    const high = bounds.length === 2 ? bounds[1] : stepText === undefined ? low : max;
    if (step < 1 || low < min || high > max || low > high) {
      fail(schedule, `the ${name} field "${field}" is outside ${min}-${max}`);
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

function fail(schedule: string, reason: string): never {
  throw new Error(
    `bot3:backup.schedule "${schedule}" cannot be turned into a backup age alert: ${reason}. ` +
      "Use five numeric cron fields such as '0 */6 * * *'.",
  );
}
