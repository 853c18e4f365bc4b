/** Original id -> index lookups (label records and candidate files carry original ids). */
export function idLookup(ids: readonly number[]): Map<number, number> {
  const map = new Map<number, number>();
  ids.forEach((id, index) => map.set(id, index));
  return map;
}
