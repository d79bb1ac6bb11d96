/**
 * A small, deterministic gzip (RFC 1951/1952): LZ77 with hash chains and one-step lazy matching, coded in
 * one block with length-limited Huffman codes built for the data (or DEFLATE's fixed table when smaller). Node's zlib (Chromium's) picks matches with
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

type Token = number | { length: number; distance: number };

/** LZ77: literals (byte values) and back-references, with hash chains and one-step lazy matching. */
function tokenize(input: Uint8Array): Token[] {
  const tokens: Token[] = [];
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
    insert(i);
    if (match.length === 0) {
      tokens.push(input[i]);
      i += 1;
      continue;
    }
    // One-step lazy matching: a longer match at the next byte wins over this one.
    if (match.length < MAX_MATCH && i + 1 < n && longest(i + 1).length > match.length) {
      tokens.push(input[i]);
      i += 1;
      continue;
    }
    tokens.push(match);
    for (let k = 1; k < match.length; k++) insert(i + k);
    i += match.length;
  }
  return tokens;
}

const lengthSymbol = (length: number) => lastIndexAtMost(LENGTH_BASE, length);
const distanceSymbol = (distance: number) => lastIndexAtMost(DIST_BASE, distance);

/**
 * Length-limited Huffman code lengths by package-merge: optimal for the limit, and deterministic (ties go
 * to the lower symbol). Always at least two codes, so every code set is complete (what inflaters expect).
 */
export function codeLengths(frequencies: number[], limit: number): number[] {
  const freq = frequencies.slice();
  const used = () => freq.map((f, i) => (f > 0 ? i : -1)).filter((i) => i >= 0);
  for (let pad = 0; used().length < 2; pad++) if (freq[pad] === 0) freq[pad] = 1;
  const symbols = used();
  type Item = { weight: number; counts: Map<number, number>; order: number };
  const leaves: Item[] = symbols
    .map((symbol) => ({ weight: freq[symbol], counts: new Map([[symbol, 1]]), order: symbol }))
    .sort((a, b) => a.weight - b.weight || a.order - b.order);
  let list = leaves;
  for (let level = 1; level < limit; level++) {
    const packages: Item[] = [];
    for (let k = 0; k + 1 < list.length; k += 2) {
      const counts = new Map(list[k].counts);
      for (const [symbol, c] of list[k + 1].counts) counts.set(symbol, (counts.get(symbol) ?? 0) + c);
      packages.push({ weight: list[k].weight + list[k + 1].weight, counts, order: 1 << 20 });
    }
    list = [...leaves, ...packages].sort((a, b) => a.weight - b.weight || a.order - b.order);
  }
  const lengths = new Array<number>(frequencies.length).fill(0);
  for (const item of list.slice(0, 2 * symbols.length - 2)) {
    for (const [symbol, c] of item.counts) lengths[symbol] += c;
  }
  return lengths;
}

/** Canonical Huffman codes from code lengths (RFC 1951, 3.2.2). */
function canonicalCodes(lengths: number[]): number[] {
  const maxBits = Math.max(...lengths);
  const count = new Array<number>(maxBits + 1).fill(0);
  for (const l of lengths) if (l > 0) count[l]++;
  const next = new Array<number>(maxBits + 2).fill(0);
  for (let bits = 1, code = 0; bits <= maxBits; bits++) {
    code = (code + count[bits - 1]) << 1;
    next[bits] = code;
  }
  return lengths.map((l) => (l > 0 ? next[l]++ : 0));
}

function lastNonZero(values: number[]): number {
  let i = values.length - 1;
  while (i >= 0 && values[i] === 0) i--;
  return i;
}

const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Run-length coding of code lengths with symbols 16 (repeat previous), 17 and 18 (runs of zeros). */
function runLengths(lengths: number[]): { symbol: number; extra: number; bits: number }[] {
  const out: { symbol: number; extra: number; bits: number }[] = [];
  for (let i = 0; i < lengths.length;) {
    const value = lengths[i];
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === value) run++;
    if (value === 0 && run >= 3) {
      const take = Math.min(run, 138);
      out.push(take >= 11 ? { symbol: 18, extra: take - 11, bits: 7 } : { symbol: 17, extra: take - 3, bits: 3 });
      i += take;
    } else if (value !== 0 && run >= 4) {
      out.push({ symbol: value, extra: 0, bits: 0 });
      const take = Math.min(run - 1, 6);
      out.push({ symbol: 16, extra: take - 3, bits: 2 });
      i += 1 + take;
    } else {
      out.push({ symbol: value, extra: 0, bits: 0 });
      i += 1;
    }
  }
  return out;
}

function writeTokens(out: BitWriter, tokens: Token[], literal: (symbol: number) => void, distance: (symbol: number) => void): void {
  for (const t of tokens) {
    if (typeof t === 'number') {
      literal(t);
      continue;
    }
    const l = lengthSymbol(t.length);
    literal(257 + l);
    out.bits(t.length - LENGTH_BASE[l], LENGTH_EXTRA[l]);
    const d = distanceSymbol(t.distance);
    distance(d);
    out.bits(t.distance - DIST_BASE[d], DIST_EXTRA[d]);
  }
  literal(256); // end of block
}

function fixedBlock(tokens: Token[]): Buffer {
  const out = new BitWriter();
  out.bits(1, 1); // BFINAL
  out.bits(1, 2); // BTYPE 01: fixed Huffman
  writeTokens(out, tokens, (symbol) => literalLength(out, symbol), (symbol) => out.code(symbol, 5));
  return out.finish();
}

function dynamicBlock(tokens: Token[]): Buffer {
  const litFreq = new Array<number>(286).fill(0);
  const distFreq = new Array<number>(30).fill(0);
  for (const t of tokens) {
    if (typeof t === 'number') litFreq[t]++;
    else {
      litFreq[257 + lengthSymbol(t.length)]++;
      distFreq[distanceSymbol(t.distance)]++;
    }
  }
  litFreq[256]++;
  const litLengths = codeLengths(litFreq, 15);
  const distLengths = codeLengths(distFreq, 15);
  const hlit = Math.max(257, lastNonZero(litLengths) + 1);
  const hdist = Math.max(1, lastNonZero(distLengths) + 1);
  const rle = runLengths([...litLengths.slice(0, hlit), ...distLengths.slice(0, hdist)]);
  const clFreq = new Array<number>(19).fill(0);
  for (const r of rle) clFreq[r.symbol]++;
  const clLengths = codeLengths(clFreq, 7);
  const hclen = Math.max(4, lastNonZero(CODE_LENGTH_ORDER.map((s) => clLengths[s])) + 1);
  const litCodes = canonicalCodes(litLengths);
  const distCodes = canonicalCodes(distLengths);
  const clCodes = canonicalCodes(clLengths);
  const out = new BitWriter();
  out.bits(1, 1); // BFINAL
  out.bits(2, 2); // BTYPE 10: dynamic Huffman
  out.bits(hlit - 257, 5);
  out.bits(hdist - 1, 5);
  out.bits(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) out.bits(clLengths[CODE_LENGTH_ORDER[k]], 3);
  for (const r of rle) {
    out.code(clCodes[r.symbol], clLengths[r.symbol]);
    out.bits(r.extra, r.bits);
  }
  writeTokens(out, tokens, (symbol) => out.code(litCodes[symbol], litLengths[symbol]),
    (symbol) => out.code(distCodes[symbol], distLengths[symbol]));
  return out.finish();
}

/** Raw DEFLATE of `input`: one final block, dynamic or fixed Huffman, whichever is smaller. */
export function deflateRaw(input: Uint8Array): Buffer {
  const tokens = tokenize(input);
  const fixed = fixedBlock(tokens);
  const dynamic = dynamicBlock(tokens);
  return dynamic.length < fixed.length ? dynamic : fixed;
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
