import { PendingScanner, type LookOutcome, type ScannedStream } from '../../../../src/consumers/stream-group/pending-scanner.js';
import { waitFor } from '../../../support/wait.js';

/** A stream that records when it was looked at and answers what it is told. */
class FakeStream implements ScannedStream {
  readonly looks: number[] = [];
  renewals = 0;
  outcome: LookOutcome = 'quiet';
  hasStopped = false;
  hasStoppedLooking = false;

  constructor(
    readonly quietMs: number,
    readonly leaseIntervalMs = 60_000,
  ) {}

  look(): Promise<LookOutcome> {
    this.looks.push(Date.now());
    return Promise.resolve(this.outcome);
  }

  renewLeases(): Promise<void> {
    this.renewals += 1;
    return Promise.resolve();
  }
}

describe('pending scanner', () => {
  let scanner: PendingScanner;

  beforeEach(() => {
    scanner = new PendingScanner();
  });

  afterEach(() => scanner.stop());

  it('spreads the first looks over claimIntervalMs, then looks at a quiet stream only every quietMs', async () => {
    const streams = Array.from({ length: 4 }, () => new FakeStream(60_000));
    const startedAt = Date.now();
    for (const stream of streams) scanner.add(stream, 40);
    scanner.start();
    await waitFor(() => streams.every((s) => s.looks.length === 1), { message: 'one look each' });
    const offsets = streams.map((s) => s.looks[0]! - startedAt);
    // In turn, not all in the same instant.
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    // The last is due about 30 ms in; timers fire late under load, never that early.
    expect(offsets[3]!).toBeGreaterThanOrEqual(20);
    // A quiet stream waits for quietMs (a minute here): a few more claimIntervalMs bring no look.
    const watched = new FakeStream(60_000);
    watched.outcome = 'watched';
    scanner.add(watched, 10);
    scanner.lookIn(watched, 0);
    await waitFor(() => watched.looks.length >= 1, { message: 'the added stream looked at' });
    await waitFor(() => watched.looks.length >= 4, { message: 'a watched stream looked at every claimIntervalMs' });
    expect(streams.map((s) => s.looks.length)).toEqual([1, 1, 1, 1]);
  });

  it('looks again every claimIntervalMs while entries may wait, and goes quiet when none do', async () => {
    const stream = new FakeStream(60_000);
    stream.outcome = 'watched';
    scanner.add(stream, 10);
    scanner.start();
    await waitFor(() => stream.looks.length >= 3, { message: 'watched looks' });
    stream.outcome = 'quiet';
    const seen = stream.looks.length;
    await waitFor(() => stream.looks.length === seen + 1, { message: 'the quiet look' });
    const quietAt = stream.looks.length;
    // Another watched stream keeps the timer busy meanwhile: the quiet one is still left alone.
    const other = new FakeStream(60_000);
    other.outcome = 'watched';
    scanner.add(other, 10);
    scanner.lookIn(other, 0);
    await waitFor(() => other.looks.length >= 5, { message: 'the other stream looked at' });
    expect(stream.looks.length).toBe(quietAt);
  });

  it('looks at once when a retry falls due, even while quiet', async () => {
    const stream = new FakeStream(60_000);
    scanner.add(stream, 10);
    scanner.start();
    await waitFor(() => stream.looks.length === 1, { message: 'the first look' });
    const asked = Date.now();
    scanner.lookIn(stream, 30);
    await waitFor(() => stream.looks.length === 2, { message: 'the look asked for' });
    expect(stream.looks[1]! - asked).toBeGreaterThanOrEqual(29);
  });

  it('renews leases on their own cadence, and forgets a stream that stopped', async () => {
    const stream = new FakeStream(60_000, 15);
    scanner.add(stream, 10);
    scanner.start();
    await waitFor(() => stream.renewals >= 3, { message: 'lease renewals' });
    stream.hasStoppedLooking = true;
    stream.hasStopped = true;
    const looks = stream.looks.length;
    const renewals = stream.renewals;
    // Something else keeps the scanner going; the stopped stream is not visited again.
    const other = new FakeStream(60_000, 15);
    scanner.add(other, 10);
    scanner.lookIn(other, 0);
    await waitFor(() => other.renewals >= 3, { message: 'the other stream renewed' });
    expect([stream.looks.length, stream.renewals]).toEqual([looks, renewals]);
  });
});
