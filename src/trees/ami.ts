/**
 * Adjusted mutual information of two labelings (Vinh, Epps & Bailey 2010), with the
 * arithmetic-mean normaliser and the exact hypergeometric expected MI: scikit-learn's
 * adjusted_mutual_info_score. 1 for identical partitions, about 0 for independent ones.
 */

type Labels = ArrayLike<number>;

function contiguous(labels: Labels): { codes: Int32Array; count: number } {
  const ids = new Map<number, number>();
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let code = ids.get(labels[i]);
    if (code === undefined) ids.set(labels[i], (code = ids.size));
    codes[i] = code;
  }
  return { codes, count: ids.size };
}

function entropy(sizes: Float64Array, n: number): number {
  let h = 0;
  for (const s of sizes) if (s > 0) h -= (s / n) * Math.log(s / n);
  return h;
}

function expectLabels(value: unknown, name: string): Labels {
  const ok = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!ok) throw new TypeError(`Expected an array of labels for ${name} but received ${String(value)}`);
  const labels = value as Labels;
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isFinite(labels[i])) throw new RangeError(`Expected finite labels in ${name} but ${name}[${i}] is ${labels[i]}`);
  }
  return labels;
}

export function adjustedMutualInformation(a: Labels, b: Labels): number {
  expectLabels(a, 'a');
  expectLabels(b, 'b');
  if (a.length !== b.length) throw new RangeError(`Expected b of the same length as a (${a.length}) but received length ${b.length}`);
  const n = a.length;
  const u = contiguous(a), v = contiguous(b);
  // Both single-cluster (or empty): identical partitions by convention.
  if ((u.count === 1 && v.count === 1) || n === 0) return 1;
  const table = new Float64Array(u.count * v.count);
  for (let i = 0; i < n; i++) table[u.codes[i] * v.count + v.codes[i]]++;
  const rows = new Float64Array(u.count), cols = new Float64Array(v.count);
  for (let r = 0; r < u.count; r++) {
    for (let c = 0; c < v.count; c++) {
      rows[r] += table[r * v.count + c];
      cols[c] += table[r * v.count + c];
    }
  }
  let mi = 0;
  for (let r = 0; r < u.count; r++) {
    for (let c = 0; c < v.count; c++) {
      const nij = table[r * v.count + c];
      if (nij > 0) mi += (nij / n) * Math.log((n * nij) / (rows[r] * cols[c]));
    }
  }
  const logFactorial = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) logFactorial[k] = logFactorial[k - 1] + Math.log(k);
  let emi = 0;
  for (const ai of rows) {
    for (const bj of cols) {
      const fixed = logFactorial[ai] + logFactorial[bj] + logFactorial[n - ai] + logFactorial[n - bj] - logFactorial[n];
      for (let nij = Math.max(1, ai + bj - n); nij <= Math.min(ai, bj); nij++) {
        const logP = fixed - logFactorial[nij] - logFactorial[ai - nij] - logFactorial[bj - nij] - logFactorial[n - ai - bj + nij];
        emi += (nij / n) * Math.log((n * nij) / (ai * bj)) * Math.exp(logP);
      }
    }
  }
  const normaliser = (entropy(rows, n) + entropy(cols, n)) / 2;
  let denominator = normaliser - emi;
  denominator = denominator < 0 ? Math.min(denominator, -Number.EPSILON) : Math.max(denominator, Number.EPSILON);
  return (mi - emi) / denominator;
}
