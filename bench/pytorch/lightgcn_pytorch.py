"""Times the training step of LightGCN-PyTorch (gusye1234/LightGCN-PyTorch) on CPU.

The same computation as that code's `BPRLoss.stageOne` with `LightGCN.computer()` /
`PureMF`: the whole normalised graph propagated by torch.sparse.mm for every batch,
mean over layers 0..L, BPR softplus loss, L2 on the batch's layer-0 rows divided by the
batch size times 1e-4, torch.optim.Adam(lr 1e-3), batch 2048, dim 64. Negative sampling is
vectorised numpy and timed apart (the original samples in Python or a C++ extension), so
the step figure is the PyTorch compute alone: a lower bound on that code's epoch time.

  python3 bench/pytorch/lightgcn_pytorch.py --data DIR --model lightgcn --layers 3 --threads 1

Prints one JSON line: samples/s of the timed batches and the epoch time they imply, in wall
seconds and in CPU seconds of the process (all its threads).
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch


def read_lines(path):
    opener = gzip.open if path.endswith('.gz') else open
    users, items = [], []
    with opener(path, 'rt') as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            u = int(parts[0])
            for i in parts[1:]:
                users.append(u)
                items.append(int(i))
    return np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)


def find(data, name):
    for candidate in (name, name + '.gz'):
        path = os.path.join(data, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f'{data}: no {name} or {name}.gz')


def norm_adj(users, items, n_users, n_items):
    n = n_users + n_items
    rows = np.concatenate([users, items + n_users])
    cols = np.concatenate([items + n_users, users])
    deg = np.bincount(rows, minlength=n).astype(np.float64)
    d = np.where(deg > 0, deg ** -0.5, 0.0)
    vals = (d[rows] * d[cols]).astype(np.float32)
    index = torch.from_numpy(np.stack([rows, cols]))
    return torch.sparse_coo_tensor(index, torch.from_numpy(vals), (n, n)).coalesce()


class Model(torch.nn.Module):
    def __init__(self, n_users, n_items, dim, layers, graph):
        super().__init__()
        self.n_users, self.n_items, self.layers, self.graph = n_users, n_items, layers, graph
        self.user = torch.nn.Embedding(n_users, dim)
        self.item = torch.nn.Embedding(n_items, dim)
        torch.nn.init.normal_(self.user.weight, std=0.1)
        torch.nn.init.normal_(self.item.weight, std=0.1)

    def computer(self):
        all_emb = torch.cat([self.user.weight, self.item.weight])
        if self.layers == 0:
            return self.user.weight, self.item.weight
        embs = [all_emb]
        for _ in range(self.layers):
            all_emb = torch.sparse.mm(self.graph, all_emb)
            embs.append(all_emb)
        out = torch.mean(torch.stack(embs, dim=1), dim=1)
        return torch.split(out, [self.n_users, self.n_items])

    def bpr_loss(self, users, pos, neg):
        all_users, all_items = self.computer()
        u, p, n = all_users[users], all_items[pos], all_items[neg]
        u0, p0, n0 = self.user(users), self.item(pos), self.item(neg)
        reg = 0.5 * (u0.norm(2).pow(2) + p0.norm(2).pow(2) + n0.norm(2).pow(2)) / float(len(users))
        loss = torch.mean(torch.nn.functional.softplus((u * n).sum(1) - (u * p).sum(1)))
        return loss, reg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='folder with train.txt(.gz) in "user item item ..." lines')
    ap.add_argument('--model', choices=['mf', 'lightgcn'], default='lightgcn')
    ap.add_argument('--layers', type=int, default=3)
    ap.add_argument('--dim', type=int, default=64)
    ap.add_argument('--batch', type=int, default=2048)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batches', type=int, default=60, help='timed batches (after 3 warm-up batches)')
    ap.add_argument('--seed', type=int, default=2020)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    users, items = read_lines(find(args.data, 'train.txt'))
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    layers = 0 if args.model == 'mf' else args.layers
    graph = norm_adj(users, items, n_users, n_items) if layers > 0 else None
    model = Model(n_users, n_items, args.dim, layers, graph)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    # Uniform negatives that reject the user's positives, vectorised (timed apart).
    order = np.lexsort((items, users))
    keys = users[order] * n_items + items[order]
    t0 = time.perf_counter()
    pick = rng.integers(0, len(users), size=(args.batches + 3) * args.batch)
    neg = rng.integers(0, n_items, size=len(pick))
    for _ in range(100):
        bad = np.isin(users[pick] * n_items + neg, keys)
        if not bad.any():
            break
        neg[bad] = rng.integers(0, n_items, size=int(bad.sum()))
    sample_seconds = time.perf_counter() - t0

    def step(b):
        s = slice(b * args.batch, (b + 1) * args.batch)
        u = torch.from_numpy(users[pick[s]])
        p = torch.from_numpy(items[pick[s]])
        n = torch.from_numpy(neg[s])
        loss, reg = model.bpr_loss(u, p, n)
        loss = loss + reg * 1e-4
        opt.zero_grad()
        loss.backward()
        opt.step()

    for b in range(3):
        step(b)
    t0, c0 = time.perf_counter(), time.process_time()
    for b in range(3, args.batches + 3):
        step(b)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    samples = args.batches * args.batch
    print(json.dumps({
        'framework': f'pytorch {torch.__version__}', 'model': args.model, 'layers': layers, 'threads': args.threads,
        'users': n_users, 'items': n_items, 'interactions': int(len(users)), 'timedBatches': args.batches,
        'samplesPerSecond': samples / seconds, 'secondsPerEpoch': len(users) / (samples / seconds),
        'cpuSecondsPerEpoch': cpu_seconds * len(users) / samples,
        'samplingSecondsPerEpoch': sample_seconds * len(users) / len(pick),
    }))


if __name__ == '__main__':
    main()
