/**
 * Optional API keys. A route says what it needs in its config: `auth: 'api'` (a key when any
 * is configured) or `auth: 'admin'` (always an admin key; with none configured the route is
 * disabled). Keys come as `Authorization: Bearer <key>`; they are compared as SHA-256 digests
 * with crypto.timingSafeEqual, against every configured key (no early exit), so neither the
 * key's length nor its content shows in the timing. Keys never reach the logs: the request log
 * redacts the header and names a caller only by a digest prefix (`key_ab12cd34`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

export type AuthRequirement = 'none' | 'api' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
  interface FastifyRequest {
    /** Who called: `key_<digest prefix>` for a valid key, undefined otherwise. */
    principal?: string;
    isAdmin?: boolean;
  }
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The id a key is known by in logs and rate limits: never the key itself. */
export const keyId = (key: string): string => `key_${digest(key).toString('hex').slice(0, 8)}`;

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** Whether `candidate` matches one of `digests`, in time independent of which and of the content. */
function matches(candidate: Buffer, digests: readonly Buffer[]): boolean {
  let found = false;
  for (const d of digests) found = timingSafeEqual(candidate, d) || found;
  return found;
}

function deny(reply: FastifyReply, status: 401 | 403 | 404, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="logsift"');
  const error = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
  const code = status === 401 ? 'API_KEY_REQUIRED' : status === 403 ? 'API_KEY_INVALID' : 'ADMIN_DISABLED';
  return reply.code(status).send({ statusCode: status, code, error, message });
}

export function installAuth(app: FastifyInstance, config: Config['auth']): void {
  const apiDigests = config.apiKeys.map(digest);
  const adminDigests = config.adminKeys.map(digest);

  app.addHook('onRequest', async (request, reply) => {
    const needs = request.routeOptions.config?.auth ?? 'none';
    const key = bearer(request);
    if (key !== undefined) {
      const d = digest(key);
      const isAdmin = adminDigests.length > 0 && matches(d, adminDigests);
      if (isAdmin || (apiDigests.length > 0 && matches(d, apiDigests))) {
        request.principal = keyId(key);
        request.isAdmin = isAdmin;
      }
    }
    if (needs === 'none') return;
    if (needs === 'admin') {
      if (adminDigests.length === 0) {
        return deny(reply, 404, 'admin endpoints are disabled: configure auth.adminKeys (LOGSIFT_ADMIN_KEYS) to enable them');
      }
      if (key === undefined) return deny(reply, 401, 'this endpoint needs an admin key: send Authorization: Bearer <key>');
      if (!request.isAdmin) return deny(reply, 403, 'the key is not an admin key');
      return;
    }
    if (apiDigests.length === 0) return; // no API keys configured: the API is open (admin keys guard only /admin)
    if (key === undefined) return deny(reply, 401, 'an API key is required: send Authorization: Bearer <key>');
    if (!request.principal) return deny(reply, 403, 'the API key is not valid');
  });
}
