import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../src/config/index.js';
import { fetchTransformerModel, transformerInstalled } from '../../src/models/fetch.js';
import { MINILM_MANIFEST, type ModelManifest } from '../../src/models/manifest.js';
import { modelsCommand } from '../../src/commands/models.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const FILES: Record<string, Buffer> = {
  'config.json': Buffer.from('{"hidden_size": 4}\n'),
  'tokenizer.json': Buffer.from('{"model": {"type": "WordPiece"}}\n'),
  'onnx/model_quantized.onnx': Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)),
};

function fakeManifest(urlBase = 'http://127.0.0.1:9/unused'): ModelManifest {
  return {
    name: 'fake-model',
    repo: 'test/fake-model',
    revision: '0'.repeat(40),
    files: Object.entries(FILES).map(([path, bytes]) => ({ path, size: bytes.length, sha256: sha(bytes), url: `${urlBase}/${path}` })),
  };
}

/** Every file under dir, relative, '/'-separated (to see that nothing stray is left behind). */
function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

let tmp: string;
let mirror: string;
let dest: string;

function writeMirror(files: Record<string, Buffer>): void {
  for (const [path, bytes] of Object.entries(files)) {
    const target = join(mirror, 'fake-model', path);
    mkdirSync(resolve(target, '..'), { recursive: true });
    writeFileSync(target, bytes);
  }
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'logsift-fetch-'));
  mirror = join(tmp, 'mirror');
  dest = join(tmp, 'dest', 'fake-model');
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('fetchTransformerModel from a mirror', () => {
  it('copies and verifies every file', async () => {
    writeMirror(FILES);
    const logs: string[] = [];
    const result = await fetchTransformerModel({ destDir: dest, mirror, manifest: fakeManifest(), log: (m) => logs.push(m) });
    expect(result.complete).toBe(true);
    expect(result.files.map((f) => [f.path, f.status])).toEqual(Object.keys(FILES).map((p) => [p, 'fetched']));
    for (const [path, bytes] of Object.entries(FILES)) expect(readFileSync(join(dest, path)).equals(bytes)).toBe(true);
    expect(listFiles(dest).sort()).toEqual(Object.keys(FILES).sort());
    expect(result.files.find((f) => f.path.endsWith('.onnx'))?.weights).toBe(true);
    expect(logs.some((l) => l.startsWith('config.json: fetched'))).toBe(true);
    expect(await transformerInstalled(dest, 'onnx/model_quantized.onnx')).toBe(false); // no tokenizer_config.json in the fake set
  });

  it('rejects a file whose SHA-256 does not match, naming file and both digests, and leaves nothing behind', async () => {
    const tampered = Buffer.from('{"hidden_size": 5}\n');
    writeMirror({ ...FILES, 'config.json': tampered });
    const manifest = fakeManifest();
    const result = await fetchTransformerModel({ destDir: dest, mirror, manifest });
    expect(result.complete).toBe(false);
    const bad = result.files.find((f) => f.path === 'config.json')!;
    expect(bad.status).toBe('error');
    expect(bad.detail).toContain('config.json');
    expect(bad.detail).toContain(manifest.files[0].sha256);
    expect(bad.detail).toContain(sha(tampered));
    expect(existsSync(join(dest, 'config.json'))).toBe(false);
    // the others still went in; no temporary files remain
    expect(listFiles(dest).sort()).toEqual(['onnx/model_quantized.onnx', 'tokenizer.json']);
  });

  it('reports a file absent from the mirror as missing', async () => {
    const { 'onnx/model_quantized.onnx': _weights, ...withoutWeights } = FILES;
    writeMirror(withoutWeights);
    const result = await fetchTransformerModel({ destDir: dest, mirror, manifest: fakeManifest() });
    expect(result.complete).toBe(false);
    const weights = result.files.find((f) => f.path === 'onnx/model_quantized.onnx')!;
    expect(weights.status).toBe('missing');
    expect(weights.detail).toContain(join(mirror, 'fake-model', 'onnx', 'model_quantized.onnx'));
    expect(result.files.filter((f) => f.status === 'fetched')).toHaveLength(2);
  });

  it('skips files already present with the right SHA-256, and replaces a wrong one', async () => {
    writeMirror(FILES);
    await fetchTransformerModel({ destDir: dest, mirror, manifest: fakeManifest() });
    writeFileSync(join(dest, 'tokenizer.json'), 'corrupted'); // wrong bytes installed
    rmSync(join(mirror, 'fake-model', 'config.json')); // a present file is not even looked up in the mirror
    const result = await fetchTransformerModel({ destDir: dest, mirror, manifest: fakeManifest() });
    expect(result.files.map((f) => f.status)).toEqual(['present', 'fetched', 'present']);
    expect(result.complete).toBe(true);
    expect(readFileSync(join(dest, 'tokenizer.json')).equals(FILES['tokenizer.json'])).toBe(true);
  });
});

describe('fetchTransformerModel over HTTP (local server)', () => {
  let server: Server;
  let base: string;
  const served: Record<string, Buffer> = { ...FILES };
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const path = decodeURIComponent((req.url ?? '').replace(/^\/repo\//, ''));
      const body = served[path];
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      // send in two pieces, so the client really streams
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.end(body.subarray(body.length >> 1)), 5);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo`;
  });

  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
  });

  it('downloads, verifies and installs atomically; a second run finds everything present', async () => {
    requests.length = 0;
    const result = await fetchTransformerModel({ destDir: dest, manifest: fakeManifest(), urlBase: base });
    expect(result.complete).toBe(true);
    expect(result.files.every((f) => f.status === 'fetched')).toBe(true);
    expect(requests.sort()).toEqual(Object.keys(FILES).map((p) => `/repo/${p}`).sort());
    for (const [path, bytes] of Object.entries(FILES)) expect(readFileSync(join(dest, path)).equals(bytes)).toBe(true);

    requests.length = 0;
    const again = await fetchTransformerModel({ destDir: dest, manifest: fakeManifest(), urlBase: base });
    expect(again.files.every((f) => f.status === 'present')).toBe(true);
    expect(requests).toEqual([]);
  });

  it('uses the manifest URLs when no urlBase is given', async () => {
    const result = await fetchTransformerModel({ destDir: dest, manifest: fakeManifest(base) });
    expect(result.complete).toBe(true);
  });

  it('rejects a download with the wrong SHA-256 and an HTTP error, leaving no file', async () => {
    served['tokenizer.json'] = Buffer.from('served bytes that do not match');
    delete served['config.json'];
    try {
      const result = await fetchTransformerModel({ destDir: dest, manifest: fakeManifest(), urlBase: base });
      expect(result.complete).toBe(false);
      const [config, tokenizer, weights] = result.files;
      expect(config.status).toBe('error');
      expect(config.detail).toMatch(/HTTP 404/);
      expect(tokenizer.status).toBe('error');
      expect(tokenizer.detail).toMatch(/SHA-256 mismatch for tokenizer\.json: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
      expect(weights.status).toBe('fetched');
      expect(listFiles(dest)).toEqual(['onnx/model_quantized.onnx']);
    } finally {
      Object.assign(served, FILES);
    }
  });

  it('reports an unreachable server as an error', async () => {
    const result = await fetchTransformerModel({ destDir: dest, manifest: fakeManifest(), urlBase: 'http://127.0.0.1:1/none' });
    expect(result.complete).toBe(false);
    expect(result.files.every((f) => f.status === 'error')).toBe(true);
    expect(listFiles(dest)).toEqual([]);
  });
});

describe('transformerInstalled', () => {
  it('needs tokenizer.json, tokenizer_config.json and the model file', async () => {
    mkdirSync(join(dest, 'onnx'), { recursive: true });
    expect(await transformerInstalled(dest, 'onnx/model_quantized.onnx')).toBe(false);
    writeFileSync(join(dest, 'tokenizer.json'), '{}');
    writeFileSync(join(dest, 'tokenizer_config.json'), '{}');
    expect(await transformerInstalled(dest, 'onnx/model_quantized.onnx')).toBe(false);
    writeFileSync(join(dest, 'onnx', 'model_quantized.onnx'), 'x');
    expect(await transformerInstalled(dest, 'onnx/model_quantized.onnx')).toBe(true);
  });
});

describe('pinned manifest', () => {
  it('lists the six files of Xenova/all-MiniLM-L6-v2 at the pinned revision', () => {
    expect(MINILM_MANIFEST.files.map((f) => f.path)).toEqual([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json',
      'vocab.txt',
      'onnx/model_quantized.onnx',
    ]);
    for (const f of MINILM_MANIFEST.files) {
      expect(f.url).toBe(`https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/48a5a372879ed2ed147ab84836e345977276d9b2/${f.path}`);
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

const SHARED_MIRROR = resolve(PROJECT_ROOT, '../shared/models');
const HAVE_SHARED = existsSync(join(SHARED_MIRROR, 'all-MiniLM-L6-v2', 'tokenizer.json'));

describe.skipIf(!HAVE_SHARED)(
  HAVE_SHARED ? 'logsift models with the shared mirror (tokenizer only)' : `logsift models — SKIPPED: ${SHARED_MIRROR} not found`,
  () => {
    it('installs the real tokenizer files (their SHA-256 match the manifest), reports missing weights, exit 1 / 0 with --allow-partial', async () => {
      const out: string[] = [];
      const spyOut = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
      const spyErr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
      try {
        const config = loadConfig({}, { embedder: { modelDir: dest }, models: { mirror: SHARED_MIRROR } });
        expect(await modelsCommand([], config)).toBe(1);
        const text = out.join('');
        expect(text).toMatch(/tokenizer\.json\s+fetched/);
        expect(text).toMatch(/onnx\/model_quantized\.onnx\s+missing/);
        expect(text).toContain('`lexical` embedder will be used');
        out.length = 0;
        expect(await modelsCommand(['--allow-partial'], config)).toBe(0);
        expect(out.join('')).toMatch(/vocab\.txt\s+present/);
        expect(await modelsCommand(['--bogus'], config)).toBe(2);
      } finally {
        spyOut.mockRestore();
        spyErr.mockRestore();
      }
      expect(listFiles(dest).sort()).toEqual(
        ['config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'].sort(),
      );
      expect(await transformerInstalled(dest, 'onnx/model_quantized.onnx')).toBe(false);
    });
  },
);
