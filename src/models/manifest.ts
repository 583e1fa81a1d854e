/**
 * Pinned list of the transformer files `logsift models` installs: Xenova/all-MiniLM-L6-v2 (the
 * Transformers.js / ONNX export of sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) at one
 * fixed revision. Sizes and SHA-256 digests: ../shared/models/all-MiniLM-L6-v2/SOURCE.txt
 * (the weights' from the Git LFS pointer of the same commit).
 */

export interface ManifestFile {
  /** Path inside the model folder, '/'-separated. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the bytes, lowercase hex. */
  sha256: string;
  /** Where it is downloaded from. */
  url: string;
}

export interface ModelManifest {
  /** Folder name under the destination's parent and under a mirror, e.g. all-MiniLM-L6-v2. */
  name: string;
  /** Upstream repository and revision, for messages. */
  repo: string;
  revision: string;
  files: ManifestFile[];
}

export const MINILM_REPO = 'Xenova/all-MiniLM-L6-v2';
export const MINILM_REVISION = '48a5a372879ed2ed147ab84836e345977276d9b2';

/** Base URL the file paths are appended to. */
export const MINILM_URL_BASE = `https://huggingface.co/${MINILM_REPO}/resolve/${MINILM_REVISION}`;

const files: Array<Omit<ManifestFile, 'url'>> = [
  { path: 'config.json', size: 650, sha256: '7135149f7cffa1a573466c6e4d8423ed73b62fd2332c575bf738a0d033f70df7' },
  { path: 'tokenizer.json', size: 711661, sha256: 'da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0' },
  { path: 'tokenizer_config.json', size: 366, sha256: '9261e7d79b44c8195c1cada2b453e55b00aeb81e907a6664974b4d7776172ab3' },
  { path: 'special_tokens_map.json', size: 125, sha256: 'b6d346be366a7d1d48332dbc9fdf3bf8960b5d879522b7799ddba59e76237ee3' },
  { path: 'vocab.txt', size: 231508, sha256: '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3' },
  {
    path: 'onnx/model_quantized.onnx',
    size: 22972370,
    sha256: 'afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1',
  },
];

export const MINILM_MANIFEST: ModelManifest = {
  name: 'all-MiniLM-L6-v2',
  repo: MINILM_REPO,
  revision: MINILM_REVISION,
  files: files.map((f) => ({ ...f, url: `${MINILM_URL_BASE}/${f.path}` })),
};

/** The model weights within a manifest (the files without which only the tokenizer is there). */
export function isWeightsFile(path: string): boolean {
  return path.endsWith('.onnx');
}
