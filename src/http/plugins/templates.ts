/**
 * The template store's life in the server (fastify-plugin): opens `<data.dir>/templates.sqlite`
 * (src/templates/store.ts) and the service's tracker (src/templates/tracker.ts), flushes the
 * gathered counts every templates.flushIntervalMs, prunes at start and hourly, and flushes and
 * closes on shutdown. New templates are counted (logsift_templates_new_total) and logged at info,
 * at most templates.newLogPerMinute lines a minute (past it one line says so; the number not
 * logged follows with the next minute's first new template).
 *
 * `app.templates` is undefined when templates.enabled is off; /classify then mines nothing.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { resolvePath, type Config } from '../../config/index.js';
import { TemplateStore } from '../../templates/store.js';
import { StoreTracker } from '../../templates/tracker.js';
import type { ServiceObserver } from './metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    templates?: { readonly store: TemplateStore; readonly tracker: StoreTracker };
  }
}

export interface TemplatesPluginOptions {
  readonly config: Pick<Config, 'data' | 'templates'>;
  readonly observer?: ServiceObserver;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

async function templates(app: FastifyInstance, { config, observer }: TemplatesPluginOptions): Promise<void> {
  const settings = config.templates;
  if (!settings.enabled) {
    app.decorate('templates', undefined);
    return;
  }
  const store = new TemplateStore(resolvePath(config.data.dir));
  const log = app.log.child({ component: 'templates' });

  // `new template` lines: at most newLogPerMinute per minute, the rest counted and summed up.
  let windowStart = 0;
  let logged = 0;
  let unlogged = 0;
  const onNew = (fresh: readonly { id: string; text: string; source: string }[]) => {
    observer?.templatesNew?.(fresh.length);
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      if (unlogged) log.info({ newTemplatesNotLogged: unlogged }, `${unlogged} more new templates in the last minute (not logged one by one; GET /templates?since=…)`);
      windowStart = now;
      logged = 0;
      unlogged = 0;
    }
    for (const t of fresh) {
      if (logged < settings.newLogPerMinute) {
        logged++;
        log.info({ template: { id: t.id, text: t.text, source: t.source } }, 'new template');
      } else if (unlogged++ === 0) {
        log.info({ newTemplateLogLimit: settings.newLogPerMinute }, `over ${settings.newLogPerMinute} new templates this minute: the rest are counted (logsift_templates_new_total), not logged one by one`);
      }
    }
  };

  const tracker = new StoreTracker(store, { minerMaxTemplates: settings.minerMaxTemplates, onNew });
  app.decorate('templates', { store, tracker });
  const limits = { maxTemplates: settings.maxTemplates, pruneAfterDays: settings.pruneAfterDays, pruneBelowCount: settings.pruneBelowCount };
  const prune = () => {
    try {
      const removed = tracker.prune(limits);
      if (removed) log.info({ pruned: removed }, 'template store pruned');
    } catch (err) {
      log.error({ err }, 'template store: pruning failed');
    }
  };
  const flush = () => {
    try {
      tracker.flush();
    } catch (err) {
      // The batch is lost (counts of up to one interval), the service goes on.
      log.error({ err }, 'template store: writing counts failed');
    }
  };
  prune();
  log.info({ path: store.path, schemaVersion: store.version, templates: store.size, minerSeeded: tracker.minerSize }, 'template store opened');
  const flushTimer = setInterval(flush, settings.flushIntervalMs).unref();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS).unref();
  app.addHook('onClose', async () => {
    clearInterval(flushTimer);
    clearInterval(pruneTimer);
    flush();
    store.close();
  });
}

export const templatesPlugin = fp(templates, { name: 'logsift-templates', dependencies: ['logsift-metrics'] });
