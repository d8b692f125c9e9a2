/**
 * The one source of "now" for Nimbus. Tests (and later the lifecycle and schedule
 * workers) shift time through setClockOffset instead of waiting for it.
 */
let offsetMs = 0;

export function now(): number {
  return Date.now() + offsetMs;
}

export function nowDate(): Date {
  return new Date(now());
}

/** Moves Nimbus's clock by `ms` relative to the wall clock (tests only). */
export function setClockOffset(ms: number): void {
  offsetMs = ms;
}
