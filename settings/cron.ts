// Cron schedules of Kubernetes CronJobs, in the numeric form that every tool here reads.

const fieldRanges: [number, number][] = [
  [0, 59], // minute
  [0, 23], // hour
  [1, 31], // day of month
  [1, 12], // month
  [0, 6], // day of week
];

/** True for a five-field schedule of numbers, ranges, lists and steps, each within range. */
export function isNumericCron(schedule: string): boolean {
  const fields = schedule.trim().split(/\s+/);
  return fields.length === 5 && fields.every((field, i) => isField(field, ...fieldRanges[i]));
}

function isField(field: string, min: number, max: number): boolean {
  return field.split(",").every((part) => {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return false;
    const [, , from, to, step] = match;
    const inRange = (n: string | undefined) =>
      n === undefined || (Number(n) >= min && Number(n) <= max);
    const ordered = from === undefined || to === undefined || Number(from) <= Number(to);
    return inRange(from) && inRange(to) && ordered && (step === undefined || Number(step) > 0);
  });
}
