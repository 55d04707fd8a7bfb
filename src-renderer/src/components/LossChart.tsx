import { useEffect, useRef, type JSX } from 'react';
import { LossChartController, type ChartFactory } from '../charts/lossChart';
import { useTrainingStore } from '../stores/training';

export interface LossChartProps {
  /** Test seam: replaces chart.js's Chart (jsdom has no canvas). */
  factory?: ChartFactory;
  /** Receives the controller, so tests can read what the chart holds. */
  onController?: (controller: LossChartController) => void;
}

/**
 * Live train + validation loss. The chart is created once per mount and fed from the training
 * store through a subscription, outside React rendering, so thousands of points never re-render
 * the page and each animation frame redraws at most once.
 */
export function LossChart({ factory, onController }: LossChartProps): JSX.Element {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const controller = new LossChartController(canvasRef.current, factory);
    onController?.(controller);
    controller.sync(useTrainingStore.getState().points);
    const unsubscribe = useTrainingStore.subscribe((state, previous) => {
      if (state.points !== previous.points) controller.sync(state.points);
    });
    return () => {
      unsubscribe();
      controller.destroy();
    };
  }, [factory, onController]);
  return (
    <div className="chart chart-tall" data-testid="loss-chart">
      <canvas ref={canvasRef} role="img" aria-label="Training and validation loss by step" />
    </div>
  );
}
