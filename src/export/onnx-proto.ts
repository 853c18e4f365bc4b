/**
 * A minimal protobuf writer for the parts of onnx.proto an inference graph needs
 * (ModelProto, GraphProto, NodeProto, TensorProto with raw_data, ValueInfoProto,
 * AttributeProto), and a reader for the model's metadata_props. Field numbers are
 * those of onnx/onnx.proto; repeated scalars are written unpacked (proto2).
 */

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

const encoder = new TextEncoder();

/** Varint of an int64 given as a safe integer; negatives take ten bytes (two's complement), as protobuf requires. */
function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function tag(field: number, wire: number): number[] {
  return varint((field << 3) | wire);
}

/** One encoded field; a message is the concatenation of its fields. */
type Field = Uint8Array;

export function intField(field: number, value: number | bigint): Field {
  return Uint8Array.from([...tag(field, WIRE_VARINT), ...varint(value)]);
}

export function bytesField(field: number, bytes: Uint8Array): Field {
  return concat([Uint8Array.from([...tag(field, WIRE_BYTES), ...varint(bytes.length)]), bytes]);
}

export function stringField(field: number, text: string): Field {
  return bytesField(field, encoder.encode(text));
}

export function messageField(field: number, fields: Field[]): Field {
  return bytesField(field, concat(fields));
}

function floatField(field: number, value: number): Field {
  const out = new Uint8Array([...tag(field, WIRE_FIXED32), 0, 0, 0, 0]);
  new DataView(out.buffer).setFloat32(out.length - 4, value, true);
  return out;
}

/** A TensorProto's fields: dims, data_type, name, raw_data (little-endian, as typed arrays are on every supported platform). */
export function tensor(name: string, type: DataTypeCode, dims: number[], data: Float32Array | BigInt64Array): Field[] {
  return [
    ...dims.map((d) => intField(1, d)),
    intField(2, type),
    stringField(8, name),
    bytesField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  ];
}

/** A ValueInfoProto for a tensor; a string dim is symbolic (dim_param). */
export function valueInfo(name: string, type: DataTypeCode, dims: (number | string)[]): Field[] {
  const shape = dims.map((d) => messageField(1, [typeof d === 'number' ? intField(1, d) : stringField(2, d)]));
  return [stringField(1, name), messageField(2, [messageField(1, [intField(1, type), messageField(2, shape)])])];
}

export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { tensor: Field[] };

/** AttributeProto type codes: FLOAT 1, INT 2, TENSOR 4, INTS 7. */
function attribute(name: string, value: AttributeValue): Field[] {
  const fields: Field[] = [stringField(1, name)];
  if ('int' in value) fields.push(intField(3, value.int), intField(20, 2));
  else if ('float' in value) fields.push(floatField(2, value.float), intField(20, 1));
  else if ('ints' in value) fields.push(...value.ints.map((v) => intField(8, v)), intField(20, 7));
  else fields.push(messageField(5, value.tensor), intField(20, 4));
  return fields;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, AttributeValue>;
}

export function node(spec: NodeSpec): Field[] {
  return [
    ...spec.inputs.map((s) => stringField(1, s)),
    ...spec.outputs.map((s) => stringField(2, s)),
    stringField(3, spec.name),
    stringField(4, spec.op),
    ...Object.entries(spec.attributes ?? {}).map(([key, value]) => messageField(5, attribute(key, value))),
  ];
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: Field[][];
  inputs: Field[][];
  outputs: Field[][];
}

export interface ModelSpec {
  graph: GraphSpec;
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const g = spec.graph;
  const graph: Field[] = [
    ...g.nodes.map((n) => messageField(1, node(n))),
    stringField(2, g.name),
    ...g.initializers.map((t) => messageField(5, t)),
    ...g.inputs.map((v) => messageField(11, v)),
    ...g.outputs.map((v) => messageField(12, v)),
  ];
  return concat([
    intField(1, IR_VERSION),
    stringField(2, spec.producerName),
    stringField(3, spec.producerVersion),
    stringField(6, spec.docString),
    messageField(7, graph),
    messageField(8, [stringField(1, ''), intField(2, OPSET_VERSION)]),
    ...Object.entries(spec.metadata).map(([key, value]) => messageField(14, [stringField(1, key), stringField(2, value)])),
  ]);
}

/** A protobuf field as read: its number, and its varint value or its bytes. */
interface RawField {
  field: number;
  value: bigint | Uint8Array;
}

/** Top-level fields of one message; throws on truncated or malformed input. */
function readFields(bytes: Uint8Array): RawField[] {
  const fields: RawField[] = [];
  let at = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new Error('truncated varint');
      const b = bytes[at++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('varint longer than 10 bytes');
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || at + n > bytes.length) throw new Error('field runs past the end');
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  while (at < bytes.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new Error('field number 0');
    if (wire === WIRE_VARINT) fields.push({ field, value: readVarint() });
    else if (wire === WIRE_BYTES) fields.push({ field, value: take(Number(readVarint())) });
    else if (wire === WIRE_FIXED64) fields.push({ field, value: take(8) });
    else if (wire === WIRE_FIXED32) fields.push({ field, value: take(4) });
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

export interface ModelHeader {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  metadata: Record<string, string>;
}

/** Reads the ir_version, default-domain opset, producer and metadata_props of an ONNX model; throws Error on bytes that are not one. */
export function readModelHeader(bytes: Uint8Array): ModelHeader {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const text = (v: bigint | Uint8Array): string => (v instanceof Uint8Array ? decoder.decode(v) : '');
  const header: ModelHeader = { irVersion: 0, opsetVersion: 0, producerName: '', metadata: {} };
  let hasGraph = false;
  for (const { field, value } of readFields(bytes)) {
    if (field === 1 && typeof value === 'bigint') header.irVersion = Number(value);
    else if (field === 2) header.producerName = text(value);
    else if (field === 7) hasGraph = true;
    else if (field === 8 && value instanceof Uint8Array) {
      const opset = readFields(value);
      const domain = text(opset.find((f) => f.field === 1)?.value ?? new Uint8Array());
      const version = opset.find((f) => f.field === 2)?.value;
      if ((domain === '' || domain === 'ai.onnx') && typeof version === 'bigint') header.opsetVersion = Number(version);
    } else if (field === 14 && value instanceof Uint8Array) {
      const entry = readFields(value);
      header.metadata[text(entry.find((f) => f.field === 1)?.value ?? new Uint8Array())] = text(entry.find((f) => f.field === 2)?.value ?? new Uint8Array());
    }
  }
  if (!hasGraph || header.irVersion === 0) throw new Error('no graph or ir_version');
  return header;
}
