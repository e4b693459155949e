/**
 * Progress on stderr: a redrawn bar with an ETA per phase on a terminal, plain lines (phase
 * start, every quarter, phase end) when stderr is a file or pipe, so logs stay readable.
 */
import type { Progress } from '../batch/types.js';
import type { OutputStream } from './context.js';

const PHASE_LABEL: Record<Progress['phase'], string> = {
  'encode-text': 'text',
  denoise: 'denoise',
  decode: 'decode',
  'encode-video': 'encode',
};
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export class ProgressReporter {
  private phaseKey = '';
  private phaseStarted = 0;
  private lastDraw = -Infinity;
  private lastQuarter = -1;
  private barShown = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly tty = stream.isTTY === true,
    private readonly now: () => number = Date.now,
  ) {}

  /** Report progress; `label` names the job (batch runs). */
  update(p: Progress, label = ''): void {
    if (p.detail) this.line(`${label ? `${label} ` : ''}${p.detail}`);
    if (p.warning) this.line(`${label ? `${label} ` : ''}warning: ${p.warning}`);
    const key = `${label}\u0000${p.phase}`;
    const t = this.now();
    if (key !== this.phaseKey) {
      this.phaseKey = key;
      this.phaseStarted = t;
      this.lastQuarter = -1;
    }
    const elapsed = t - this.phaseStarted;
    const eta = p.done > 0 && p.done < p.total ? (elapsed / p.done) * (p.total - p.done) : undefined;
    const prefix = `${label ? `${label} ` : ''}${PHASE_LABEL[p.phase]}`;
    const finished = p.done >= p.total;
    if (this.tty) {
      if (!finished && t - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = t;
      const filled = p.total > 0 ? Math.round((p.done / p.total) * BAR_WIDTH) : 0;
      const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
      const tail = finished ? `done in ${formatDuration(elapsed)}` : eta === undefined ? '' : `ETA ${formatDuration(eta)}`;
      this.stream.write(`\r\x1b[2K${prefix} [${bar}] ${p.done}/${p.total} ${tail}`);
      this.barShown = true;
      if (finished) this.endBar();
      return;
    }
    const quarter = p.total > 0 ? Math.floor((p.done / p.total) * 4) : 4;
    if (quarter === this.lastQuarter && !finished) return;
    this.lastQuarter = quarter;
    const tail = finished ? ` done in ${formatDuration(elapsed)}` : eta === undefined ? '' : ` eta ${formatDuration(eta)}`;
    this.stream.write(`${prefix} ${p.done}/${p.total}${tail}\n`);
  }

  /** A message line that does not garble the bar. */
  line(text: string): void {
    this.endBar();
    this.stream.write(`${text}\n`);
  }

  endBar(): void {
    if (this.barShown) this.stream.write('\n');
    this.barShown = false;
  }
}
