/**
 * Optional API keys. A route says what it needs in its config: `auth: 'api'` (a key when any
 * is configured), `auth: 'admin'` (always an admin key; with none configured the route is
 * disabled) or `auth: 'admin-if-keys'` (open while no key of either kind is configured, like
 * /classify; once any is, an admin key, as `admin`: PUT and DELETE on /templates). Keys come as `Authorization: Bearer <key>`; they are compared as SHA-256 digests
 * with crypto.timingSafeEqual, against every configured key (no early exit), so neither the
 * key's length nor its content shows in the timing. Keys never reach the logs: the request log
 * redacts the header and names a caller only by a digest prefix (`key_ab12cd34`).
 *
 * Failed authentications (401, 403) are counted per client IP (@fastify/rate-limit's store):
 * past `auth.maxFailures` in `auth.failureWindowMs`, every request from that IP to a protected
 * route is answered 429 RATE_LIMITED without its key being looked at, so keys cannot be guessed
 * at request speed — not even a right guess shows until the window ends.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { normalizeIP } from '@fastify/rate-limit';
import type { Config } from '../../config/index.js';
import { AdminDisabled, ApiKeyInvalid, ApiKeyRequired, RateLimited } from '../../errors.js';

export type AuthRequirement = 'none' | 'api' | 'admin' | 'admin-if-keys';

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

async function auth(app: FastifyInstance, config: Config['auth']): Promise<void> {
  const apiDigests = config.apiKeys.map(digest);
  const adminDigests = config.adminKeys.map(digest);
  // One counter per client address (an IPv6 client by its /64, as @fastify/rate-limit counts).
  const failures =
    config.maxFailures > 0
      ? app.createRateLimit({ max: config.maxFailures, timeWindow: config.failureWindowMs, keyGenerator: (request) => `auth-failures:${normalizeIP(request.ip)}` })
      : undefined;

  /** 429 while this client is over its failed authentications. */
  async function refuseIfBlocked(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!failures) return;
    const state = await failures(request, { increment: false });
    if (state.isAllowed || state.remaining > 0 || state.ttl <= 0) return;
    reply.header('retry-after', String(state.ttlInSeconds));
    throw new RateLimited(
      `too many failed authentications from this address (${state.max} in ${Math.round(state.timeWindow / 1000)} s); retry in ${state.ttlInSeconds} s`,
    );
  }

  /** Counts a failed authentication against the client's address, then refuses the request. */
  async function fail(request: FastifyRequest, reply: FastifyReply, err: Error & { statusCode: number }): Promise<never> {
    await failures?.(request);
    if (err.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="logsift"');
    throw err;
  }

  app.addHook('onRequest', async (request, reply) => {
    const declared = request.routeOptions.config?.auth ?? 'none';
    const needs = declared === 'admin-if-keys' ? (apiDigests.length + adminDigests.length > 0 ? 'admin' : 'none') : declared;
    const key = bearer(request);
    if (needs === 'admin' && adminDigests.length === 0) {
      throw new AdminDisabled(
        declared === 'admin-if-keys'
          ? 'changing labels needs an admin key once API keys are configured, and none is: configure auth.adminKeys (LOGSIFT_ADMIN_KEYS)'
          : 'admin endpoints are disabled: configure auth.adminKeys (LOGSIFT_ADMIN_KEYS) to enable them',
      );
    }
    // No API keys configured: the API is open (admin keys guard only /admin).
    const protectedRoute = needs === 'admin' || (needs === 'api' && apiDigests.length > 0);
    if (protectedRoute) await refuseIfBlocked(request, reply);
    if (key !== undefined) {
      const d = digest(key);
      const isAdmin = adminDigests.length > 0 && matches(d, adminDigests);
      if (isAdmin || (apiDigests.length > 0 && matches(d, apiDigests))) {
        request.principal = keyId(key);
        request.isAdmin = isAdmin;
      }
    }
    if (!protectedRoute) return;
    if (needs === 'admin') {
      if (key === undefined) return fail(request, reply, new ApiKeyRequired('this endpoint needs an admin key: send Authorization: Bearer <key>'));
      if (!request.isAdmin) return fail(request, reply, new ApiKeyInvalid('the key is not an admin key'));
      return;
    }
    if (key === undefined) return fail(request, reply, new ApiKeyRequired('an API key is required: send Authorization: Bearer <key>'));
    if (!request.principal) return fail(request, reply, new ApiKeyInvalid('the API key is not valid'));
  });
}

/** Needs @fastify/rate-limit registered first (plugins/protection.ts) for its store. */
export const authPlugin = fp(auth, { name: 'logsift-auth', dependencies: ['@fastify/rate-limit'] });
