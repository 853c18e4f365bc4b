/**
 * Final embeddings -> an ONNX inference graph (opset 17) that ranks all items for a batch of users:
 *
 *   user_ids int64 [N] -> Gather(user table) -> Gemm(transB, item table) -> [mask] -> TopK(k)
 *   outputs: items int64 [N, k] (item indices, best first), scores float32 [N, k]
 *
 * Masking (`maskTraining`): a dense float mask [N, nItems] would cost 4 * N * nItems bytes per
 * batch (168 MB for 1024 users x 41K items), so the graph takes instead `exclude_items` int64
 * [N, M], each row the item indices to drop, padded with -1. The item table gets one extra
 * all-zero "sentinel" row; ScatterElements writes -inf at the listed columns (-1 is the last
 * column: the sentinel), and Slice drops the sentinel before TopK.
 *
 * Ties: ONNX TopK (sorted, largest) puts the lower index first among equal values, the same
 * rule as the native maskedTopK. A user with fewer than k unmasked items gets -inf scores
 * (with arbitrary masked items) in the tail; recommendOnnx reports those as "no item".
 */
import { DataType, encodeModel, tensor, valueInfo, type NodeSpec } from './onnx-proto.js';
import { describe } from '../eval/topk.js';

export interface ExportOptions {
  /** Items returned per user (1..nItems). */
  k: number;
  /** Add the `exclude_items` input (usually fed with each user's training items). */
  maskTraining: boolean;
}

/** Names of the graph's inputs and outputs, and keys of its metadata_props. */
export const onnxNames = {
  userIds: 'user_ids',
  exclude: 'exclude_items',
  items: 'items',
  scores: 'scores',
  meta: { users: 'dtlns.n_users', items: 'dtlns.n_items', dim: 'dtlns.dim', k: 'dtlns.k', masked: 'dtlns.exclude_input' },
} as const;

export const PRODUCER_NAME = 'dtlns-native';

function rows(name: string, value: unknown, dim: number): number {
  if (!(value instanceof Float32Array)) throw new TypeError(`Expected Float32Array for ${name} but received ${describe(value)}`);
  if (value.length === 0 || value.length % dim !== 0) {
    throw new RangeError(`Expected ${name} length to be a positive multiple of dim ${dim} but received ${value.length}`);
  }
  return value.length / dim;
}

/** The serialized ModelProto (ir_version 8, opset 17) of the top-K graph over these embeddings. */
export function exportOnnx(userEmb: Float32Array, itemEmb: Float32Array, dim: number, options: ExportOptions): Uint8Array {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`Expected a positive integer for dim but received ${dim}`);
  const nUsers = rows('userEmb', userEmb, dim);
  const nItems = rows('itemEmb', itemEmb, dim);
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected an object for options but received ${describe(options)}`);
  const { k, maskTraining } = options;
  if (!Number.isInteger(k) || k < 1 || k > nItems) throw new RangeError(`Expected an integer 1..${nItems} (the item count) for options.k but received ${k}`);
  if (typeof maskTraining !== 'boolean') throw new TypeError(`Expected a boolean for options.maskTraining but received ${describe(maskTraining)}`);

  const n = onnxNames;
  const tableRows = maskTraining ? nItems + 1 : nItems;
  const itemTable = new Float32Array(tableRows * dim);
  itemTable.set(itemEmb);
  const initializers = [
    tensor('user_embeddings', DataType.FLOAT, [nUsers, dim], userEmb),
    tensor('item_embeddings', DataType.FLOAT, [tableRows, dim], itemTable),
    tensor('k', DataType.INT64, [1], BigInt64Array.of(BigInt(k))),
  ];
  const nodes: NodeSpec[] = [
    { op: 'Gather', name: 'gather_users', inputs: ['user_embeddings', n.userIds], outputs: ['user_vectors'], attributes: { axis: { int: 0 } } },
    { op: 'Gemm', name: 'score_items', inputs: ['user_vectors', 'item_embeddings'], outputs: ['all_scores'], attributes: { transB: { int: 1 } } },
  ];
  let ranked = 'all_scores';
  if (maskTraining) {
    initializers.push(
      tensor('slice_starts', DataType.INT64, [1], BigInt64Array.of(0n)),
      tensor('slice_ends', DataType.INT64, [1], BigInt64Array.of(BigInt(nItems))),
      tensor('slice_axes', DataType.INT64, [1], BigInt64Array.of(1n)),
    );
    nodes.push(
      { op: 'Shape', name: 'exclude_shape', inputs: [n.exclude], outputs: ['exclude_shape'] },
      {
        op: 'ConstantOfShape', name: 'exclude_values', inputs: ['exclude_shape'], outputs: ['exclude_values'],
        attributes: { value: { tensor: tensor('minus_infinity', DataType.FLOAT, [1], Float32Array.of(-Infinity)) } },
      },
      { op: 'ScatterElements', name: 'mask_items', inputs: ['all_scores', n.exclude, 'exclude_values'], outputs: ['masked_scores'], attributes: { axis: { int: 1 } } },
      { op: 'Slice', name: 'drop_sentinel', inputs: ['masked_scores', 'slice_starts', 'slice_ends', 'slice_axes'], outputs: ['item_scores'] },
    );
    ranked = 'item_scores';
  }
  nodes.push({
    op: 'TopK', name: 'top_k', inputs: [ranked, 'k'], outputs: [n.scores, n.items],
    attributes: { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } },
  });

  const inputs = [valueInfo(n.userIds, DataType.INT64, ['N'])];
  if (maskTraining) inputs.push(valueInfo(n.exclude, DataType.INT64, ['N', 'M']));
  return encodeModel({
    producerName: PRODUCER_NAME,
    producerVersion: '1',
    docString:
      `Top-${k} items by inner product of the final user and item embeddings (${nUsers} users, ${nItems} items, dim ${dim})` +
      (maskTraining ? '; exclude_items: int64 [N, M] item indices to drop per user, padded with -1' : ''),
    metadata: {
      [n.meta.users]: String(nUsers),
      [n.meta.items]: String(nItems),
      [n.meta.dim]: String(dim),
      [n.meta.k]: String(k),
      [n.meta.masked]: maskTraining ? n.exclude : '',
    },
    graph: {
      name: 'dtlns_top_k',
      nodes,
      initializers,
      inputs,
      outputs: [valueInfo(n.scores, DataType.FLOAT, ['N', k]), valueInfo(n.items, DataType.INT64, ['N', k])],
    },
  });
}
