/**
 * Loaded with `node --require` into the untraced stack when BENCH_TRACING_BASELINE=als
 * (bench/sections/tracing.ts): every incoming request runs inside an AsyncLocalStorage, as
 * the tracing SDK's context manager makes it, and nothing else of tracing. Node 20's promise
 * hook that AsyncLocalStorage turns on is then paid on both sides, and what is left between
 * the stacks is what the SDK itself costs.
 */
'use strict';
// Plain CommonJS: loaded by `node --require` into the compiled services, before anything else.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AsyncLocalStorage } = require('node:async_hooks');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Server } = require('node:http');

const requests = new AsyncLocalStorage();
const emit = Server.prototype.emit;
Server.prototype.emit = function emitInRequestContext(event, ...args) {
  return event === 'request' ? requests.run({ request: args[0] }, () => emit.call(this, event, ...args)) : emit.call(this, event, ...args);
};
