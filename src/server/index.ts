// weft/server: the HTTP API and inspector of a Weft instance, as a Hono app, and a helper to serve it.
export { createServer, type ServerOptions } from './create-server.js';
export { listen, type ListeningServer } from './listen.js';
export { isLoopbackHost } from './auth.js';
export type { ServedWeft, ServedRunFilter } from './weft-host.js';
export type { WorkflowInfo, StepInfo } from './describe-workflow.js';
export type { ErrorBody, ServerErrorCode } from './http-error.js';
