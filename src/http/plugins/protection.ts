/**
 * Load shedding (@fastify/under-pressure), rate limits (@fastify/rate-limit), CORS
 * (@fastify/cors, off unless origins are configured) and security headers (@fastify/helmet,
 * with a CSP Swagger UI works under).
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config/index.js';
import { Overloaded, RateLimited } from '../../errors.js';
import { errorBody } from '../errors.js';
import type { ServiceObserver } from './metrics.js';

/** Answered even under pressure and never rate-limited: liveness and metrics must stay readable. */
const ALWAYS_OPEN = new Set(['/healthz', '/metrics']);

export interface ProtectionOptions {
  readonly config: Config;
  readonly observer?: ServiceObserver;
}

async function protection(app: FastifyInstance, { config, observer }: ProtectionOptions): Promise<void> {
  const p = config.pressure;
  if (p.maxEventLoopDelayMs > 0 || p.maxHeapUsedBytes > 0 || p.maxRssBytes > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: p.maxEventLoopDelayMs,
      maxHeapUsedBytes: p.maxHeapUsedBytes,
      maxRssBytes: p.maxRssBytes,
      retryAfter: p.retryAfterSeconds,
      // Returning undefined lets the request through; a returned object is sent as the answer
      // (under-pressure's runtime contract; its types only admit void).
      pressureHandler: ((request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => {
        if (ALWAYS_OPEN.has(request.routeOptions.url ?? '')) return undefined;
        observer?.pressure?.(type);
        reply.code(503).header('retry-after', String(p.retryAfterSeconds));
        return errorBody(
          new Overloaded(`the service is overloaded (${type}${value !== undefined ? ` = ${Math.round(value)}` : ''}); retry after ${p.retryAfterSeconds} s`),
        );
      }) as unknown as (request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => void,
    });
  }

  // Everything but the docs page is an API answering JSON or CSV; the CSP is the one Swagger UI
  // needs: its own scripts and styles, inline style attributes, data: images, no other origin.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Plain HTTP behind a proxy is the common deployment: the proxy sets HSTS.
    strictTransportSecurity: false,
  });

  if (config.cors.origins.length > 0) {
    await app.register(cors, {
      origin: config.cors.origins.includes('*') ? '*' : config.cors.origins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'content-disposition'],
      maxAge: 600,
    });
  }

  // Always registered: the auth plugin counts failed authentications in its store. Requests are
  // limited only when rateLimit.max is set.
  await app.register(rateLimit, {
    global: config.rateLimit.max > 0,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    // The auth hook has run (it is an instance hook; this one is per route): a valid key is
    // the caller's identity, otherwise the client address. (Failed authentications never reach
    // this hook: the auth plugin counts them per address itself.)
    keyGenerator: (request) => request.principal ?? `ip:${request.ip}`,
    allowList: (request) => ALWAYS_OPEN.has(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) =>
      new RateLimited(`rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
}

/** Registered at the root (fastify-plugin): its hooks and the rate-limit store serve every route. */
export const protectionPlugin = fp(protection, { name: 'logsift-protection' });
