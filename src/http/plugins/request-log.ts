import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The URL as logged: every query value is replaced by `[redacted]` (a client may send a key as
 * `?api_key=…`; no route reads the query, so nothing useful is lost). Names are kept.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

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
      url: redactUrl(request.url),
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.principal && { key: request.principal }),
      ...(stats && { rows: stats.rows, byStage: stats.byStage }),
      ...(stats?.truncatedAtLine && { rowLimitAtLine: stats.truncatedAtLine }),
      ...(request.clientError && { error: request.clientError }),
      ...(request.connectionFault && { connectionFault: request.connectionFault.message }),
      ...(request.uploadEncoding?.encoding && request.uploadEncoding.encoding !== 'utf-8' && { encoding: request.uploadEncoding.encoding }),
      ...(request.uploadEncoding?.invalidUtf8 && { invalidUtf8: 'the upload is not valid UTF-8: invalid bytes became U+FFFD (send a charset parameter, e.g. text/csv; charset=iso-8859-1)' }),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
