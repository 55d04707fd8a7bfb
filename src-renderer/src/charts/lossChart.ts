import type { ChartConfiguration } from 'chart.js';
import type { MetricPoint } from '../../../src-shared/contract';
import { Chart, canvasContext } from './setup';

export interface XY {
  x: number;
  y: number;
}

/** The part of a chart.js Chart the controller uses (a real Chart, or a recorder in tests). */
export interface ChartHandle {
  update(mode?: 'none'): void;
  destroy(): void;
}

export type ChartFactory = (canvas: HTMLCanvasElement, train: XY[], validation: XY[]) => ChartHandle | null;
export type FrameScheduler = (callback: () => void) => number;
export type FrameCanceller = (handle: number) => void;

/** Above this many points per dataset chart.js draws a min/max-decimated copy (4 px per point at 250). */
const DECIMATION_SAMPLES = 1000;

/** One frame at 60 Hz (ms), for environments without requestAnimationFrame. */
const FRAME_MS = 16;
const defaultSchedule: FrameScheduler = (cb) =>
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame(cb) : Number(setTimeout(cb, FRAME_MS));
const defaultCancel: FrameCanceller = (h) =>
  typeof cancelAnimationFrame === 'function' ? cancelAnimationFrame(h) : clearTimeout(h);

/** A line chart of train and validation loss by step, built once; animation off, decimated. */
export const createLossChart: ChartFactory = (canvas, train, validation) => {
  const context = canvasContext(canvas);
  if (!context) return null;
  const config: ChartConfiguration<'line', XY[]> = {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'train loss',
          data: train,
          borderColor: '#3b6fd8',
          backgroundColor: '#3b6fd8',
          borderWidth: 1.5,
          pointRadius: 0,
          indexAxis: 'x',
        },
        {
          label: 'validation loss',
          data: validation,
          borderColor: '#d8783b',
          backgroundColor: '#d8783b',
          borderWidth: 2,
          pointRadius: 3,
          indexAxis: 'x',
        },
      ],
    },
    options: {
      animation: false,
      // Decimation needs raw {x, y} data (no parsing) on a linear x axis, sorted by x.
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' } },
        y: { type: 'linear', title: { display: true, text: 'loss' } },
      },
      plugins: {
        decimation: { enabled: true, algorithm: 'min-max', threshold: DECIMATION_SAMPLES },
        legend: { position: 'top' },
      },
    },
  };
  return new Chart(context, config);
};

/**
 * Feeds a loss chart from the training store's point list without re-creating the chart: new points
 * are pushed onto the arrays chart.js already holds and one `update('none')` is scheduled per
 * animation frame however many points arrive in it. The arrays are this controller's own (chart.js's
 * decimation swaps `dataset.data` for a decimated copy, so pushing through `dataset.data` would be
 * wrong once decimation starts).
 */
export class LossChartController {
  readonly train: XY[] = [];
  readonly validation: XY[] = [];
  /** Number of chart updates run (each one a redraw). */
  updates = 0;
  private readonly chart: ChartHandle | null;
  private consumed = 0;
  private lastConsumed: MetricPoint | null = null;
  private frame: number | null = null;

  constructor(
    canvas: HTMLCanvasElement | null,
    private readonly factory: ChartFactory = createLossChart,
    private readonly schedule: FrameScheduler = defaultSchedule,
    private readonly cancelFrame: FrameCanceller = defaultCancel,
  ) {
    this.chart = canvas ? this.factory(canvas, this.train, this.validation) : null;
  }

  /** Whether a real chart was created (false without a 2D context). */
  get hasChart(): boolean {
    return this.chart !== null;
  }

  /**
   * Brings the chart in line with `points` (sorted by step, as the store keeps them). When the
   * list only grew, appends the tail; otherwise (another run, a catch-up that filled a gap) rebuilds.
   */
  sync(points: readonly MetricPoint[]): void {
    const grewOnly =
      points.length >= this.consumed &&
      (this.consumed === 0 || points[this.consumed - 1] === this.lastConsumed);
    if (!grewOnly) {
      this.train.length = 0;
      this.validation.length = 0;
      this.consumed = 0;
    }
    if (points.length === this.consumed && grewOnly) return;
    for (let i = this.consumed; i < points.length; i += 1) {
      const p = points[i] as MetricPoint;
      (p.kind === 'train' ? this.train : this.validation).push({ x: p.step, y: p.loss });
    }
    this.consumed = points.length;
    this.lastConsumed = points[points.length - 1] ?? null;
    this.requestUpdate();
  }

  destroy(): void {
    if (this.frame !== null) this.cancelFrame(this.frame);
    this.frame = null;
    this.chart?.destroy();
  }

  private requestUpdate(): void {
    if (this.frame !== null || !this.chart) return;
    this.frame = this.schedule(() => {
      this.frame = null;
      this.updates += 1;
      this.chart?.update('none');
    });
  }
}
