/** Argument checks shared by the data modules; each throws a TypeError/RangeError naming the argument. */

/** A value as an error message shows it: strings quoted, so `'3'` is not mistaken for 3. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Uint8Array).length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  return String(value);
}

export function expectUint32Array(value: unknown, name: string, length?: number): Uint32Array {
  if (!(value instanceof Uint32Array)) {
    throw new TypeError(`Expected a Uint32Array for ${name} but received ${show(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`Expected a Uint32Array of length ${length} for ${name} but received length ${value.length}`);
  }
  return value;
}

/** An integer in [min, max] (max defaults to 2^32 - 1, the largest index a Uint32Array holds). */
export function expectInteger(value: unknown, name: string, min = 0, max = 0xffffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`Expected an integer for ${name} but received ${show(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Expected an integer in [${min}, ${max}] for ${name} but received ${value}`);
  }
  return value;
}

/** A finite number in [min, max]. */
export function expectNumber(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected a number for ${name} but received ${show(value)}`);
  }
  if (value < min || value > max || !Number.isFinite(value)) {
    throw new RangeError(`Expected a number in [${min}, ${max}] for ${name} but received ${value}`);
  }
  return value;
}

export function expectBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Expected a boolean for ${name} but received ${show(value)}`);
  return value;
}

export function expectOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string') {
    throw new TypeError(`Expected one of ${allowed.join(', ')} for ${name} but received ${show(value)}`);
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`Expected one of ${allowed.join(', ')} for ${name} but received ${show(value)}`);
  }
  return value as T;
}

/** A plain options object (or undefined, read as {}). */
export function expectOptions<T extends object>(value: unknown, name: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`Expected an options object for ${name} but received ${show(value)}`);
  }
  return value as Partial<T>;
}

/** A Dataset (as loadDataset returns): integer nUsers and nItems and a train CSR of that shape. */
export function expectDataset(value: unknown, name: string): void {
  const d = value as { nUsers?: unknown; nItems?: unknown; train?: { rows?: unknown; cols?: unknown; indptr?: unknown; indices?: unknown } };
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new TypeError(`Expected a Dataset (from loadDataset) for ${name} but received ${show(value)}`);
  expectInteger(d.nUsers, `${name}.nUsers`, 1);
  expectInteger(d.nItems, `${name}.nItems`, 1);
  const t = d.train;
  if (t === null || typeof t !== 'object' || !(t.indptr instanceof Uint32Array) || !(t.indices instanceof Uint32Array)) {
    throw new TypeError(`Expected a CSR ({rows, cols, indptr, indices}) for ${name}.train but received ${show(t)}`);
  }
  if (t.rows !== d.nUsers || t.cols !== d.nItems) {
    throw new RangeError(`Expected ${name}.train of shape ${String(d.nUsers)} x ${String(d.nItems)} but received ${String(t.rows)} x ${String(t.cols)}`);
  }
}

