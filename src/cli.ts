#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/index.js';

const USAGE = `usage: logsift <command> [options]

commands:
  serve                      run the HTTP service (default)
  train --data FILE.csv      fit the classifier head and write it to models/
  eval --data FILE.csv       score the pipeline on a labelled CSV
  models                     fetch and verify the transformer model files
  setup [--data FILE.csv]    models (or your own model folder), then a head that fits them if there is none (run by npm start)
  corpus                     regenerate the training corpus in data/
  discover --data FILE.csv   mine templates, group them into families, suggest regex rules (--out DIR)
  consume                    label records from a NATS JetStream stream and publish them (any number of workers)

Configuration comes from LOGSIFT_CONFIG (a JSON file) and environment variables; see README.md.`;

type Command = (argv: string[], config: ReturnType<typeof loadConfig>) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  eval: async () => (await import('./commands/eval.js')).evalCommand,
  models: async () => (await import('./commands/models.js')).modelsCommand,
  corpus: async () => (await import('./commands/corpus.js')).corpusCommand,
  setup: async () => (await import('./commands/setup.js')).setupCommand,
  discover: async () => (await import('./commands/discover.js')).discoverCommand,
  consume: async () => (await import('./commands/consume.js')).consumeCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name = 'serve', ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`unknown command: ${name}\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfig(process.env);
  return (await load())(rest, config);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : `logsift: ${(err as Error).message ?? err}`);
    process.exitCode = 1;
  },
);
