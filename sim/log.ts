// Node logs go through pino, with virtual time and node id on every line. Silent by default
// (fuzzing never pays for them); replay passes a sink to print a readable timeline.
import pino from 'pino';

export interface LogLine {
  timeUs: number;
  node: string;
  message: string;
  fields: Record<string, unknown>;
}

export type LogSink = (line: LogLine) => void;

export class Logger {
  readonly enabled: boolean;
  private readonly pino: pino.Logger | null;

  constructor(sink?: LogSink) {
    this.enabled = sink !== undefined;
    if (sink === undefined) {
      this.pino = null;
      return;
    }
    // A plain object with write(): pino calls it synchronously, line by line.
    const destination = {
      write(line: string): void {
        const { t, node, msg, level: _level, ...fields } = JSON.parse(line);
        sink({ timeUs: t, node, message: msg, fields });
      },
    };
    // pino's own timestamp would read the real clock; the virtual time is the field `t`.
    this.pino = pino({ base: null, timestamp: false, level: 'debug' }, destination);
  }

  write(timeUs: number, node: string, message: string, fields?: Record<string, unknown>): void {
    this.pino?.info({ t: timeUs, node, ...fields }, message);
  }
}
