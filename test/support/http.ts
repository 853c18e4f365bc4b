/**
 * Recording HTTP servers on 127.0.0.1 for the openai client's tests: each request's URL, headers
 * and body are kept, and `handler` answers it with the call's number (from 1). Call
 * `after(closeServers)` in the test file. A handler may return a promise: the server awaits it.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen { url: string; headers: IncomingHttpHeaders; body: string }

export interface TestServer {
  /** http://127.0.0.1:PORT */
  base: string;
  /** The base with /v1, the form of an OpenAI-compatible endpoint. */
  url: string;
  seen: Seen[];
  /** The most requests that were open at once. */
  readonly maxInFlight: number;
  /** Closes the server now (its port then refuses connections). */
  stop(): Promise<void>;
}

const servers = new Set<Server>();

export async function serve(handler: (res: ServerResponse, call: number, seen: Seen) => unknown): Promise<TestServer> {
  const seen: Seen[] = [];
  let inFlight = 0, maxInFlight = 0;
  const server = createServer(async (req, res) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    res.on('close', () => inFlight--);
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = { url: req.url!, headers: req.headers, body };
    seen.push(request);
    await handler(res, seen.length, request);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = async () => {
    servers.delete(server);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { base, url: `${base}/v1`, seen, stop, get maxInFlight() { return maxInFlight; } };
}

/** Closes every server still open, with its connections. */
export function closeServers(): void {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  servers.clear();
}
