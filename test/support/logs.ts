import type { LoggerService } from '@nestjs/common';

/** One line a Nest logger was given. */
export interface LogLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly message: string;
}

/** A Nest logger that keeps every line, for asserting on what the transport says. */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown): void {
    this.push('log', message);
  }
  error(message: unknown): void {
    this.push('error', message);
  }
  warn(message: unknown): void {
    this.push('warn', message);
  }
  debug(message: unknown): void {
    this.push('debug', message);
  }
  verbose(message: unknown): void {
    this.push('verbose', message);
  }
  fatal(message: unknown): void {
    this.push('fatal', message);
  }

  /** Lines at a level whose message contains `text`. */
  matching(level: LogLine['level'], text: string): LogLine[] {
    return this.lines.filter((line) => line.level === level && line.message.includes(text));
  }

  /** Everything logged, as one string. */
  all(): string {
    return this.lines.map((line) => line.message).join('\n');
  }

  private push(level: LogLine['level'], message: unknown): void {
    this.lines.push({ level, message: typeof message === 'string' ? message : JSON.stringify(message) });
  }
}
