import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request, written when the response has finished (for /classify, when the
 * last row has been streamed), with the row count and per-stage counts. Never a line per row.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  /** Client errors (4xx) are reported once, in the completion line, without a stack trace. */
  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) reply.log.error({ err: error }, error.message);
    else request.clientError = error.message;
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const stats = request.classifyStats;
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.principal && { key: request.principal }),
      ...(stats && { rows: stats.rows, byStage: stats.byStage }),
      ...(stats?.truncatedAtLine && { rowLimitAtLine: stats.truncatedAtLine }),
      ...(request.clientError && { error: request.clientError }),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
