/**
 * A real (small) prompt-injection classifier for tests of the detector hook:
 * a logistic model over word features, so its score depends on the text it is
 * sent, like a prompt-guard server's. It speaks the `gatehouse` detector format
 * (POST {text} -> {score, labels}) and can be told to be slow, to fail, or to
 * answer garbage, to test timeouts and errors. It records what it received.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Word weights: override vocabulary pushes the score up, ordinary finance words down. */
const WEIGHTS: Record<string, number> = {
  earlier: 1.2, directions: 1.6, aside: 1.4, side: 0.8, guidance: 0.6, kindly: 0.7, rules: 1.0, instructions: 1.6, prior: 1.2,
  previous: 1.2, disregard: 2.5, ignore: 2.0, override: 2.0, pretend: 1.2, unrestricted: 2.0, secret: 0.8, reveal: 1.5,
  prompt: 0.9, system: 0.7, password: 1.2, bond: -1.0, yields: -1.0, portfolio: -0.8, summarise: -0.8, quarter: -0.6, fees: -0.6,
};
const BIAS = -4;

export function injectionScore(text: string): number {
  let z = BIAS;
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) z += WEIGHTS[word] ?? 0;
  return 1 / (1 + Math.exp(-z));
}

export interface DetectorServer {
  readonly url: string;
  /** Texts received, in order. */
  readonly received: string[];
  /** 'ok' (default), 'slow' (waits `delayMs` before answering), 'error' (500), 'garbage' (not JSON). */
  mode: 'ok' | 'slow' | 'error' | 'garbage';
  delayMs: number;
  stop(): Promise<void>;
}

export async function startDetectorServer(): Promise<DetectorServer> {
  const received: string[] = [];
  const state = { mode: 'ok' as DetectorServer['mode'], delayMs: 1_000 };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as { text?: string };
      received.push(String(body.text ?? ''));
      const answer = (): void => {
        if (state.mode === 'error') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"model not loaded"}');
        if (state.mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>');
        const score = injectionScore(String(body.text ?? ''));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score, labels: { injection: score, benign: 1 - score } }));
      };
      if (state.mode === 'slow') setTimeout(answer, state.delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/classify`,
    received,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}
