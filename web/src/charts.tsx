/**
 * The result charts (Apache ECharts, SVG renderer: the SVG download is the chart itself; the PNG
 * is that SVG drawn on a canvas at twice the size). Clicking a bar or slice filters the table.
 */
import { useEffect, useRef } from 'preact/hooks';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';
import { labelColor, stageColor } from './colors';
import { timeSeries, type Filter, type Results } from './results';
import { download } from './download';

echarts.use([BarChart, LineChart, PieChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

const STAGE_ORDER = ['override', 'regex', 'embedding', 'llm', 'fallback', 'error'];
const byStage = (a: string, b: string): number => (STAGE_ORDER.indexOf(a) + 1 || 99) - (STAGE_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b);
const FONT = { fontFamily: 'system-ui, sans-serif', fontSize: 12, color: '#222' };

interface ChartProps {
  readonly id: string;
  readonly title: string;
  /** One sentence saying what the chart shows, for screen readers. */
  readonly summary: string;
  readonly option: EChartsCoreOption;
  readonly height: number;
  readonly onPick: (filter: Filter) => void;
  /** The filter a click on a data item sets. */
  readonly pick: (params: { name: string; seriesName?: string; seriesId?: string }) => Filter | undefined;
}

function svgOf(chart: echarts.ECharts): string {
  return (chart as unknown as { renderToSVGString(): string }).renderToSVGString();
}

async function pngOf(svg: string, width: number, height: number): Promise<Blob> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = width * 2;
  canvas.height = height * 2;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG export failed'))), 'image/png'));
}

function Chart({ id, title, summary, option, height, onPick, pick }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | undefined>(undefined);
  const handlers = useRef({ onPick, pick });
  handlers.current = { onPick, pick };

  useEffect(() => {
    const c = echarts.init(box.current!, undefined, { renderer: 'svg' });
    chart.current = c;
    c.on('click', (params) => {
      const f = handlers.current.pick(params as never);
      if (f) handlers.current.onPick(f);
    });
    const resize = new ResizeObserver(() => c.resize());
    resize.observe(box.current!);
    return () => {
      resize.disconnect();
      c.dispose();
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption({ backgroundColor: '#ffffff', animation: false, textStyle: FONT, ...option }, { notMerge: true });
  }, [option]);

  const saveSvg = () => chart.current && download(new Blob([svgOf(chart.current)], { type: 'image/svg+xml' }), `${id}.svg`);
  const savePng = async () => {
    const c = chart.current;
    if (c) download(await pngOf(svgOf(c), c.getWidth(), c.getHeight()), `${id}.png`);
  };

  return (
    <figure class="chart" data-chart={id}>
      <figcaption>
        <span class="chart-title" id={`${id}-title`}>
          {title}
        </span>
        <span class="chart-actions">
          <button type="button" class="small" onClick={saveSvg} aria-label={`Download “${title}” as SVG`}>
            SVG
          </button>
          <button type="button" class="small" onClick={savePng} aria-label={`Download “${title}” as PNG`}>
            PNG
          </button>
        </span>
      </figcaption>
      <div class="chart-box" ref={box} style={{ height: `${height}px` }} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`} />
      <p class="sr-only" id={`${id}-summary`}>
        {summary}
      </p>
    </figure>
  );
}

const sortedEntries = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
const describe = (entries: [string, number][]): string => entries.map(([k, v]) => `${k}: ${v}`).join('; ');

export interface ChartsProps {
  readonly results: Results;
  /** Changes whenever the results do (they are mutated in place while streaming). */
  readonly version: number;
  readonly onPick: (filter: Filter) => void;
}

export function Charts({ results, version, onPick }: ChartsProps) {
  void version;
  const stages = [...results.stages.entries()].sort((a, b) => byStage(a[0], b[0]));
  // Horizontal bars, largest at the top (ECharts draws a category axis from the bottom up).
  const labels = sortedEntries(results.labels).reverse();
  const labelNames = labels.map(([l]) => l);
  const barHeight = Math.max(160, labels.length * 28 + 60);
  const grid = { left: 8, right: 24, top: 16, bottom: 24, containLabel: true };

  const stageShare: EChartsCoreOption = {
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    aria: { enabled: true, decal: { show: true } },
    legend: { bottom: 0, textStyle: FONT },
    series: [
      {
        type: 'pie',
        radius: ['38%', '68%'],
        center: ['50%', '45%'],
        label: { formatter: '{b} {d}%', ...FONT },
        data: stages.map(([name, value]) => ({ name, value, itemStyle: { color: stageColor(name) } })),
      },
    ],
  };
  const perLabel: EChartsCoreOption = {
    tooltip: { trigger: 'item' },
    grid,
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: labelNames, axisLabel: { ...FONT } },
    series: [
      {
        type: 'bar',
        name: 'lines',
        data: labels.map(([name, value]) => ({ value, itemStyle: { color: labelColor(name), borderColor: '#333', borderWidth: 0.5 } })),
        label: { show: true, position: 'right', ...FONT },
      },
    ],
  };
  const stageNames = stages.map(([s]) => s);
  const stagesPerLabel: EChartsCoreOption = {
    tooltip: { trigger: 'item', formatter: '{b} · {a}: {c}' },
    aria: { enabled: true, decal: { show: true } },
    legend: { bottom: 0, textStyle: FONT },
    grid: { ...grid, bottom: 40 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: labelNames, axisLabel: { ...FONT } },
    series: stageNames.map((stage) => ({
      type: 'bar',
      name: stage,
      stack: 'stages',
      itemStyle: { color: stageColor(stage) },
      data: labelNames.map((l) => results.labelStages.get(l)?.get(stage) ?? 0),
    })),
  };

  const charts = [
    <Chart
      key="stages"
      id="stage-share"
      title="Share of lines per deciding stage"
      summary={`Lines per stage: ${describe(stages)}.`}
      option={stageShare}
      height={300}
      onPick={onPick}
      pick={(p) => ({ stage: p.name })}
    />,
    <Chart
      key="labels"
      id="lines-per-label"
      title="Lines per label"
      summary={`Lines per label: ${describe([...labels].reverse())}.`}
      option={perLabel}
      height={barHeight}
      onPick={onPick}
      pick={(p) => ({ label: p.name })}
    />,
    <Chart
      key="label-stages"
      id="stages-per-label"
      title="Deciding stages per label"
      summary={`Stages per label: ${[...labels]
        .reverse()
        .map(([l]) => `${l} (${describe(sortedEntries(results.labelStages.get(l) ?? new Map()))})`)
        .join('; ')}.`}
      option={stagesPerLabel}
      height={barHeight + 30}
      onPick={onPick}
      pick={(p) => ({ label: p.name, stage: p.seriesName })}
    />,
  ];

  if (results.hasTime) {
    const { bucketMs, series } = timeSeries(results.rows);
    const names = sortedEntries(results.labels).map(([l]) => l).filter((l) => series.has(l));
    const overTime: EChartsCoreOption = {
      tooltip: { trigger: 'axis' },
      aria: { enabled: true },
      legend: { bottom: 0, type: 'scroll', textStyle: FONT },
      grid: { ...grid, top: 36, bottom: 44 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', minInterval: 1, name: `lines per ${bucketLabel(bucketMs)}`, nameTextStyle: { ...FONT, align: 'left' } },
      series: names.map((name) => ({
        type: 'line',
        name,
        showSymbol: false,
        itemStyle: { color: labelColor(name) },
        lineStyle: { width: 2 },
        data: [...(series.get(name) ?? new Map()).entries()].sort((a, b) => a[0] - b[0]),
      })),
    };
    charts.push(
      <Chart
        key="time"
        id="labels-over-time"
        title={`Lines per label over time (${results.timeColumn})`}
        summary={`Lines per label per ${bucketLabel(bucketMs)}, from the column ${results.timeColumn}, for ${names.join(', ')}.`}
        option={overTime}
        height={320}
        onPick={onPick}
        pick={(p) => (p.seriesName ? { label: p.seriesName } : undefined)}
      />,
    );
  }
  return <div class="charts">{charts}</div>;
}

function bucketLabel(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${s / 60} min`;
  if (s < 86400) return `${s / 3600} h`;
  return `${s / 86400} d`;
}
