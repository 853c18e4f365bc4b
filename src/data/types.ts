/** The in-memory shape of an implicit-feedback dataset. */

/** A sparse rows x cols 0/1 matrix in compressed sparse rows; indices ascending within a row. */
export interface Csr {
  rows: number;
  cols: number;
  /** rows + 1 offsets into `indices`. */
  indptr: Uint32Array;
  /** Column index of each stored entry. */
  indices: Uint32Array;
}

/** Counts of input that was repaired rather than rejected, per file. */
export interface LoadReport {
  file: string;
  lines: number;
  interactions: number;
  duplicatesDropped: number;
  /** Rows dropped by --min-rating. */
  belowMinRating: number;
  /** valid/test users without a training item dropped by `dropColdUsers` (absent when none could be). */
  coldUsersDropped?: number;
  /** Interactions of those users. */
  coldInteractionsDropped?: number;
}

export interface Dataset {
  name: string;
  nUsers: number;
  nItems: number;
  /** Index -> original id, as read (ids are integers in every supported format). */
  userIds: number[];
  itemIds: number[];
  /** users x items interaction matrices. valid/test are absent when the source has none. */
  train: Csr;
  valid?: Csr;
  test?: Csr;
  /** Synthetic data only: positives withheld from every split (the planted false negatives). */
  hidden?: Csr;
  /** Synthetic data only: each item's top-level group in the planted taxonomy, and its full path. */
  taxonomy?: { topGroup: Uint32Array; paths: Int32Array; depth: number; branching: number };
  reports: LoadReport[];
}
