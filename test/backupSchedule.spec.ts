import { expect } from "chai";
import {
  longestBackupIntervalSeconds,
  maxBackupAgeSeconds,
} from "../components/monitoring/backupSchedule";

const hour = 3600;
const day = 24 * hour;

describe("Backup schedule", () => {
  const intervals: [string, number][] = [
    ["0 */6 * * *", 6 * hour],
    ["0 */4 * * *", 4 * hour],
    ["0 3 * * *", day],
    ["15 1,13 * * *", 12 * hour],
    ["0 2 * * 1-5", 3 * day],
    ["30 1 * * 0", 7 * day],
    ["30 1 * * 7", 7 * day],
    ["0 0 1 * *", 31 * day],
  ];
  for (const [schedule, seconds] of intervals) {
    it(`finds ${seconds / hour} hours as the longest gap of '${schedule}'`, () => {
      expect(longestBackupIntervalSeconds(schedule)).to.equal(seconds);
    });
  }

  it("runs on either day field when both are restricted, as cron does", () => {
    expect(longestBackupIntervalSeconds("0 0 1,15 * *")).to.equal(17 * day);
    expect(longestBackupIntervalSeconds("0 0 1,15 * 1")).to.equal(7 * day);
  });

  it("allows two hours for the backup itself on top of the longest gap", () => {
    expect(maxBackupAgeSeconds("0 3 * * *")).to.equal(26 * hour);
  });

  for (const schedule of ["0 0 * * MON", "@daily", "0 24 * * *", "*/0 * * * *", "0 0 31 2 *"]) {
    it(`rejects '${schedule}', naming bot3:backup.schedule and the fix`, () => {
      expect(() => longestBackupIntervalSeconds(schedule)).to.throw(
        /^bot3:backup\.schedule ".*" cannot .* Use five numeric cron fields/,
      );
    });
  }
});
