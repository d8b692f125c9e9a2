import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret } from 'otpauth';

/**
 * TOTP (RFC 6238) as AWS virtual MFA devices use it: HMAC-SHA-1, 30-second steps,
 * 6 digits, the secret exchanged as RFC 4648 Base32. The HOTP arithmetic is otpauth's;
 * this module only fixes the parameters and works in time steps, which is what the MFA
 * handlers reason about (consecutive codes, drift, replay).
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;

/** The time step containing a moment (ms since the epoch). */
export function timeStep(ms: number): number {
  return Math.floor(ms / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for one time step. The secret is Base32 text or raw bytes. */
export function totpCode(secret: string | Uint8Array, step: number, digits = TOTP_DIGITS): string {
  return HOTP.generate({ secret: toSecret(secret), algorithm: 'SHA1', digits, counter: step });
}

/** The code at a moment (ms since the epoch). */
export function totpAt(secret: string | Uint8Array, ms: number, digits = TOTP_DIGITS): string {
  return totpCode(secret, timeStep(ms), digits);
}

/**
 * The steps in [from, to] whose code is `code`, lowest first (normally at most one; two
 * steps can share a code by chance). Compared in constant time.
 */
export function stepsMatching(secret: string | Uint8Array, code: string, from: number, to: number): number[] {
  if (!/^\d+$/.test(code)) return [];
  const key = toSecret(secret);
  const want = Buffer.from(code);
  const out: number[] = [];
  for (let s = from; s <= to; s++) {
    const got = Buffer.from(HOTP.generate({ secret: key, algorithm: 'SHA1', digits: code.length, counter: s }));
    if (got.length === want.length && timingSafeEqual(got, want)) out.push(s);
  }
  return out;
}

/** A new random secret of `bytes` bytes (160 bits by default, RFC 4226's recommendation), as Base32. */
export function newSecretBase32(bytes = 20): string {
  return base32Encode(randomBytes(bytes));
}

/** RFC 4648 Base32, upper case, without padding (as authenticator apps expect it). */
export function base32Encode(bytes: Uint8Array): string {
  return new Secret({ buffer: new Uint8Array(bytes).buffer }).base32;
}

export function base32Decode(text: string): Uint8Array {
  return Secret.fromBase32(text).bytes;
}

function toSecret(secret: string | Uint8Array): Secret {
  return typeof secret === 'string' ? Secret.fromBase32(secret) : new Secret({ buffer: new Uint8Array(secret).buffer });
}
