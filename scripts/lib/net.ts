/** Free TCP ports and a connection probe, for tests, the dev stack and the benches. */
import { connect, createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it; tiny race window, as every test has). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('could not get a free port');
  return address.port;
}

/** Resolves once a TCP connection to host:port is accepted (then closed); rejects on refusal. */
export function acceptsConnections(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
