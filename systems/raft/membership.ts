// Config entries carry the full new voter set: 4 bytes per voter, big-endian, sorted.
import { assert, fail } from '../../sim/assert.ts';
import type { NodeId } from './types.ts';

export function encodeVoters(voters: readonly NodeId[]): Uint8Array {
  const sorted = [...voters].sort((a, b) => a - b);
  const bytes = new Uint8Array(sorted.length * 4);
  const view = new DataView(bytes.buffer);
  sorted.forEach((id, position) => {
    if (!(Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff)) {
      fail(`voter id ${id} out of range`);
    }
    view.setUint32(position * 4, id);
  });
  return bytes;
}

export function decodeVoters(data: Uint8Array): NodeId[] {
  assert(data.length % 4 === 0, 'a config entry holds 4 bytes per voter');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const voters: NodeId[] = [];
  for (let offset = 0; offset < data.length; offset += 4) {
    voters.push(view.getUint32(offset));
  }
  return voters;
}
