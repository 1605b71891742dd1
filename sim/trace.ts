// The trace hash: a rolling 64-bit hash (two 32-bit lanes) over every event's time, kind,
// node and payload digest. Same seed + same code = same hash; a changed hash means the run
// took a different path.

const DIGEST_NODES_MAX = 4096;

function mix(hash: number, value: number): number {
  let h = Math.imul(hash ^ value, 0x5bd1e995);
  h ^= h >>> 15;
  return h;
}

function digestString(hash: number, text: string): number {
  let h = hash;
  for (let index = 0; index < text.length; index++) {
    h = Math.imul(h ^ text.charCodeAt(index), 0x01000193);
  }
  return h;
}

function digestNumber(hash: number, value: number): number {
  if (Number.isInteger(value) && value >= -0x8000_0000 && value <= 0x7fff_ffff) {
    return mix(hash, value);
  }
  // Large integers and floats: hash their exact decimal form.
  return digestString(mix(hash, 0x6e), String(value));
}

// Reused across calls: digests happen on every send, and the stack never escapes.
const digestStack: unknown[] = [];

/**
 * A structural digest of a plain value (objects in key order, arrays, typed arrays, strings,
 * numbers, booleans, null). Bounded: past DIGEST_NODES_MAX nodes the rest is not looked at.
 */
export function digestValue(value: unknown): number {
  let hash = 0x811c9dc5;
  const stack = digestStack;
  stack.push(value);
  let visited = 0;
  while (stack.length > 0 && visited < DIGEST_NODES_MAX) {
    const item = stack.pop();
    visited++;
    switch (typeof item) {
      case 'number':
        hash = digestNumber(hash, item);
        break;
      case 'string':
        hash = digestString(mix(hash, 0x73), item);
        break;
      case 'boolean':
        hash = mix(hash, item ? 0x74 : 0x66);
        break;
      case 'bigint':
        hash = digestString(mix(hash, 0x62), item.toString());
        break;
      case 'object':
        hash = digestObject(hash, item, stack);
        break;
      default:
        hash = mix(hash, 0x75);
    }
  }
  if (stack.length > 0) {
    stack.length = 0; // only when the bound cut the walk short: setting length is slow
  }
  return hash >>> 0;
}

function digestObject(hash: number, item: object | null, stack: unknown[]): number {
  if (item === null) {
    return mix(hash, 0x6c);
  }
  if (item instanceof Uint8Array) {
    // Four bytes per multiply: payloads (log entries, snapshot chunks) are most of what a
    // Raft run digests, and the multiply chain is what the byte loop waited on.
    const length = item.length;
    let h = mix(hash, length);
    const words = length - (length % 4);
    let index = 0;
    for (; index < words; index += 4) {
      const word =
        (item[index] as number) |
        ((item[index + 1] as number) << 8) |
        ((item[index + 2] as number) << 16) |
        ((item[index + 3] as number) << 24);
      h = Math.imul(h ^ word, 0x01000193);
    }
    for (; index < length; index++) {
      h = Math.imul(h ^ (item[index] as number), 0x01000193);
    }
    return h;
  }
  if (Array.isArray(item)) {
    for (let index = item.length - 1; index >= 0; index--) {
      stack.push(item[index]);
    }
    return mix(hash, 0x61 + item.length);
  }
  const record = item as Record<string, unknown>;
  let h = mix(hash, 0x6f);
  // Keys are hashed in insertion order; their values are pushed and so hashed in reverse
  // order, which is just as deterministic. for-in avoids allocating a key array per message.
  for (const key in record) {
    h = mix(h, keyDigest(key));
    stack.push(record[key]);
  }
  return h;
}

// A run digests the same few dozen field names millions of times: each is hashed once.
const KEY_DIGESTS_MAX = 65_536;
const keyDigests = new Map<string, number>();

function keyDigest(key: string): number {
  let digest = keyDigests.get(key);
  if (digest === undefined) {
    digest = digestString(0x811c9dc5, key);
    if (keyDigests.size < KEY_DIGESTS_MAX) {
      keyDigests.set(key, digest);
    }
  }
  return digest;
}

export class TraceHash {
  private low = 0x9e3779b9;
  private high = 0x7f4a7c15;

  add(timeUs: number, kind: number, node: number, digest: number): void {
    let low = this.low;
    let high = this.high;
    low = mix(low, timeUs | 0);
    low = mix(low, Math.floor(timeUs / 0x1_0000_0000));
    low = mix(low, (kind << 16) ^ (node & 0xffff));
    low = mix(low, digest);
    high = mix(high ^ low, digest + kind);
    high = mix(high, timeUs | 0);
    this.low = low;
    this.high = high;
  }

  hex(): string {
    return (
      (this.high >>> 0).toString(16).padStart(8, '0') +
      (this.low >>> 0).toString(16).padStart(8, '0')
    );
  }
}
