/**
 * Fastify's per-request log lines ("incoming request", "request completed", errors), as Fastify writes them, except
 * the "incoming request" line of a WebSocket handshake, which is written at debug level.
 *
 * Why: a handshake is one line per connection and never gets a "request completed" (an upgraded request has no
 * response), so at info level every reconnect wave of 10,000 sockets wrote 10,000 lines — each one a redacted,
 * scrubbed JSON line — at the very moment the API is busiest (in the reconnect-storm fault test these lines were 13 %
 * of the handshakes' CPU). Refused handshakes are still logged, with their status, like any request; connection counts
 * are in the metrics; `LOG_LEVEL=debug` brings the lines back.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (request.raw.headers.upgrade !== undefined) {
      request.log.debug({ req: request }, 'incoming request');
      return;
    }
    super.incomingRequest(request, reply, metadata);
  }
}
