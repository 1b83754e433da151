// A uPlot chart in a React tree: built once per data and options, resized with its box.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function Chart({
  options,
  data,
  label,
  height = 300,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  label: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const size = () => ({ width: Math.max(280, element.clientWidth), height });
    const plot = new uPlot({ ...options, ...size() }, data, element);
    const observer = new ResizeObserver(() => plot.setSize(size()));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data, height]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}

/** Distinct colours with enough contrast on white, for up to ten series. */
export const PALETTE = ['#1f5fa8', '#b3451b', '#2d7a3e', '#7a3e9d', '#8a6d00', '#00727a', '#a3195b', '#555555', '#3b4cc0', '#9c4a00'];
