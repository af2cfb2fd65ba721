import { Da3Error } from '../errors.js';
import type { ByteSource } from '../io.js';

/**
 * A {@link ByteSource} over bytes already in memory (tests, small models, a fetched buffer).
 * Reads return views into `bytes`, not copies.
 */
export function memoryByteSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new Da3Error('OUT_OF_RANGE', `memoryByteSource: read [${offset}, ${offset + length}) outside 0..${bytes.byteLength}`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}
