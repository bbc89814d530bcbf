// The inspector's only link to Weft: the HTTP API (with the bearer token when the server needs one) and SSE streams.

const TOKEN_KEY = 'weft.token';
let askToken = async () => null;
let pendingPrompt = null;

/** One prompt at a time: requests refused together share the answer. */
function promptToken() {
  pendingPrompt ??= Promise.resolve(askToken()).finally(() => {
    pendingPrompt = null;
  });
  return pendingPrompt;
}

/** An error answer of the API: `status`, `code` and the server's message. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `Request failed with status ${status}`);
    this.status = status;
    this.code = error?.code ?? 'HTTP_ERROR';
    this.issues = error?.issues;
  }
}

/** Installs the function that asks the person for a token when the server answers 401. */
export function setTokenPrompt(fn) {
  askToken = fn;
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Calls the API; resolves with the JSON answer, rejects with an ApiError. */
export async function api(path, { method = 'GET', body } = {}, retried = false) {
  const headers = { accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && !retried) {
    const token = await promptToken();
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      return api(path, { method, body }, true);
    }
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data?.error ?? { message: text || res.statusText });
  return data;
}

function parseBlock(block) {
  const msg = { event: 'message', data: '', id: undefined };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const key = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (key === 'event') msg.event = value;
    else if (key === 'data') msg.data += (msg.data ? '\n' : '') + value;
    else if (key === 'id') msg.id = value;
  }
  return msg;
}

/**
 * Follows a run's SSE stream from `afterSeq`: calls `onEvent(event)` for each event, and
 * `onEnd({ status })` when the run finishes or suspends. On a broken connection it reconnects
 * with Last-Event-ID, so no event is lost or repeated. Returns `{ close() }`.
 */
export function followRun(runId, { afterSeq = 0, onEvent, onEnd, onConnection }) {
  let lastSeq = afterSeq;
  let closed = false;
  let controller;
  const connect = async () => {
    controller = new AbortController();
    try {
      const res = await fetch(`/api/runs/${encodeURIComponent(runId)}/events`, {
        headers: { accept: 'text/event-stream', 'last-event-id': String(lastSeq), ...authHeaders() },
        signal: controller.signal,
      });
      if (!res.ok || !res.body) throw new ApiError(res.status, (await res.json().catch(() => null))?.error);
      onConnection?.(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const msg = parseBlock(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (msg.event === 'end') {
            closed = true;
            onConnection?.(false);
            onEnd?.(JSON.parse(msg.data || '{}'));
            controller.abort();
            return;
          }
          if (msg.event === 'message' && msg.data) {
            const event = JSON.parse(msg.data);
            if (typeof event.seq === 'number') lastSeq = Math.max(lastSeq, event.seq);
            onEvent?.(event);
          }
        }
      }
    } catch (error) {
      if (closed) return;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        closed = true;
        onConnection?.(false);
        return;
      }
    }
    if (!closed) {
      onConnection?.(false);
      setTimeout(() => {
        if (!closed) void connect();
      }, 1000);
    }
  };
  void connect();
  return {
    get lastSeq() {
      return lastSeq;
    },
    close() {
      closed = true;
      controller?.abort();
    },
  };
}
