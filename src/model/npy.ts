/** NumPy .npy (format 1.0) reading and writing for float32 matrices, so Python users can np.load them. */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

const MAGIC = '\x93NUMPY';

export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(`Expected ${count} elements for shape (${shape.join(', ')}) but received ${data.length}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Header length (magic 6 + version 2 + len 2 + header + newline) padded to a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  for (let i = 0; i < 6; i++) out[i] = MAGIC.charCodeAt(i);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function writeNpy(path: string, data: Float32Array, shape: number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}

/** Reads a little-endian float32 or float64 C-order array (float64 is converted to float32). */
export function readNpy(path: string): NpyArray {
  const bytes = readFileSync(path);
  const fail = (why: string): never => {
    throw new Error(`${path}: not a readable .npy file: ${why}`);
  };
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== MAGIC) fail('bad magic');
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? fail('no descr');
  if (/'fortran_order':\s*True/.test(header)) fail('fortran_order arrays are not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail('no shape');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : fail(`dtype ${descr} (expected <f4 or <f8)`);
  if (bytes.length - offset !== count * width) fail(`expected ${count * width} data bytes, found ${bytes.length - offset}`);
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * width);
  for (let i = 0; i < count; i++) data[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  return { data, shape };
}
