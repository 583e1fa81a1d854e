/**
 * The result table, virtualised: only the rows on screen (and a few around them) are in the
 * document, so 100,000 rows scroll like 20. ARIA table semantics with aria-rowcount and
 * aria-rowindex tell assistive technology the full size.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { labelColor, textOn } from './colors';
import { labelKey, type Row, type Sort } from './results';

export const ROW_HEIGHT = 32;
const OVERSCAN = 8;

export function Badge({ label, title }: { label: string; title?: string }) {
  const bg = labelColor(label);
  return (
    <span class="badge" style={{ background: bg, color: textOn(bg) }} title={title}>
      {label}
    </span>
  );
}

const fmtConf = (c: number): string => (Number.isFinite(c) ? c.toFixed(4).replace(/\.?0+$/, '') || '0' : '');

export interface TableProps {
  readonly rows: readonly Row[];
  readonly view: Int32Array;
  readonly sort: Sort;
  readonly onSort: (sort: Sort) => void;
  readonly timeColumn?: string;
}

export function ResultTable({ rows, view, sort, onSort, timeColumn }: TableProps) {
  const body = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(520);
  const frame = useRef(0);

  useEffect(() => {
    const el = body.current!;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight || 520));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A new filter or sort starts at the top.
  useEffect(() => {
    if (body.current) body.current.scrollTop = 0;
    setScrollTop(0);
  }, [view.length, sort]);

  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setScrollTop(body.current?.scrollTop ?? 0);
    });
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(view.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const cols = timeColumn ? 'cols cols-time' : 'cols';
  const next: Record<Sort, Sort> = { none: 'desc', desc: 'asc', asc: 'none' };
  const ariaSort = sort === 'asc' ? 'ascending' : sort === 'desc' ? 'descending' : 'none';

  const visible = [];
  for (let k = first; k < last; k++) {
    const r = rows[view[k]];
    const isError = r.stage === 'error';
    visible.push(
      <div role="row" class={`row ${cols}`} aria-rowindex={k + 2} key={r.n} style={{ top: `${k * ROW_HEIGHT}px` }}>
        <span role="cell" class="num">
          {r.n}
        </span>
        {timeColumn && (
          <span role="cell" class="time">
            {Number.isNaN(r.time) ? '' : new Date(r.time).toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '')}
          </span>
        )}
        <span role="cell" class="source" title={r.source}>
          {r.source}
        </span>
        <span role="cell" class="message" title={r.message}>
          {r.message}
        </span>
        <span role="cell" class="label">
          <Badge label={labelKey(r)} title={isError ? r.label : undefined} />
          {isError && <span class="reason">{r.label}</span>}
        </span>
        <span role="cell" class="stage">
          {r.stage}
        </span>
        <span role="cell" class="num">
          {fmtConf(r.confidence)}
        </span>
      </div>,
    );
  }

  return (
    <div class="table" role="table" aria-label="Labelled lines" aria-rowcount={view.length + 1}>
      <div role="rowgroup" class="thead">
        <div role="row" class={`row ${cols}`} aria-rowindex={1}>
          <span role="columnheader" class="num">
            #
          </span>
          {timeColumn && <span role="columnheader">{timeColumn}</span>}
          <span role="columnheader">source</span>
          <span role="columnheader">message</span>
          <span role="columnheader">label</span>
          <span role="columnheader">stage</span>
          <span role="columnheader" class="num" aria-sort={ariaSort}>
            <button type="button" class="sort" onClick={() => onSort(next[sort])} title="Sort by confidence">
              confidence {sort === 'desc' ? '▼' : sort === 'asc' ? '▲' : '↕'}
            </button>
          </span>
        </div>
      </div>
      <div
        role="rowgroup"
        class="tbody"
        ref={body}
        onScroll={onScroll}
        tabIndex={0}
        aria-label="Rows (scroll)"
        style={{ height: `min(60vh, 640px, ${Math.max(view.length, 1) * ROW_HEIGHT + 2}px)` }}
      >
        <div class="spacer" role="presentation" style={{ height: `${view.length * ROW_HEIGHT}px` }}>
          {visible}
        </div>
      </div>
    </div>
  );
}
