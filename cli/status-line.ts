// The live status of long work on stderr: one rewritten line on a terminal, plain periodic
// lines otherwise (a log file or CI keeps every one).

const TTY_REFRESH_MS = 200;

export class StatusLine {
  private readonly tty = process.stderr.isTTY === true;
  readonly periodMs: number;
  private shown = false;
  private shownAtMs = Number.NEGATIVE_INFINITY;

  constructor(plainEveryMs: number) {
    this.periodMs = this.tty ? TTY_REFRESH_MS : plainEveryMs;
  }

  /** For work that reports at its own pace: shows `line` unless one was shown < a period ago. */
  showIfDue(line: string): void {
    if (performance.now() - this.shownAtMs >= this.periodMs) {
      this.show(line);
    }
  }

  show(line: string): void {
    this.shownAtMs = performance.now();
    if (this.tty) {
      // A pseudo-terminal may report 0 columns: fall back to 100.
      const width = process.stderr.columns || 100;
      process.stderr.write(`\r\x1b[K${line.slice(0, width - 1)}`);
      this.shown = true;
    } else {
      process.stderr.write(`${line}\n`);
    }
  }

  clear(): void {
    if (this.tty && this.shown) {
      process.stderr.write('\r\x1b[K');
      this.shown = false;
    }
  }
}
