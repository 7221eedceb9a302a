import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy. */
interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  /** The name the client gave itself with CLIENT SETNAME, once seen. */
  name: string | undefined;
  isBlackholed: boolean;
}

/**
 * A TCP proxy in front of Redis that can turn chosen connections into black
 * holes: from then on nothing passes in either direction and neither side
 * learns that the other is gone, which is what a half-open connection (a
 * crashed peer, a dropped NAT entry) looks like. New connections pass.
 */
export class BlackholeProxy {
  private readonly links = new Set<Link>();
  private server: Server | undefined;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  /** Listens on a free loopback port; returns the URL to connect to. */
  async start(): Promise<string> {
    // allowHalfOpen: a FIN from a black-holed client is not answered either.
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no proxy port');
    return `redis://127.0.0.1:${address.port}`;
  }

  /** Black-holes the current connections whose CLIENT SETNAME matches; returns how many. */
  blackhole(matches: (name: string) => boolean): number {
    let count = 0;
    for (const link of this.links) {
      if (link.name !== undefined && matches(link.name) && !link.isBlackholed) {
        link.isBlackholed = true;
        count += 1;
      }
    }
    return count;
  }

  /** Closes the proxy and every connection through it. */
  async stop(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = createConnection({
      host: this.targetHost,
      port: this.targetPort,
    });
    const link: Link = {
      client,
      upstream,
      name: undefined,
      isBlackholed: false,
    };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => {
      link.name ??= clientName(chunk);
      if (!link.isBlackholed) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!link.isBlackholed) client.write(chunk);
    });
    // A black hole passes on no close either: each side keeps waiting.
    const close = () => {
      if (link.isBlackholed) return;
      client.destroy();
      upstream.destroy();
      this.links.delete(link);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('end', () => {
      if (!link.isBlackholed) upstream.end();
    });
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}

/** The name in a RESP `CLIENT SETNAME <name>` command, if the chunk holds one. */
function clientName(chunk: Buffer): string | undefined {
  const parts = chunk.toString('latin1').split('\r\n');
  for (let i = 0; i + 4 < parts.length; i += 1) {
    if (parts[i]!.toLowerCase() === 'client' && parts[i + 2]!.toLowerCase() === 'setname') return parts[i + 4];
  }
  return undefined;
}
