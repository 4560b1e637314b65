import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A round-robin reverse proxy on 127.0.0.1, as nginx would stand before several app processes:
 * each request goes to the next target, with the client's address appended to X-Forwarded-For.
 * `served` counts the requests each target answered. The targets may be given once the proxy
 * listens (`setTargets`), so its address can be their ORIGIN.
 */
export async function startProxy(targets: string[] = []): Promise<{ url: string; served: number[]; setTargets: (to: string[]) => void; close: () => Promise<void> }> {
  // An idle upstream socket is closed after 3 s, before the app's keep-alive timeout (5 s) would close
  // it under a request sent meanwhile (a reset, answered 502: the two-process mixed load met one), as
  // nginx's keepalive_timeout below the upstream's avoids it.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 3000 });
  const served = targets.map(() => 0);
  const setTargets = (to: string[]) => {
    targets = to;
    served.length = 0;
    served.push(...to.map(() => 0));
  };
  let next = 0;
  const server = createServer((req, res) => {
    if (targets.length === 0) return void res.writeHead(502).end();
    const i = next++ % targets.length;
    const target = new URL(targets[i]!);
    const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const upstream = request(
      { agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwarded } },
      (answer) => {
        served[i]!++;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    setTargets,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
