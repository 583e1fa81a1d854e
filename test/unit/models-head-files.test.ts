import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createEmbedder } from '../../src/embedding/index.js';
import { LexicalEmbedder } from '../../src/embedding/lexical.js';
import { HEAD_KINDS, type HeadKind } from '../../src/models/head-model.js';
import { HeadError, loadHead, parseHead, saveHead } from '../../src/models/head.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import { trainHead } from '../../src/training/train.js';
import { HeaderParser } from '../../src/lines/header.js';
import { LineFeaturizer } from '../../src/lines/features.js';
import { maskMessage } from '../../src/lines/masking.js';
import { LinePreparer } from '../../src/lines/prepare.js';

const preparer = new LinePreparer(new HeaderParser([]), maskMessage);
const features = (dimension?: number) => new LineFeaturizer(new LexicalEmbedder(dimension ? { dimension } : {}), preparer);

const rows = [
  ...Array.from({ length: 30 }, (_, i) => ({ source: 's', message: `disk usage at ${50 + i}% on node-${i}`, label: 'Resource Usage' })),
  ...Array.from({ length: 30 }, (_, i) => ({ source: 's', message: `user u${i} signed in from the web portal`, label: 'User Action' })),
  ...Array.from({ length: 30 }, (_, i) => ({ source: 's', message: `brute force attempt blocked from host ${i}`, label: 'Security Alert' })),
];
const probes = ['disk usage at 97% on node-3', 'user bob signed in', 'blocked brute force from 10.0.0.1', 'nothing like the training lines', ''];
const dir = mkdtempSync(join(tmpdir(), 'head-files-'));

describe.each(HEAD_KINDS)('a %s head file', (kind: HeadKind) => {
  const embedder = features(2048);

  it('save → load gives identical probabilities, its kind, and the embedder check', async () => {
    const result = await trainHead(rows, embedder, { head: kind, seed: 5, hidden: 8 });
    expect(result.head).toMatchObject({ format: 'logsift-head/v2', kind, embedder: { fingerprint: embedder.fingerprint, dimension: embedder.dimension } });
    expect(result.report.accuracy).toBe(1);
    const path = join(dir, `head-${kind}.json`);
    await saveHead(path, result.head);
    const loaded = await loadHead(path);
    expect(loaded.kind).toBe(kind);
    expect(loaded.labels).toEqual(result.model.labels);
    expect(loaded.temperature).toBe(result.model.temperature);
    expect(loaded.training?.dataSha256).toBe(result.head.training?.dataSha256);
    for (const probe of probes) {
      const [x] = await embedder.featurizeMessages([probe]);
      expect([...loaded.predictProba(x)], probe).toEqual([...result.model.predictProba(x)]);
    }
    expect(() => loaded.assertCompatible(embedder)).not.toThrow();
    expect(() => loaded.assertCompatible(features())).toThrow(/trained with embedder lexical:v2:d2048.*configured embedder is lexical:v2:d32768/);
  });
});

describe('head files', () => {
  it('a logsift-head/v1 file still loads, as a softmax head', async () => {
    const embedder = features();
    const { kind: _kind, ...v2 } = (await trainHead(rows, embedder, { head: 'softmax', seed: 5 })).head as Record<string, unknown>;
    const v1Path = join(dir, 'head-v1.json');
    await saveHead(v1Path, { ...v2, format: 'logsift-head/v1' } as never);
    expect(JSON.parse(readFileSync(v1Path, 'utf8')).format).toBe('logsift-head/v1');
    const head = await loadHead(v1Path);
    expect(head.kind).toBe('softmax');
    const [x] = await embedder.featurizeMessages(['Disk usage on /var reached 97% of 500 GB']);
    const p = head.predictProba(x);
    expect(head.labels[p.indexOf(Math.max(...p))]).toBe('Resource Usage');
  });

  it('the service runs an MLP head from the head folder', async () => {
    const headDir = mkdtempSync(join(tmpdir(), 'head-dir-'));
    const config = loadConfig({ LOGSIFT_EMBEDDER: 'lexical', LOGSIFT_HEAD_DIR: headDir });
    // The service's lexical embedder: with the configured word vectors.
    const embedder = new LineFeaturizer(await createEmbedder('lexical', config), preparer);
    const result = await trainHead(rows, embedder, { head: 'mlp', seed: 5, hidden: 4 });
    await saveHead(join(headDir, 'head-lexical.json'), result.head);
    const built = await buildPipeline(config, { stages: ['embedding'] });
    try {
      const [decision] = await built.pipeline.classify([{ source: 's', message: 'brute force attempt blocked from host 99' }]);
      expect(decision.label).toBe('Security Alert');
      expect(['embedding', 'fallback']).toContain(decision.stage);
    } finally {
      await built.pipeline.close();
    }
  });

  it('invalid v2 files are clear errors', async () => {
    const embedder = features(64);
    const valid = { ...(await trainHead(rows, embedder, { head: 'mlp', seed: 1, hidden: 4, epochs: 1 })).head };
    expect(() => parseHead({ ...valid, format: 'logsift-head/v3' }, 'h.json')).toThrow(/h.json is not a valid logsift head: format: expected logsift-head\/v1 or logsift-head\/v2, got "logsift-head\/v3"/);
    expect(() => parseHead({ ...valid, kind: 'forest' }, 'h.json')).toThrow(/h.json is not a valid logsift head: kind/);
    expect(() => parseHead({ ...valid, inputBias: [0, 0, 0] }, 'h.json')).toThrow(HeadError);
    expect(() => parseHead({ ...valid, inputBias: [0, 0, 0] }, 'h.json')).toThrow(/head inputWeights are 1096×4, expected 1096×3/);
    const { outputBias: _dropped, ...missing } = valid as Record<string, unknown>;
    expect(() => parseHead(missing, 'h.json')).toThrow(/h.json is not a valid logsift head: outputBias/);
  });
});
