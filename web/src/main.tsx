import { render, Component } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, capabilities, checkAccess, classify, hasApiKey, setApiKey, type Classification, type Progress } from './api';
import { Charts, type ChartsProps } from './charts';
import { linesToCsv } from './csv';
import { download } from './download';
import { Results, view, type Filter, type Sort } from './results';
import { Badge, ResultTable } from './table';
import './style.css';

const nf = new Intl.NumberFormat('en');
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

type Phase = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

interface Run {
  readonly results: Results;
  readonly name: string;
  phase: Phase;
  sent: number;
  total: number;
  /** The whole answer, once complete: the download is exactly these bytes. */
  text?: string;
  error?: string;
}

/** Re-renders only when the results change, not on every filter or keystroke. */
class ChartsPanel extends Component<ChartsProps> {
  shouldComponentUpdate(next: ChartsProps): boolean {
    return next.version !== this.props.version || next.results !== this.props.results;
  }
  render() {
    return <Charts {...this.props} />;
  }
}

function KeyForm({ message, onKey }: { message: string; onKey: (key: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        const key = input.current?.value.trim() ?? '';
        if (key) onKey(key);
      }}
    >
      <p role="alert" class="alert">
        {message}
      </p>
      <label>
        API key{' '}
        <input ref={input} type="password" name="api-key" autocomplete="off" spellcheck={false} required />
      </label>{' '}
      <button type="submit">Use this key</button>
      <p class="hint">The key is kept only in this page's memory and sent as a bearer token; reloading the page forgets it.</p>
    </form>
  );
}

function App() {
  const [tab, setTab] = useState<'classify' | 'templates'>('classify');
  const [hasTemplates, setHasTemplates] = useState(false);
  const [pasted, setPasted] = useState('');
  const [source, setSource] = useState('console');
  const [file, setFile] = useState<File | undefined>();
  const [run, setRun] = useState<Run | undefined>();
  const [version, setVersion] = useState(0);
  const [chartVersion, setChartVersion] = useState(0);
  const [filter, setFilter] = useState<Filter>({});
  const [text, setText] = useState('');
  const [sort, setSort] = useState<Sort>('none');
  const [keyPrompt, setKeyPrompt] = useState<{ message: string; retry: () => void } | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const active = useRef<Classification | undefined>(undefined);

  useEffect(() => {
    capabilities().then((c) => setHasTemplates(c.templates));
  }, []);

  // The text filter follows typing after a short pause (it scans every row).
  useEffect(() => {
    const t = setTimeout(() => setFilter((f) => ({ ...f, text: text || undefined })), 150);
    return () => clearTimeout(t);
  }, [text]);

  const start = async (body: Blob, name: string, probe: boolean) => {
    if (active.current) return;
    setNotice(undefined);
    setKeyPrompt(undefined);
    const retry = () => start(body, name, probe);
    try {
      if (probe) await checkAccess();
    } catch (err) {
      return failed(err, retry);
    }
    const results = new Results();
    const r: Run = { results, name, phase: 'running', sent: 0, total: body.size };
    setRun(r);
    setFilter({});
    setText('');
    setSort('none');
    // Streaming rows are shown a few times a second, charts once a second: the page keeps
    // answering input however fast rows arrive.
    let tick = 0;
    let chartTick = 0;
    const refresh = (final = false) => {
      const now = performance.now();
      if (final || now - tick > 250) {
        tick = now;
        setVersion((v) => v + 1);
      }
      if (final || now - chartTick > 1000) {
        chartTick = now;
        setChartVersion((v) => v + 1);
      }
    };
    const c = classify(
      body,
      (p: Progress) => {
        r.sent = p.sent;
        r.total = p.total;
        refresh();
      },
      (chunk) => {
        results.push(chunk);
        refresh();
      },
    );
    active.current = c;
    try {
      const answer = await c.done;
      results.end();
      if (answer === undefined) r.phase = 'cancelled';
      else {
        r.phase = 'done';
        r.text = answer;
        r.sent = r.total;
      }
    } catch (err) {
      r.phase = 'failed';
      if (err instanceof ApiError && err.needsKey) {
        setRun(undefined);
        failed(err, retry);
      } else r.error = err instanceof Error ? err.message : String(err);
    } finally {
      active.current = undefined;
      refresh(true);
    }
  };

  const failed = (err: unknown, retry: () => void) => {
    if (err instanceof ApiError && err.needsKey) {
      const message =
        err.status === 401
          ? 'This service needs an API key. Enter it to classify; it is asked for once.'
          : `The API key was not accepted (${err.message}). Enter another.`;
      setKeyPrompt({ message, retry });
    } else setNotice(err instanceof Error ? err.message : String(err));
  };

  const classifyPasted = () => {
    const { csv, lines } = linesToCsv(pasted, source);
    if (lines === 0) return setNotice('Paste some log lines first (one per line).');
    start(new Blob([csv], { type: 'text/csv' }), 'pasted lines', false);
  };
  const classifyFile = () => {
    if (!file) return setNotice('Choose a CSV file first.');
    start(file, file.name, true);
  };

  const results = run?.results;
  const rows = results?.rows ?? [];
  const idx = useMemo(() => view(rows, filter, sort), [results, version, filter, sort]);
  const pick = useCallback((f: Filter) => {
    setFilter((old) => ({ text: old.text, ...f }));
    document.getElementById('results-table')?.scrollIntoView({ block: 'start' });
  }, []);
  const labelOptions = results ? [...results.labels.keys()].sort() : [];
  const stageOptions = results ? [...results.stages.keys()].sort() : [];
  const running = run?.phase === 'running';

  return (
    <>
      <header class="top">
        <h1>logsift</h1>
        <nav class="tabs" aria-label="Views">
          <button type="button" class="tab" aria-current={tab === 'classify' ? 'page' : undefined} onClick={() => setTab('classify')}>
            Classify
          </button>
          {hasTemplates && (
            <button type="button" class="tab" data-tab="templates" aria-current={tab === 'templates' ? 'page' : undefined} onClick={() => setTab('templates')}>
              Templates
            </button>
          )}
        </nav>
        <a href="/docs">API docs</a>
      </header>
      <main>
        {tab === 'templates' && hasTemplates ? (
          <section aria-labelledby="templates-h">
            <h2 id="templates-h">Templates</h2>
            <p>This server has a template store. Reviewing templates from this console is not built yet: use the API (see the API docs).</p>
          </section>
        ) : (
          <>
            {keyPrompt && (
              <KeyForm
                message={keyPrompt.message}
                onKey={(k) => {
                  setApiKey(k);
                  const { retry } = keyPrompt;
                  setKeyPrompt(undefined);
                  retry();
                }}
              />
            )}
            <section class="inputs" aria-label="Input">
              <div class="panel">
                <h2>Paste lines</h2>
                <label for="paste">Log lines, one per line</label>
                <textarea id="paste" rows={8} value={pasted} onInput={(e) => setPasted(e.currentTarget.value)} placeholder="User 12345 logged in." />
                <div class="row-inline">
                  <label>
                    Source <input type="text" value={source} onInput={(e) => setSource(e.currentTarget.value)} size={14} />
                  </label>
                  <button type="button" class="primary" disabled={running} onClick={classifyPasted}>
                    Classify lines
                  </button>
                </div>
              </div>
              <div class="panel">
                <h2>Upload a CSV</h2>
                <p class="hint">
                  Columns <code>source</code> and <code>log_message</code> (or <code>message</code>); others are kept. Any size: it streams through{' '}
                  <code>POST /classify</code>.
                </p>
                <label>
                  CSV file <input type="file" accept=".csv,text/csv,text/plain" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
                </label>
                <div class="row-inline">
                  <button type="button" class="primary" disabled={running} onClick={classifyFile}>
                    Classify file
                  </button>
                  {hasApiKey() && (
                    <button
                      type="button"
                      class="link"
                      onClick={() => {
                        setApiKey(undefined);
                        setNotice('The API key was forgotten; the next request asks for one if the service needs it.');
                      }}
                    >
                      Forget API key
                    </button>
                  )}
                </div>
              </div>
            </section>
            {notice && (
              <p role="alert" class="alert">
                {notice}
              </p>
            )}
            {run && (
              <section class="progress-box" aria-label="Progress">
                <progress max={Math.max(run.total, 1)} value={run.sent} aria-label="Upload sent" />
                <span role="status" class="status" data-phase={run.phase} data-rows={rows.length}>
                  {run.phase === 'running' && `Sent ${bytes(run.sent)} of ${bytes(run.total)} · ${nf.format(rows.length)} rows labelled`}
                  {run.phase === 'done' && `Done: ${nf.format(rows.length)} rows labelled (${run.name}, ${bytes(run.total)})`}
                  {run.phase === 'cancelled' && `Cancelled after ${nf.format(rows.length)} rows`}
                  {run.phase === 'failed' && `Failed after ${nf.format(rows.length)} rows: ${run.error ?? ''}`}
                </span>
                {running && (
                  <button type="button" onClick={() => active.current?.cancel()}>
                    Cancel
                  </button>
                )}
                {run.phase === 'done' && run.text !== undefined && (
                  <button type="button" class="primary" onClick={() => download(new Blob([run.text!], { type: 'text/csv' }), 'labelled.csv')}>
                    Download labelled CSV
                  </button>
                )}
              </section>
            )}
            {results && rows.length > 0 && (
              <>
                <section aria-label="Charts">
                  <ChartsPanel results={results} version={chartVersion} onPick={pick} />
                </section>
                <section id="results-table" class="results" aria-label="Results">
                  <div class="filters">
                    <label for="filter-label">Label</label>
                    <select
                      id="filter-label"
                      value={filter.label ?? ''} onChange={(e) => setFilter((f) => ({ ...f, label: e.currentTarget.value || undefined }))}>
                        <option value="">all</option>
                        {labelOptions.map((l) => (
                          <option value={l}>{l}</option>
                        ))}
                      </select>
                    <label for="filter-stage">Stage</label>
                    <select
                      id="filter-stage"
                      value={filter.stage ?? ''} onChange={(e) => setFilter((f) => ({ ...f, stage: e.currentTarget.value || undefined }))}>
                        <option value="">all</option>
                        {stageOptions.map((s) => (
                          <option value={s}>{s}</option>
                        ))}
                      </select>
                    <label for="filter-text">Text</label>
                    <input id="filter-text" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="filter lines" />
                    {(filter.label || filter.stage || filter.text) && (
                      <button
                        type="button"
                        onClick={() => {
                          setFilter({});
                          setText('');
                        }}
                      >
                        Clear filters
                      </button>
                    )}
                    <span class="count" role="status" data-count={idx.length}>
                      {filter.label && <Badge label={filter.label} />} {nf.format(idx.length)} of {nf.format(rows.length)} rows
                    </span>
                  </div>
                  <ResultTable rows={rows} view={idx} sort={sort} onSort={setSort} timeColumn={results.hasTime ? results.timeColumn : undefined} />
                </section>
              </>
            )}
          </>
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
