/**
 * The benchmark's line-up: one row per contender. The plan (which contender
 * runs in which scenario, in which order), the children (what a contender
 * builds) and the report (the contenders table, the Method section) all read
 * these rows; adding a contender of an existing kind is adding a row.
 */

/** Scenario identifiers, in the order they run. */
export type ScenarioId = 'drain' | 'steady' | 'latency' | 'memory' | 'emit' | 'streams' | 'broadcast' | 'rpc';

/** What a contender is, and so which code a child runs for it. */
export type ContenderKind =
  | 'raw-simple'
  | 'raw-pipelined'
  | 'raw-held'
  | 'nest-pipelined'
  | 'nest-held'
  | 'ours'
  | 'ours-otel'
  | 'ours-idle'
  | 'ours-broadcast'
  | 'ours-list'
  | 'bullmq'
  | 'nest-redis'
  | 'xadd-raw'
  | 'emit-ours'
  | 'rpc-ours'
  | 'rpc-nest-redis'
  | 'rpc-raw-streams'
  | 'rpc-raw-pubsub';

/** Where a consumer's messages come from: what is pre-filled and which producer writes. */
export type Family = 'stream' | 'list' | 'bullmq' | 'nest-redis';

/** What every contender of a kind shares. */
export interface KindFacts {
  /** `consumer` kinds run in drain, steady, latency, memory and streams; `producer` kinds in emit; `rpc` kinds in rpc. */
  readonly role: 'consumer' | 'producer' | 'rpc';
  /** Where a consumer's messages come from; undefined for producers. */
  readonly family?: Family;
  /** Another library: a timeout of its run is reported as skipped, never as a failure of ours. */
  readonly isCompetitor: boolean;
  /** How it works, for the report's Method section. */
  readonly description: string;
}

/** The kinds; `<batch size>` and `<concurrency>` stand for the row's values. */
export const KINDS: Readonly<Record<ContenderKind, KindFacts>> = {
  'raw-simple': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description: 'ioredis, `XREADGROUP COUNT <batch size> BLOCK`, `JSON.parse` + awaited handler per entry, one XACK per batch, awaited.',
  },
  'raw-pipelined': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description: 'raw-simple, but the next XREADGROUP is on the wire while a batch is handled; XACK on a second connection.',
  },
  'raw-held': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description:
      'a hand-written loop that never holds more than <batch size> entries: `XREADGROUP COUNT <batch size>`, awaited handlers, ' +
      "then the batch's XACK and the next read written together on one connection (one round trip per batch).",
  },
  'nest-pipelined': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description:
      'raw-pipelined, but each entry goes through the real NestJS `@EventPattern` handler taken from a running microservice ' +
      '(`server.getHandlerByPattern`, a do-nothing transport), its result awaited and, if an Observable, subscribed to completion.',
  },
  'nest-held': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description: 'raw-held calling the real Nest handler, as nest-pipelined does.',
  },
  ours: {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description: 'a NestJS microservice with `RedisStreamsServer` (`batchSize` and `concurrency` as in the table) and the same controller.',
  },
  'ours-otel': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description:
      'ours at default options with an OpenTelemetry SDK registered in its process (tracer provider with a `BatchSpanProcessor`, ' +
      'meter provider with a `PeriodicExportingMetricReader` every 10 s, both exporting to a discarding exporter; W3C propagator, ' +
      'AsyncLocalStorage context manager): a `process` span and the metrics per entry, gauges every 15 s. The backlog carries no ' +
      'trace context, so every span is a root.',
  },
  'ours-idle': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description:
      'ours bound to <streams> empty streams (one generated handler each, default options): the time `listen()` takes, ' +
      'its connections (CLIENT LIST), and, once started, Redis commands per second (INFO commandstats) and CPU of the process while idle.',
  },
  'ours-broadcast': {
    role: 'consumer',
    family: 'stream',
    isCompetitor: false,
    description:
      "ours with the controller's handler bound by broadcast (`{ broadcast: true, startFrom: 'beginning' }`, default options): " +
      '<instances> app instance(s), each in its own process, read the same backlog with XREAD (no group, nothing acknowledged); ' +
      'they start together, and the rate is that of the slowest instance.',
  },
  'ours-list': {
    role: 'consumer',
    family: 'list',
    isCompetitor: false,
    description:
      "ours with the same controller's handler bound to a list queue (`@EventPattern('list:bench:list')`), `batchSize` and " +
      "`concurrency` as in the table, draining a list pre-filled with RPUSH in our client's list encoding.",
  },
  bullmq: {
    role: 'consumer',
    family: 'bullmq',
    isCompetitor: true,
    description: 'BullMQ `Worker`, no-op processor, concurrency <concurrency>, jobs added with `removeOnComplete/removeOnFail`.',
  },
  'nest-redis': {
    role: 'consumer',
    family: 'nest-redis',
    isCompetitor: true,
    description:
      "NestJS' built-in `Transport.REDIS` (pub/sub, not durable), the same controller; the producer is a `ClientProxy` emitting " +
      'one event per call (it has no batching). Pub/sub has no backlog, so its "drain" is a burst of the same number of events, ' +
      'and its producer stays at most 20,000 events ahead of the subscriber (read from a counter the consumer publishes) so that ' +
      'Redis does not cut the subscriber off at its output-buffer limit; events lost are reported.',
  },
  'xadd-raw': {
    role: 'producer',
    isCompetitor: false,
    description: 'raw XADD pipelined in batches of <batch size>, each payload JSON-encoded.',
  },
  'emit-ours': {
    role: 'producer',
    isCompetitor: false,
    description: 'our `RedisStreamsClient.emit()` with <concurrency> emits in flight.',
  },
  'rpc-ours': {
    role: 'rpc',
    isCompetitor: false,
    description:
      'request-reply: `RedisStreamsClient.send()` answered by a `@MessagePattern` handler on `RedisStreamsServer` (default options) ' +
      'that returns the payload; client and server in one process. Throughput with <concurrency> requests in flight; latency at a fixed rate.',
  },
  'rpc-nest-redis': {
    role: 'rpc',
    isCompetitor: true,
    description: "the same, on NestJS' built-in `Transport.REDIS` (pub/sub): `ClientProxy.send()` and the same controller.",
  },
  'rpc-raw-streams': {
    role: 'rpc',
    isCompetitor: false,
    description:
      'the protocols without NestJS or either transport, for their own bound: hand-written ioredis loops in one process, ' +
      'request `XADD`, a blocking `XREADGROUP` that answers with `XADD` and then `XACK`s, the reply read with a blocking `XREAD`.',
  },
  'rpc-raw-pubsub': {
    role: 'rpc',
    isCompetitor: false,
    description: 'the same over pub/sub: request and reply each a `PUBLISH` to a channel the other side subscribes to.',
  },
};

/** One contender. */
export interface Contender {
  readonly name: string;
  readonly kind: ContenderKind;
  /**
   * Entries per read (raw loops: XREADGROUP COUNT, and the most a raw-held loop
   * holds; ours: `batchSize`) or per pipeline (xadd-raw). Undefined: ours' default.
   */
  readonly batchSize?: number;
  /** Handlers at once (ours: `concurrency`; bullmq: Worker concurrency) or emits in flight. Undefined: ours' default, or one at a time. */
  readonly concurrency?: number;
  /**
   * Streams bound (the streams scenario: a backlog spread over that many
   * streams, or that many empty streams for ours-idle). Undefined: one.
   */
  readonly streams?: number;
  /** App instances, each in its own process (ours-broadcast). Undefined: one. */
  readonly instances?: number;
  /** Scenarios it runs in; their run order is the order of the rows. */
  readonly scenarios: readonly ScenarioId[];
  /**
   * Runs in all of its scenarios under `--quick` (one contender per family);
   * under `--quick` the others run only in the drain and the producer scenario.
   */
  readonly representsFamily?: boolean;
  /** What sets it apart, for the report. */
  readonly notes: string;
}

/** Every contender, in run order. */
export const CONTENDERS = [
  {
    name: 'raw-simple',
    kind: 'raw-simple',
    batchSize: 100,
    scenarios: ['drain', 'steady', 'latency', 'memory'],
    representsFamily: true,
    notes: 'the simple raw loop',
  },
  { name: 'raw-pipelined', kind: 'raw-pipelined', batchSize: 100, scenarios: ['drain', 'steady', 'latency'], notes: '' },
  {
    name: 'nest-ceiling',
    kind: 'nest-pipelined',
    batchSize: 100,
    scenarios: ['drain', 'steady', 'latency', 'memory'],
    notes: 'what no NestJS transport can beat',
  },
  {
    name: 'ours-default',
    kind: 'ours',
    scenarios: ['drain', 'steady', 'latency', 'memory'],
    representsFamily: true,
    notes: 'default options',
  },
  {
    name: 'ours-otel',
    kind: 'ours-otel',
    scenarios: ['drain', 'steady'],
    notes: 'ours-default with an OpenTelemetry SDK: metrics and traces on',
  },
  { name: 'ours-tuned', kind: 'ours', batchSize: 250, concurrency: 500, scenarios: ['drain', 'steady', 'latency'], notes: 'tuned options' },
  { name: 'ours-c100', kind: 'ours', batchSize: 100, concurrency: 100, scenarios: ['drain', 'steady'], notes: 'matched to bullmq-c100' },
  { name: 'ours-c10', kind: 'ours', batchSize: 10, concurrency: 10, scenarios: ['drain'], notes: 'matched to bullmq-c10' },
  { name: 'ours-c1', kind: 'ours', batchSize: 1, concurrency: 1, scenarios: ['drain'], notes: 'matched to bullmq-c1' },
  { name: 'raw-c100', kind: 'raw-held', batchSize: 100, scenarios: ['drain'], notes: 'what a consumer holding 100 entries can expect' },
  {
    name: 'nest-c100',
    kind: 'nest-held',
    batchSize: 100,
    scenarios: ['drain'],
    notes: 'what no NestJS transport holding 100 entries can beat',
  },
  { name: 'raw-c10', kind: 'raw-held', batchSize: 10, scenarios: ['drain'], notes: '' },
  {
    name: 'nest-c10',
    kind: 'nest-held',
    batchSize: 10,
    scenarios: ['drain'],
    notes: 'raw-c10 calling the real Nest handler (awaited one by one, as raw-c10 awaits its own)',
  },
  { name: 'raw-c1', kind: 'raw-held', batchSize: 1, scenarios: ['drain'], notes: '' },
  { name: 'nest-c1', kind: 'nest-held', batchSize: 1, scenarios: ['drain'], notes: 'what no NestJS transport holding 1 entry can beat' },
  { name: 'list-default', kind: 'ours-list', scenarios: ['drain'], notes: 'a list queue at default options (issue 13)' },
  { name: 'bullmq-c1', kind: 'bullmq', concurrency: 1, scenarios: ['drain'], notes: '' },
  { name: 'bullmq-c10', kind: 'bullmq', concurrency: 10, scenarios: ['drain'], notes: '' },
  { name: 'bullmq-c100', kind: 'bullmq', concurrency: 100, scenarios: ['drain', 'steady', 'latency'], representsFamily: true, notes: '' },
  { name: 'bullmq-c200', kind: 'bullmq', concurrency: 200, scenarios: ['drain', 'steady'], notes: '' },
  { name: 'nest-redis', kind: 'nest-redis', scenarios: ['drain', 'steady', 'latency'], representsFamily: true, notes: 'not durable' },
  {
    name: 'streams-idle-100',
    kind: 'ours-idle',
    streams: 100,
    scenarios: ['streams'],
    representsFamily: true,
    notes: '100 empty streams: start-up, connections, idle cost',
  },
  { name: 'streams-idle-1000', kind: 'ours-idle', streams: 1_000, scenarios: ['streams'], notes: '1,000 empty streams' },
  { name: 'streams-drain-1', kind: 'ours', streams: 1, scenarios: ['streams'], representsFamily: true, notes: 'a backlog in one stream' },
  {
    name: 'streams-drain-100',
    kind: 'ours',
    streams: 100,
    scenarios: ['streams'],
    representsFamily: true,
    notes: 'the same backlog spread over 100 streams',
  },
  {
    name: 'broadcast-group',
    kind: 'ours',
    scenarios: ['broadcast'],
    representsFamily: true,
    notes: 'one consumer-group reader (default options) draining the backlog',
  },
  { name: 'broadcast-x1', kind: 'ours-broadcast', instances: 1, scenarios: ['broadcast'], notes: 'one broadcast reader' },
  {
    name: 'broadcast-x3',
    kind: 'ours-broadcast',
    instances: 3,
    scenarios: ['broadcast'],
    representsFamily: true,
    notes: 'three instances, each reading every entry',
  },
  { name: 'xadd-raw', kind: 'xadd-raw', batchSize: 100, scenarios: ['emit'], notes: '' },
  { name: 'emit-ours', kind: 'emit-ours', concurrency: 100, scenarios: ['emit'], notes: '' },
  { name: 'rpc-ours', kind: 'rpc-ours', concurrency: 100, scenarios: ['rpc'], representsFamily: true, notes: 'send() over streams' },
  { name: 'rpc-nest-redis', kind: 'rpc-nest-redis', concurrency: 100, scenarios: ['rpc'], representsFamily: true, notes: 'not durable' },
  {
    name: 'rpc-raw-streams',
    kind: 'rpc-raw-streams',
    concurrency: 100,
    scenarios: ['rpc'],
    notes: 'no NestJS: the streams protocol alone',
  },
  {
    name: 'rpc-raw-pubsub',
    kind: 'rpc-raw-pubsub',
    concurrency: 100,
    scenarios: ['rpc'],
    representsFamily: true,
    notes: 'no NestJS: the pub/sub protocol alone',
  },
] as const satisfies readonly Contender[];

type Row = (typeof CONTENDERS)[number];

/** A producer contender's name (the emit scenario). */
export type ProducerName = Extract<Row, { kind: 'xadd-raw' | 'emit-ours' }>['name'];

/** A request-reply contender's name (the rpc scenario). */
export type RpcName = Extract<Row, { kind: 'rpc-ours' | 'rpc-nest-redis' | 'rpc-raw-streams' | 'rpc-raw-pubsub' }>['name'];

/** A consumer contender's name. */
export type ConsumerName = Exclude<Row['name'], ProducerName | RpcName>;

/**
 * The contender named `name`.
 *
 * @throws Error when no row has that name
 */
export function contender(name: string): Contender {
  const row: Contender | undefined = CONTENDERS.find((c) => c.name === name);
  if (row === undefined) throw new Error(`no contender named "${name}" in bench/contenders.ts`);
  return row;
}

/** Facts of the contender's kind. */
export function kindOf(name: string): KindFacts {
  return KINDS[contender(name).kind];
}

/** Where a consumer contender's messages come from. */
export function familyOf(name: ConsumerName): Family {
  const { family } = kindOf(name);
  if (family === undefined) throw new Error(`contender "${name}" is not a consumer`);
  return family;
}

/** The row's batch size, for kinds that need one. */
export function batchSizeOf(name: string): number {
  const { batchSize } = contender(name);
  if (batchSize === undefined) throw new Error(`contender "${name}" needs a batchSize in bench/contenders.ts`);
  return batchSize;
}

/** Streams the row binds (1 unless it says otherwise). */
export function streamsOf(name: string): number {
  return contender(name).streams ?? 1;
}

/** App instances the row runs (1 unless it says otherwise). */
export function instancesOf(name: string): number {
  return contender(name).instances ?? 1;
}

/** The row's concurrency, for kinds that need one. */
export function concurrencyOf(name: string): number {
  const { concurrency } = contender(name);
  if (concurrency === undefined) throw new Error(`contender "${name}" needs a concurrency in bench/contenders.ts`);
  return concurrency;
}
