import type { ChartConfiguration } from 'chart.js';
import { Chart, canvasContext } from './setup';

export interface BarSeries {
  label: string;
  values: number[];
  /** One color, or one per bar. */
  color: string | string[];
}

/** Bar chart config shared by the evaluation charts: no animation, y from 0 (to yMax when given). */
export function barConfig(
  labels: string[],
  series: BarSeries[],
  yTitle: string,
  yMax?: number,
): ChartConfiguration<'bar'> {
  return {
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        y: {
          beginAtZero: true,
          ...(yMax !== undefined ? { max: yMax } : {}),
          title: { display: true, text: yTitle },
        },
      },
      plugins: { legend: { display: series.length > 1 } },
    },
  };
}

/** Creates a bar chart on the canvas, or null without a 2D context. */
export function createBarChart(
  canvas: HTMLCanvasElement,
  config: ChartConfiguration<'bar'>,
): Chart<'bar'> | null {
  const context = canvasContext(canvas);
  return context ? new Chart(context, config) : null;
}
