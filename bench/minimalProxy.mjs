// The "minimal proxy" row: node:http in, undici out, nothing else. It is the limit
// for one Node process doing one extra hop. Usage: UPSTREAM=http://h:p PORT=n node bench/minimalProxy.mjs
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = new Pool(process.env.UPSTREAM, { connections: 128, pipelining: 1 });
const server = createServer(async (req, res) => {
  try {
    const headers = { 'content-type': req.headers['content-type'] ?? 'application/json' };
    if (req.headers['content-length']) headers['content-length'] = req.headers['content-length'];
    const answer = await upstream.request({ method: req.method, path: req.url, headers, body: req });
    res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.once('SIGTERM', () => server.close(() => upstream.close().then(() => process.exit(0))));
