/**
 * Replication slot names the engines create on a provider, computed here so that Patroni can keep them as
 * permanent slots (copied to the standbys, so a subscription resumes after a failover of the provider group).
 */

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * PostgreSQL's `hash_bytes` (src/common/hashfn.c: Bob Jenkins' lookup3, little-endian byte order), which
 * `hashtext()` and pglogical's `shorten_hash` use. Unsigned 32-bit result.
 */
export function pgHashBytes(input: Uint8Array): number {
  let a: number, b: number, c: number;
  a = b = c = (0x9e3779b9 + input.length + 3923095) >>> 0;
  const word = (i: number): number => (input[i] | (input[i + 1] << 8) | (input[i + 2] << 16) | (input[i + 3] << 24)) >>> 0;
  let k = 0;
  let len = input.length;
  while (len >= 12) {
    a = (a + word(k)) >>> 0;
    b = (b + word(k + 4)) >>> 0;
    c = (c + word(k + 8)) >>> 0;
    // mix(a, b, c)
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    k += 12;
    len -= 12;
  }
  // The tail: bytes 8..10 go to c from bit 8 up (the low byte of c is left alone), 4..7 to b, 0..3 to a.
  const byte = (i: number): number => input[k + i];
  // (lookup3's fall-through switch, as cumulative conditions.)
  const add = (x: number, i: number, shift: number): number => (len > i ? (x + ((byte(i) << shift) >>> 0)) >>> 0 : x);
  c = add(add(add(c, 10, 24), 9, 16), 8, 8);
  b = add(add(add(add(b, 7, 24), 6, 16), 5, 8), 4, 0);
  a = add(add(add(add(a, 3, 24), 2, 16), 1, 8), 0, 0);
  // final(a, b, c)
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  return c;
}

/**
 * pglogical's `shorten_hash(str, maxlen)`: the string itself when it fits, else its first `maxlen - 8`
 * bytes and the hex hash, cut by snprintf to `maxlen - 1` characters.
 */
export function pglogicalShortenHash(text: string, maxlen: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxlen) return text;
  const hex = pgHashBytes(bytes).toString(16).padStart(8, '0');
  return Buffer.concat([bytes.subarray(0, maxlen - 8), Buffer.from(hex)]).subarray(0, maxlen - 1).toString('latin1');
}

/** pglogical 2's slot name: `pgl_<subscriber db>_<provider node>_<subscription>`, each part shortened to 16, invalid characters as `_`. */
export function pglogicalSlotName(database: string, providerNode: string, subscription: string): string {
  // The arguments are of type `name`: at most NAMEDATALEN - 1 = 63 bytes.
  const part = (text: string) => pglogicalShortenHash(Buffer.from(text, 'utf8').subarray(0, 63).toString('utf8'), 16);
  const raw = `pgl_${part(database)}_${part(providerNode)}_${part(subscription)}`;
  return raw.slice(0, 63).replace(/[^a-z0-9_]/g, '_');
}
