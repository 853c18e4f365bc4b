/** Progress for long work: a bar on a TTY, plain lines otherwise. Always on stderr, so --json stdout stays clean. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(label: string, total: number, options: { quiet?: boolean; unit?: string } = {}): Progress {
  if (options.quiet) return { update() {}, log() {}, stop() {} };
  const unit = options.unit ?? '';
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {value}/{total}${unit ? ' ' + unit : ''} | {info} | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    return {
      update(done, fields = {}) {
        bar.update(done, { info: formatFields(fields) });
      },
      log(line) {
        process.stderr.write(`\r\x1b[K${line}\n`);
        bar.render();
      },
      stop() {
        bar.stop();
      },
    };
  }
  const started = Date.now();
  return {
    update(done, fields = {}) {
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
      process.stderr.write(`${label} ${done}/${total}${unit ? ' ' + unit : ''} ${formatFields(fields)} eta ${formatSeconds(eta)}\n`);
    },
    log(line) {
      process.stderr.write(`${line}\n`);
    },
    stop() {},
  };
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
    .join(' ');
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a >= 1e5) return Math.round(v).toLocaleString('en-US');
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toPrecision(4);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
