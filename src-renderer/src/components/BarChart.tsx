import { useEffect, useRef, type JSX } from 'react';
import type { Chart } from 'chart.js';
import { barConfig, createBarChart, type BarSeries } from '../charts/simpleChart';

export interface BarChartProps {
  labels: string[];
  series: BarSeries[];
  yTitle: string;
  yMax?: number;
  caption: string;
  testId: string;
  /** Formats values in the table under the chart. */
  format?: (value: number) => string;
}

/**
 * A bar chart plus the same numbers as a table (screen readers, and a reading when there is no
 * canvas). The chart is created once; new data replaces the datasets and redraws without animation.
 */
export function BarChart({
  labels,
  series,
  yTitle,
  yMax,
  caption,
  testId,
  format,
}: BarChartProps): JSX.Element {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<'bar'> | null>(null);
  useEffect(() => {
    const config = barConfig(labels, series, yTitle, yMax);
    const chart = chartRef.current;
    if (chart) {
      chart.data = config.data;
      chart.update('none');
    } else if (canvasRef.current) {
      chartRef.current = createBarChart(canvasRef.current, config);
    }
  }, [labels, series, yTitle, yMax]);
  useEffect(
    () => () => {
      chartRef.current?.destroy();
      chartRef.current = null;
    },
    [],
  );
  const show = format ?? ((v: number) => String(v));
  return (
    <figure className="chart-figure" data-testid={testId}>
      <figcaption>{caption}</figcaption>
      <div className="chart">
        <canvas ref={canvasRef} role="img" aria-label={caption} />
      </div>
      {/* Focusable so keyboard users can scroll it (axe: scrollable-region-focusable). */}
      <div className="table-scroll" tabIndex={0} role="region" aria-label={`${caption}: table`}>
        <table className="chart-table">
          <thead>
            <tr>
              <th scope="col">{yTitle}</th>
              {labels.map((l) => (
                <th key={l} scope="col">
                  {l}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {series.map((s) => (
              <tr key={s.label}>
                <th scope="row">{s.label}</th>
                {s.values.map((v, i) => (
                  <td key={labels[i] ?? i}>{show(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
