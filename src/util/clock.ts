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

/**
 * Moves Nimbus's clock by `ms` relative to the wall clock (tests only: an in-process server
 * and its test share this module). Responses then carry the moved time in their Date header
 * (pipeline.ts), so SDKs that correct their clock from it — v3 does on every response —
 * keep signing requests the server accepts; give the client `systemClockOffset: ms` too so
 * its first request is already in step.
 */
export function setClockOffset(ms: number): void {
  offsetMs = ms;
}

export function clockOffset(): number {
  return offsetMs;
}
