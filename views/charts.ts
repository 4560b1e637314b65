import { BarChart } from 'echarts/charts';
import { GridComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

// Charts for 数据统计, drawn on the server by ECharts' SSR SVG renderer, so a page needs no
// JavaScript. The SVG is inlined, and our CSP allows no inline style: ECharts' `style="…"` becomes
// presentation attributes and its hover `<style>` block (meaningless without script) is dropped.
// Every chart sits beside a table with the same numbers; the SVG itself is role="img" with a title.

echarts.use([BarChart, GridComponent, SVGRenderer]);

export type BarRow = { label: string; value: number; /** What the bar's end says, e.g. "85.0%" or "120 人". */ text: string };

const ROW_HEIGHT = 26;
const cache = new Map<string, string>();
const CACHE_LIMIT = 200;

/** A horizontal bar chart, one bar per row, labelled at both ends. */
export function barChart(input: { id: string; title: string; rows: readonly BarRow[]; max?: number; width?: number; color?: string }): string {
  const cacheKey = JSON.stringify(input);
  const hit = cache.get(cacheKey);
  if (hit !== undefined) return hit;
  const width = input.width ?? 640;
  const height = Math.max(60, input.rows.length * ROW_HEIGHT + 30);
  const longest = Math.max(2, ...input.rows.map((r) => [...r.label].length));
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: 'sans-serif', fontSize: 12 },
    grid: { left: Math.min(200, 12 + longest * 13), right: 80, top: 10, bottom: 20 },
    xAxis: { type: 'value', max: input.max, axisLabel: { color: '#555' }, splitLine: { lineStyle: { color: '#e5e5e5' } } },
    yAxis: { type: 'category', inverse: true, data: input.rows.map((r) => r.label), axisLabel: { color: '#222', width: 190, overflow: 'truncate' }, axisTick: { show: false } },
    series: [
      {
        type: 'bar',
        barMaxWidth: 18,
        itemStyle: { color: input.color ?? '#2f6db5' },
        label: { show: true, position: 'right', color: '#222', formatter: (p: { dataIndex: number }) => input.rows[p.dataIndex]?.text ?? '' },
        data: input.rows.map((r) => r.value),
      },
    ],
  });
  const svg = inlineSafe(chart.renderToSVGString(), input.id, input.title);
  chart.dispose();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(cacheKey, svg);
  return svg;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** ECharts' SVG made fit for inlining under `style-src 'self'`: no style attributes or elements, no editor metadata. */
export function inlineSafe(svg: string, id: string, title: string): string {
  return svg
    .replace(/<style\b[\s\S]*?<\/style>/g, '')
    .replace(/ style="([^"]*)"/g, (_, decl: string) =>
      decl
        .split(';')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => {
          const i = d.indexOf(':');
          const [prop, value] = [d.slice(0, i).trim(), d.slice(i + 1).trim()];
          return /^[a-z-]+$/.test(prop) ? ` ${prop}="${escapeXml(prop === 'font-size' ? value.replace(/px$/, '') : value)}"` : '';
        })
        .join(''),
    )
    .replace(/ (ecmeta_[a-z_]+|class|pointer-events)="[^"]*"/g, '')
    .replace(/^<svg /, `<svg id="${escapeXml(id)}" role="img" aria-labelledby="${escapeXml(id)}-title" `)
    .replace(/(<svg[^>]*>)/, `$1<title id="${escapeXml(id)}-title">${escapeXml(title)}</title>`)
    .replace(/\n+/g, '');
}
