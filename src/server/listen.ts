// Binding the server app to a port with @hono/node-server, and closing it cleanly.
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

/** A listening server. */
export interface ListeningServer {
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes open ones (SSE streams included). */
  close(): Promise<void>;
}

/**
 * Serves `app` on `host:port` (port 0 picks a free one). Resolves once the socket listens;
 * rejects when the port is taken or the host cannot be bound.
 */
export function listen(app: Hono, options: { port?: number; host?: string } = {}): Promise<ListeningServer> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname: host }, (info: AddressInfo) => {
      server.off('error', reject);
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
