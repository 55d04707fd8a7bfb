// @vitest-environment jsdom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricPoint } from '../../src-shared/contract';
import { fakeApi, resetFakeApi } from './fakeApi';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { LossChartController, createLossChart } = await import('../../src-renderer/src/charts/lossChart');
type ControllerType = InstanceType<typeof LossChartController>;
const { LossChart } = await import('../../src-renderer/src/components/LossChart');
const { useTrainingStore, resetTrainingStore } = await import('../../src-renderer/src/stores/training');

/** Records what the controller asks of a chart (jsdom has no canvas to draw on). */
function recordingFactory(): {
  factory: (
    canvas: HTMLCanvasElement,
    train: { x: number; y: number }[],
    validation: { x: number; y: number }[],
  ) => {
    update: () => void;
    destroy: () => void;
  };
  created: { train: { x: number; y: number }[]; validation: { x: number; y: number }[] }[];
  updates: number[];
  destroyed: number[];
} {
  const created: { train: { x: number; y: number }[]; validation: { x: number; y: number }[] }[] = [];
  const updates: number[] = [];
  const destroyed: number[] = [];
  return {
    created,
    updates,
    destroyed,
    factory: (_canvas, train, validation) => {
      const index = created.push({ train, validation }) - 1;
      return {
        update: () => updates.push(train.length + validation.length),
        destroy: () => destroyed.push(index),
      };
    },
  };
}

/** A manual animation-frame queue. */
function frames(): {
  schedule: (cb: () => void) => number;
  cancel: (h: number) => void;
  flush: () => void;
  pending: () => number;
} {
  const queue = new Map<number, () => void>();
  let next = 1;
  return {
    schedule: (cb) => {
      queue.set(next, cb);
      return next++;
    },
    cancel: (h) => void queue.delete(h),
    flush: () => {
      const callbacks = [...queue.values()];
      queue.clear();
      for (const cb of callbacks) cb();
    },
    pending: () => queue.size,
  };
}

const p = (step: number, kind: 'train' | 'eval' = 'train', loss = 3 - step / 100): MetricPoint => ({
  step,
  kind,
  loss,
});

beforeEach(() => {
  resetFakeApi();
  resetTrainingStore();
});
afterEach(cleanup);

describe('LossChartController', () => {
  it('appends new points to the arrays the chart holds, one redraw per frame', () => {
    const rec = recordingFactory();
    const f = frames();
    const controller = new LossChartController(
      document.createElement('canvas'),
      rec.factory,
      f.schedule,
      f.cancel,
    );
    let points = [p(1), p(2)];
    controller.sync(points);
    points = [...points, p(3), p(4, 'eval')];
    controller.sync(points);
    expect(f.pending()).toBe(1); // two syncs, one frame
    f.flush();
    expect(rec.updates).toEqual([4]);
    expect(rec.created).toHaveLength(1);
    // The chart's arrays are the controller's arrays, grown in place (no new chart, no new arrays).
    expect(rec.created[0]?.train).toBe(controller.train);
    expect(controller.train.map((xy) => xy.x)).toEqual([1, 2, 3]);
    expect(controller.validation).toEqual([{ x: 4, y: 2.96 }]);
    controller.sync(points); // nothing new: no redraw
    expect(f.pending()).toBe(0);
  });

  it('rebuilds the series when the list changed other than at its end', () => {
    const rec = recordingFactory();
    const f = frames();
    const controller = new LossChartController(
      document.createElement('canvas'),
      rec.factory,
      f.schedule,
      f.cancel,
    );
    controller.sync([p(1), p(3)]);
    controller.sync([p(1), p(2), p(3)]); // a catch-up filled a gap
    f.flush();
    expect(controller.train.map((xy) => xy.x)).toEqual([1, 2, 3]);
    controller.sync([]); // another run
    f.flush();
    expect(controller.train).toHaveLength(0);
    expect(rec.created).toHaveLength(1);
  });

  it('keeps 5,000 points and redraws once for them', () => {
    const rec = recordingFactory();
    const f = frames();
    const controller = new LossChartController(
      document.createElement('canvas'),
      rec.factory,
      f.schedule,
      f.cancel,
    );
    let points: MetricPoint[] = [];
    for (let step = 1; step <= 5000; step += 1) {
      points = points.concat(p(step));
      controller.sync(points);
    }
    f.flush();
    expect(controller.train).toHaveLength(5000);
    expect(rec.updates).toEqual([5000]);
  });

  it('works without a 2D context (jsdom): no chart, data still tracked, no errors', () => {
    const getContext = vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
    const canvas = document.createElement('canvas');
    expect(createLossChart(canvas, [], [])).toBeNull();
    const controller = new LossChartController(canvas);
    controller.sync([p(1), p(2, 'eval')]);
    expect(controller.hasChart).toBe(false);
    expect(controller.train).toHaveLength(1);
    controller.destroy();
    getContext.mockRestore();
  });
});

describe('<LossChart>', () => {
  it('draws what the store already holds, then appends live metrics without re-creating the chart', async () => {
    const rec = recordingFactory();
    let controller: ControllerType | null = null;
    useTrainingStore.getState().setRun('run-1');
    useTrainingStore.setState({ points: [p(0, 'eval'), p(1), p(2)] });
    render(<LossChart factory={rec.factory} onController={(c) => (controller = c)} />);
    expect(screen.getByTestId('loss-chart')).toBeTruthy();
    const c = controller as unknown as ControllerType;
    expect(c.train).toHaveLength(2);
    act(() => {
      for (let step = 3; step <= 40; step += 1) {
        useTrainingStore.getState().receiveMetric({ runId: 'run-1', point: p(step) });
      }
      useTrainingStore.getState().receiveMetric({ runId: 'run-1', point: p(40, 'eval') });
    });
    expect(c.train.map((xy) => xy.x).slice(-2)).toEqual([39, 40]);
    expect(c.validation.map((xy) => xy.x)).toEqual([0, 40]);
    await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
    expect(rec.created).toHaveLength(1);
    expect(c.updates).toBeGreaterThanOrEqual(1);
    expect(c.updates).toBeLessThan(5); // throttled to frames, not once per metric
    cleanup();
    expect(rec.destroyed).toEqual([0]);
  });
});
