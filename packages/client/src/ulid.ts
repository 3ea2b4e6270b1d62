import { randomBytes } from 'node:crypto';

const ENCODING = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A ULID (26 characters of Crockford base32: 48-bit time, 80 random bits), monotonic within a
 * millisecond so that ids sort in the order they were made, like the server's own ids.
 */
export function ulid(now: number = Date.now()): string {
  let time = Math.max(0, Math.floor(now));
  if (time > lastTime) {
    lastTime = time;
    lastRandom = Array.from(randomBytes(16), (b) => b & 31);
  } else {
    // Same (or an earlier, if the clock stepped back) millisecond: keep the order.
    time = lastTime;
    increment(lastRandom);
  }
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ENCODING[time % 32]! + out;
    time = Math.floor(time / 32);
  }
  for (const digit of lastRandom) out += ENCODING[digit]!;
  return out;
}

/** Adds one to the random part; on the (astronomically rare) overflow draws new randomness. */
function increment(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return;
    }
    digits[i] = 0;
  }
  lastRandom = Array.from(randomBytes(16), (b) => b & 31);
}
