// Access control: bearer-token auth (required beyond loopback), the Host check of a tokenless server, and a same-origin check for state-changing requests.
import type { MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { isIP } from 'node:net';
import { WeftError } from '../errors.js';
import { HttpError, type ErrorBody } from './http-error.js';

const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;

/** True for a host name or address that only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Checks the auth settings before the server starts. A server bound beyond loopback must have a
 * token; a token must be usable in an `Authorization: Bearer` header.
 */
export function checkAuthSettings(host: string | undefined, token: string | undefined): void {
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'The API token may only contain letters, digits and . _ ~ + / - (with trailing =); choose another token',
    );
  }
  if (host !== undefined && !isLoopbackHost(host) && token === undefined) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Refusing to serve on "${host}" without a token: anyone on the network could operate runs. Pass --token or set WEFT_TOKEN (or bind to 127.0.0.1)`,
    );
  }
}

function unauthorized(message: string): ErrorBody {
  return { error: { code: 'UNAUTHORIZED', message } };
}

/** Middleware that answers 401 unless the request carries `Authorization: Bearer <token>`. */
export function requireToken(token: string): MiddlewareHandler {
  return bearerAuth({
    token,
    realm: 'weft',
    noAuthenticationHeader: {
      message: unauthorized('This server requires a token: send "Authorization: Bearer <token>"'),
    },
    invalidAuthenticationHeader: {
      message: unauthorized('Malformed Authorization header: expected "Authorization: Bearer <token>"'),
    },
    invalidToken: { message: unauthorized('The token is not valid for this server') },
  });
}

/**
 * Middleware that refuses state-changing requests sent by a page of another origin (a browser
 * always sends `Origin` on those), so a web page cannot operate runs on a local server behind
 * the user's back.
 */
export function sameOriginWrites(): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const host = c.req.header('host');
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      if (host === undefined || originHost !== host) {
        throw new HttpError(
          403,
          'FORBIDDEN',
          `Cross-origin request from "${origin}" refused; use the API from the same origin or without a browser`,
        );
      }
    }
    await next();
  };
}

/** The host name of a `Host` header value (`name:port`, `[v6]:port`), lower-cased, without the port. */
function hostName(host: string): string {
  const value = host.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end < 0 ? value : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  // A bare IPv6 address has several colons and no port.
  return colon >= 0 && value.indexOf(':', colon + 1) < 0 ? value.slice(0, colon) : value;
}

/** Checks and normalises `--allowed-host` values: host names or addresses, without scheme, port or path. */
export function normalizeAllowedHosts(hosts: readonly string[]): string[] {
  return hosts.map((host) => {
    const name = host.trim().toLowerCase().replace(/\.$/, '');
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/.test(name)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid allowed host ${JSON.stringify(host)}: give a host name or address without scheme, port or path (e.g. "weft.internal")`,
      );
    }
    return isIP(name) === 6 ? `[${name}]` : name;
  });
}

/**
 * Middleware of a server without a token: answers 403 unless the request's `Host` names this
 * machine (`localhost`, `127.0.0.1`, `[::1]`, any 127.x address) or one of `allowed`. A page of
 * another site can make its own name resolve to 127.0.0.1 (DNS rebinding) and then reach the
 * server as a same-origin page; its requests still carry that name in `Host`, and are refused.
 */
export function loopbackHostsOnly(allowed: readonly string[]): MiddlewareHandler {
  const extra = new Set(normalizeAllowedHosts(allowed));
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    const name = hostName(host).replace(/\.$/, '');
    if (!isLoopbackHost(name) && !extra.has(name)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        `Host ${JSON.stringify(host.slice(0, 100))} is not allowed: this server has no token and answers only localhost, 127.0.0.1 and [::1]; serve with --allowed-host NAME to accept another name, or with --token`,
      );
    }
    await next();
  };
}
