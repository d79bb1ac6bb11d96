/**
 * A small, deterministic gzip (RFC 1951/1952): LZ77 with hash chains and one-step lazy matching, coded with
 * DEFLATE's fixed Huffman table in a single block. Node's zlib (Chromium's) picks matches with
 * CPU-dependent hashing, so its output can differ between machines; user-data must be byte-identical
 * wherever the stack is synthesized (a changed user_data means a stopped/replaced database machine).
 * Any gzip reader inflates this (the tests check it against zlib).
 */

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
  4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

const WINDOW = 32768;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
const MAX_CHAIN = 512;
const HASH_BITS = 15;

class BitWriter {
  private readonly bytes: number[] = [];
  private bitBuffer = 0;
  private bitCount = 0;

  /** `count` bits of `value`, least significant first (DEFLATE's order for everything but Huffman codes). */
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.bitBuffer |= ((value >>> i) & 1) << this.bitCount;
      if (++this.bitCount === 8) {
        this.bytes.push(this.bitBuffer);
        this.bitBuffer = 0;
        this.bitCount = 0;
      }
    }
  }

  /** A Huffman code: most significant bit first. */
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.bits((value >>> i) & 1, 1);
  }

  finish(): Buffer {
    if (this.bitCount > 0) this.bytes.push(this.bitBuffer);
    return Buffer.from(this.bytes);
  }
}

/** Fixed Huffman code of a literal/length symbol (RFC 1951, 3.2.6). */
function literalLength(out: BitWriter, symbol: number): void {
  if (symbol < 144) out.code(0x30 + symbol, 8);
  else if (symbol < 256) out.code(0x190 + symbol - 144, 9);
  else if (symbol < 280) out.code(symbol - 256, 7);
  else out.code(0xc0 + symbol - 280, 8);
}

function lastIndexAtMost(table: number[], value: number): number {
  let i = table.length - 1;
  while (table[i] > value) i--;
  return i;
}

function writeMatch(out: BitWriter, length: number, distance: number): void {
  const l = lastIndexAtMost(LENGTH_BASE, length);
  literalLength(out, 257 + l);
  out.bits(length - LENGTH_BASE[l], LENGTH_EXTRA[l]);
  const d = lastIndexAtMost(DIST_BASE, distance);
  out.code(d, 5);
  out.bits(distance - DIST_BASE[d], DIST_EXTRA[d]);
}

/** Raw DEFLATE of `input`: one final block with fixed Huffman codes. */
export function deflateRaw(input: Uint8Array): Buffer {
  const out = new BitWriter();
  out.bits(1, 1); // BFINAL
  out.bits(1, 2); // BTYPE = 01, fixed Huffman
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(WINDOW).fill(-1);
  const n = input.length;
  const hashAt = (i: number) => ((input[i] << 10) ^ (input[i + 1] << 5) ^ input[i + 2]) & ((1 << HASH_BITS) - 1);
  const insert = (i: number) => {
    if (i + MIN_MATCH > n) return;
    const h = hashAt(i);
    prev[i % WINDOW] = head[h];
    head[h] = i;
  };
  // Longest earlier match for position i (the nearest one among equals); inserts nothing.
  const longest = (i: number): { length: number; distance: number } => {
    let best = { length: 0, distance: 0 };
    if (i + MIN_MATCH > n) return best;
    const limit = Math.min(MAX_MATCH, n - i);
    let candidate = head[hashAt(i)];
    for (let chain = 0; candidate >= 0 && i - candidate <= WINDOW && chain < MAX_CHAIN; chain++) {
      let length = 0;
      while (length < limit && input[candidate + length] === input[i + length]) length++;
      if (length > best.length) {
        best = { length, distance: i - candidate };
        if (length === limit) break;
      }
      const next = prev[candidate % WINDOW];
      if (next >= candidate) break;
      candidate = next;
    }
    return best.length >= MIN_MATCH ? best : { length: 0, distance: 0 };
  };
  let i = 0;
  while (i < n) {
    const match = longest(i);
    if (match.length > 0 && match.length < MAX_MATCH && i + 1 < n) {
      // One-step lazy matching: a longer match at the next byte wins over this one.
      insert(i);
      const next = longest(i + 1);
      if (next.length > match.length) {
        literalLength(out, input[i]);
        i += 1;
        continue;
      }
      writeMatch(out, match.length, match.distance);
      for (let k = 1; k < match.length; k++) insert(i + k);
      i += match.length;
    } else if (match.length > 0) {
      writeMatch(out, match.length, match.distance);
      for (let k = 0; k < match.length; k++) insert(i + k);
      i += match.length;
    } else {
      literalLength(out, input[i]);
      insert(i);
      i += 1;
    }
  }
  literalLength(out, 256); // end of block
  return out.finish();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(input: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of input) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** gzip member with a fixed header: no name, mtime 0, OS "Unix". */
export function gzipDeterministic(input: Uint8Array): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(input), 0);
  trailer.writeUInt32LE(input.length >>> 0, 4);
  return Buffer.concat([header, deflateRaw(input), trailer]);
}
