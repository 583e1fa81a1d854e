/**
 * Talking to the service: POST /classify (streamed, with progress and cancel), the API key, and
 * what the server can do. The key lives only in this module's memory: it is sent as
 * `Authorization: Bearer …`, never in a URL, never in local or session storage.
 */

let apiKey: string | undefined;
/** Set once a request has been accepted with the current key (or without one). */
let accessConfirmed = false;

export function setApiKey(key: string | undefined): void {
  apiKey = key?.trim() || undefined;
  accessConfirmed = false;
}

export function hasApiKey(): boolean {
  return apiKey !== undefined;
}

/** An error answer of the service: its JSON `{statusCode, code, error, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** The request needs a (valid) key: 401 or 403. */
  get needsKey(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

function apiError(status: number, body: string): ApiError {
  try {
    const json = JSON.parse(body) as { code?: string; message?: string };
    return new ApiError(status, json.code ?? String(status), json.message ?? `HTTP ${status}`);
  } catch {
    return new ApiError(status, String(status), status === 0 ? 'the connection to the service failed' : `HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

function authHeaders(): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/**
 * Makes sure /classify will take a request from us before a large upload starts (a refusal sent
 * while the browser is still sending megabytes may arrive as a reset connection instead of the
 * clear 401). The probe is a CSV with a header and no rows: answered with just the header.
 */
export async function checkAccess(): Promise<void> {
  if (accessConfirmed) return;
  const res = await fetch('/classify', { method: 'POST', headers: { 'content-type': 'text/csv', ...authHeaders() }, body: 'source,log_message\n' });
  const body = await res.text();
  if (res.ok) {
    accessConfirmed = true;
    return;
  }
  throw apiError(res.status, body);
}

export interface Progress {
  /** Bytes of the upload sent so far, and its size. */
  readonly sent: number;
  readonly total: number;
}

export interface Classification {
  /** Resolves with the whole answer (the labelled CSV as sent), or undefined when cancelled. */
  readonly done: Promise<string | undefined>;
  cancel(): void;
}

/**
 * POSTs `body` as text/csv. `onText` gets the answer piece by piece as it streams in;
 * `onProgress` the bytes sent. XMLHttpRequest rather than fetch: it reports upload progress
 * (fetch cannot without a streaming request body, which Chromium allows only over HTTP/2).
 */
export function classify(body: Blob, onProgress: (p: Progress) => void, onText: (chunk: string) => void): Classification {
  const xhr = new XMLHttpRequest();
  let read = 0;
  const drain = (): void => {
    if (xhr.status !== 200) return;
    const text = xhr.responseText;
    if (text.length > read) {
      const chunk = text.slice(read);
      read = text.length;
      onText(chunk);
    }
  };
  const done = new Promise<string | undefined>((resolve, reject) => {
    xhr.open('POST', '/classify');
    xhr.setRequestHeader('content-type', 'text/csv');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : body.size });
    xhr.onprogress = drain;
    xhr.onload = () => {
      if (xhr.status === 200) {
        drain();
        accessConfirmed = true;
        resolve(xhr.responseText);
      } else reject(apiError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(apiError(0, ''));
    xhr.onabort = () => resolve(undefined);
    xhr.send(body);
  });
  return { done, cancel: () => xhr.abort() };
}

/** What this server offers beyond /classify, read from its OpenAPI document. */
export interface Capabilities {
  /** The template store (GET /templates …): the Templates tab is shown only with it. */
  readonly templates: boolean;
}

export async function capabilities(): Promise<Capabilities> {
  try {
    const res = await fetch('/docs/json', { headers: { accept: 'application/json' } });
    if (!res.ok) return { templates: false };
    const doc = (await res.json()) as { paths?: Record<string, unknown> };
    return { templates: Object.keys(doc.paths ?? {}).some((p) => p === '/templates' || p.startsWith('/templates/')) };
  } catch {
    return { templates: false };
  }
}
