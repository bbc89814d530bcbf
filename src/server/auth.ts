// Access control: bearer-token auth (required beyond loopback) and a same-origin check for state-changing requests.
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
