/** A local port held by a listener of the test's own, as another program holding it would (PORT_IN_USE for kportd). */
import { createServer, type AddressInfo, type Server } from 'node:net';

/** Listens on 127.0.0.1:`port` (0: any free one); resolves with the port and the server (close it when done). */
export async function occupyPort(port = 0): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}
